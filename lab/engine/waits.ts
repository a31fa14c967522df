// What a command registration must wait for: its own dependencies plus those of every
// ancestor component (a component's dependsOn holds back its children), expanded through
// components down to the commands they contain. Resources are known by URN, as the
// engine knows them.
import { Registration } from "./monitorTap";

/** URNs of the commands (of `commandType`) the registration `urn` waits for, sorted. */
export function commandsWaitedFor(sent: ReadonlyMap<string, Registration>, commandType: string, urn: string): string[] {
    const out = new Set<string>();
    const expand = (u: string, seen: Set<string>): void => {
        if (seen.has(u)) {
            return;
        }
        seen.add(u);
        if (sent.get(u)?.type === commandType) {
            out.add(u);
            return;
        }
        // A component: every resource registered under it.
        for (const r of sent.values()) {
            if (r.parent === u) {
                expand(r.urn, seen);
            }
        }
    };
    for (let u: string | undefined = urn; u;) {
        const r = sent.get(u);
        for (const d of r?.dependencies ?? []) {
            expand(d, new Set());
        }
        u = r?.parent || undefined;
    }
    return [...out].sort();
}
