// A stack file read the way `pulumi up` hands it to the program. The CLI reads every config
// value as a string first: a scalar exactly as written (`600`, `"600"` and `false` are "600",
// "600" and "false"), a list or map as JSON text, a `secure:` value as a secret only it can
// decrypt (pulumi sdk/go/common/resource/config/value.go, unmarshalValue). The program then
// parses the strings (config/load.ts, through `rawConfigFromValues`). And the CLI rewrites the
// file on `pulumi stack init` and `pulumi config set`, quoting scalars ("600", "false"), so a
// reader that trusts YAML's types sees another stack than `up` does. Whatever reads a stack
// file outside the engine (make diagram, the lab's plan, the tests) reads it here.
// Pure: no Pulumi import.
import { parse } from "yaml";
import { CONFIG_KEYS, CONFIG_SCHEMA, KeySpec, RawConfig } from "./schema";

/** The program's config namespace: keys in a stack file are `homecloud:<key>`. */
export const CONFIG_NAMESPACE = "homecloud";

export interface StackFileValues {
    /** Each plain value by its full key (`homecloud:leaseSeconds`), as the engine hands it to the program. */
    readonly values: Readonly<Record<string, string>>;
    /** Full keys of the encrypted (`secure:`) values, which only the CLI can read. */
    readonly secure: readonly string[];
}

/** A `{ secure: "<ciphertext>" }` map, or a list or map holding one: a secret. */
function holdsSecret(v: unknown): boolean {
    if (Array.isArray(v)) {
        return v.some(holdsSecret);
    }
    if (typeof v === "object" && v !== null) {
        const entries = Object.entries(v);
        return (entries.length === 1 && entries[0][0] === "secure" && typeof entries[0][1] === "string") ||
            entries.some(([, x]) => holdsSecret(x));
    }
    return false;
}

/** JSON as Go's encoding/json writes it for the CLI: map keys sorted, no spaces. */
function goJson(v: unknown): string {
    const sorted = (x: unknown): unknown => Array.isArray(x) ? x.map(sorted)
        : typeof x === "object" && x !== null
            ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, y]) => [k, sorted(y)]))
            : x;
    return JSON.stringify(sorted(v));
}

/** The config of a stack file's text as the engine hands it to the program. */
export function stackFileValues(text: string): StackFileValues {
    // The failsafe schema keeps every scalar as the text it was written as; the core schema
    // types the scalars inside lists and maps, as the CLI's YAML decoder does.
    const asWritten = (parse(text, { schema: "failsafe" })?.config ?? {}) as Record<string, unknown>;
    const typed = (parse(text)?.config ?? {}) as Record<string, unknown>;
    const values: Record<string, string> = {};
    const secure: string[] = [];
    for (const [key, written] of Object.entries(asWritten)) {
        if (typeof written === "string") {
            values[key] = written;
        } else if (holdsSecret(typed[key])) {
            secure.push(key);
        } else {
            values[key] = goJson(typed[key]);
        }
    }
    return { values, secure };
}

/** Lists, maps, numbers and booleans are JSON text; a value that is not JSON stays a string for the plan check to report. */
function parseLoose(v: string | undefined): unknown {
    if (v === undefined) {
        return undefined;
    }
    try {
        return JSON.parse(v);
    } catch {
        return v;
    }
}

/**
 * The program's configuration from the strings the engine hands it, by key without the
 * namespace (`get("leaseSeconds")`); secrets are left out, unset keys absent. loadConfig
 * reads pulumi.Config through this, so every reader sees what the program sees.
 */
export function rawConfigFromValues(get: (key: string) => string | undefined): RawConfig {
    const raw: RawConfig = {};
    for (const key of CONFIG_KEYS) {
        const spec: KeySpec = CONFIG_SCHEMA[key];
        const value = get(key);
        if (spec.secret || value === undefined) {
            continue;
        }
        raw[key] = spec.type === "string" ? value : parseLoose(value);
    }
    return raw;
}

/** A stack file's text read as `pulumi up` hands it to the program (secrets left out). */
export function stackFileRawConfig(text: string): RawConfig {
    const { values } = stackFileValues(text);
    return rawConfigFromValues((key) => values[`${CONFIG_NAMESPACE}:${key}`]);
}
