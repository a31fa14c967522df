// What a command registration must wait for: its own dependencies plus those of every
// ancestor component (a component's dependsOn holds back its children), expanded through
// components down to the commands they contain. Names only: "<type>::<name>" keys.
import { Registration } from "./monitorTap";

/** `urn:pulumi:<stack>::<project>::<parent types $ type>::<name>` → `<type>::<name>`. */
function keyOfUrn(urn: string): string {
    const parts = urn.split("::");
    const types = parts[2].split("$");
    return `${types[types.length - 1]}::${parts[3]}`;
}

/** Names of the commands (of `commandType`) the registration `key` waits for, sorted. */
export function commandsWaitedFor(sent: ReadonlyMap<string, Registration>, commandType: string, key: string): string[] {
    const out = new Set<string>();
    const expand = (k: string, seenKeys: Set<string>): void => {
        if (seenKeys.has(k)) {
            return;
        }
        seenKeys.add(k);
        if (k.startsWith(`${commandType}::`)) {
            out.add(k.slice(commandType.length + 2));
            return;
        }
        // A component: every command registered under it.
        for (const [ck, r] of sent) {
            if (r.parent && keyOfUrn(r.parent) === k) {
                expand(ck, seenKeys);
            }
        }
    };
    for (let k: string | undefined = key; k;) {
        const r = sent.get(k);
        for (const d of r?.dependencies ?? []) {
            expand(keyOfUrn(d), new Set());
        }
        k = r?.parent ? keyOfUrn(r.parent) : undefined;
    }
    return [...out].sort();
}
