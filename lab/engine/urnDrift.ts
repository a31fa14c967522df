// What the real engine would do with the commands of a stack whose URNs changed: a URN
// that is gone is a resource it DELETES (running its delete on the host), a new one a
// resource it creates; an alias that names the old URN makes them one resource, moved.
// The unit tier holds the lab stack's command URNs against a reviewed list with this.
import { stackFreeUrn } from "../../host/urn";

/** One registered command: its URN and the URNs its aliases stand for. */
export interface UrnOf {
    readonly urn: string;
    readonly aliasUrns: readonly string[];
}

export interface UrnDrift {
    /** Reviewed URNs no command has now, nor names in an alias: the engine deletes them. */
    readonly gone: readonly string[];
    /** URNs not in the reviewed list and not an alias of one in it: the engine creates them. */
    readonly added: readonly string[];
}

/** Compares stack-free URNs (`<type chain>::<name>`), so one list serves every stack name. */
export function urnDrift(reviewed: readonly string[], now: readonly UrnOf[]): UrnDrift {
    const current = new Set(now.map((r) => stackFreeUrn(r.urn)));
    const aliased = new Set(now.flatMap((r) => r.aliasUrns.map(stackFreeUrn)));
    const known = new Set(reviewed);
    const movedFromKnown = new Set(now.filter((r) => r.aliasUrns.some((a) => known.has(stackFreeUrn(a)))).map((r) => stackFreeUrn(r.urn)));
    return {
        gone: reviewed.filter((u) => !current.has(u) && !aliased.has(u)).sort(),
        added: [...current].filter((u) => !known.has(u) && !movedFromKnown.has(u)).sort(),
    };
}

/** The failure message for a drift, saying what the engine would do and what to do; "" for none. */
export function urnDriftMessage(drift: UrnDrift, fixture: string): string {
    if (drift.gone.length === 0 && drift.added.length === 0) {
        return "";
    }
    return [
        `the commands' URNs differ from the reviewed list ${fixture}.`,
        ...drift.gone.map((u) => `  gone: ${u}\n        the engine would DELETE it (its delete runs on the host) unless a command names it in \`aliases\``),
        ...drift.added.map((u) => `  new:  ${u}\n        the engine would CREATE it`),
        "A command that moved (another parent, a renamed component type or name) keeps its state only with an alias:",
        "  pass `aliases: [{ parent: <old parent> }]` (or `{ type }`, `{ name }`) in its resource options.",
        `A command that is really new or really removed: update ${fixture} in the same change and say in the commit why no alias is needed.`,
    ].join("\n");
}
