// What the real Pulumi engine and `command:remote:Command` 1.2.1 do with a command whose
// inputs changed, as pure functions the lab's SSH engine follows and the unit tier tests.
// Each rule cites the source it comes from:
//
// [sdk]  node_modules/@pulumi/command/remote/command.js:132 — the Command constructor adds
//        `replaceOnChanges: ["triggers[*]"]` to the resource options (the provider's
//        provider/pkg/provider/common/inputs.go:10, tag v1.2.1, marks `Triggers` the same way).
// [diff] pulumi-go-provider v1.3.0 infer/resource.go:1155-1254 — any changed input is an
//        update (the command implements CustomUpdate); a changed replaceOnChanges input is a
//        replacement; DeleteBeforeReplace is never set by the provider.
// [upd]  pulumi-command v1.2.1 provider/pkg/provider/remote/commandController.go:63-83 —
//        Update runs `update` when set, else `create`, with the NEW inputs (stdin included).
// [del]  same file :86-92 — Delete runs the `delete` kept in the resource's OLD state.
// [eng]  pulumi v3.250.0 pkg/resource/deploy/step_generator.go:2101-2105 — a replacement
//        creates the new resource first; the old one's delete is generated after every
//        create and update has finished (GenerateDeletes :2230), unless deleteBeforeReplace
//        is set; ScheduleDeletes :2634 runs deletes in reverse dependency order.
// [ign]  pulumi pkg/resource/deploy/step_generator.go, processIgnoreChanges — every
//        ignoreChanges path gets its old value back before Check and Diff;
//        sdk/go/common/resource/properties_path.go, reset — a top-level "*" copies the old
//        inputs whole, so nothing differs: the resource is left as it is.
// [ret]  pulumi pkg/resource/deploy/step.go, DeleteStep.Apply — a resource whose (old)
//        state says RetainOnDelete is dropped without a provider call; SameStep.Apply
//        keeps the new registration's options in the state.

import * as crypto from "crypto";
import * as pulumi from "@pulumi/pulumi";

/** What the engine does with one command this run. */
export type CommandAction = "create" | "update" | "replace" | "same";

/** The inputs the provider compares; values may be anything JSON can hold. */
export type CommandInputs = Readonly<Record<string, unknown>>;

export interface CommandPlan {
    readonly action: CommandAction;
    /** Top-level inputs whose value changed, sorted. */
    readonly changed: readonly string[];
    /** Changed inputs that force the replacement, sorted. */
    readonly replaceKeys: readonly string[];
}

/**
 * A fingerprint per input (a hash), so that what is stored to compare later never holds a
 * secret value in clear. `__`-prefixed inputs are internal and ignored [diff].
 */
export type InputPrints = Readonly<Record<string, string>>;

/** Inputs as the provider sees them: secret markers taken off the values. */
export function unwrapSecrets(v: unknown): any {
    if (Array.isArray(v)) {
        return v.map(unwrapSecrets);
    }
    if (v && typeof v === "object") {
        const o = v as Record<string, unknown>;
        if (o[pulumi.runtime.specialSigKey] === pulumi.runtime.specialSecretSig) {
            return unwrapSecrets(o.value);
        }
        return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, unwrapSecrets(x)]));
    }
    return v;
}

/** One hash per input the provider compares [diff]; absent and internal `__` inputs left out. */
export function printInputs(inputs: Readonly<Record<string, unknown>>): InputPrints {
    return Object.fromEntries(Object.entries(unwrapSecrets(inputs) as Record<string, unknown>)
        .filter(([k, v]) => !k.startsWith("__") && v !== undefined && v !== null)
        .map(([k, v]) => [k, crypto.createHash("sha256").update(JSON.stringify(v)).digest("hex")]));
}

/**
 * The prints of `next` with every ignored top-level input put back to its old print [ign], so
 * a change there is no change. (The engine keeps prints, not values: a command whose other
 * inputs change too runs with the new value of an ignored one, where Pulumi sends the old.)
 */
export function keepIgnored(previous: InputPrints | undefined, next: InputPrints, ignoreChanges: readonly string[]): InputPrints {
    if (previous === undefined || ignoreChanges.length === 0) {
        return next;
    }
    const out: Record<string, string> = { ...next };
    for (const key of ignoreChanges) {
        if (previous[key] === undefined) {
            delete out[key];
        } else {
            out[key] = previous[key];
        }
    }
    return out;
}

/** Whether the changed top-level input `key` matches a replaceOnChanges path like `triggers[*]`. */
function forcesReplace(key: string, replaceOnChanges: readonly string[]): boolean {
    return replaceOnChanges.some((p) => p === "*" || p === key || p.startsWith(`${key}[`) || p.startsWith(`${key}.`));
}

/** Decides create, update, replace or nothing for one command [diff]; `ignoreChanges: ["*"]` keeps it as it is [ign]. */
export function planCommand(
    previous: InputPrints | undefined, next: InputPrints, replaceOnChanges: readonly string[],
    ignoreChanges: readonly string[] = [],
): CommandPlan {
    if (previous === undefined) {
        return { action: "create", changed: [], replaceKeys: [] };
    }
    if (ignoreChanges.includes("*")) {
        return { action: "same", changed: [], replaceKeys: [] };
    }
    const keys = new Set([...Object.keys(previous), ...Object.keys(next)].filter((k) => !k.startsWith("__")));
    const changed = [...keys].filter((k) => previous[k] !== next[k]).sort();
    const replaceKeys = changed.filter((k) => forcesReplace(k, replaceOnChanges));
    const action: CommandAction = replaceKeys.length > 0 ? "replace" : changed.length > 0 ? "update" : "same";
    return { action, changed, replaceKeys };
}

/** The script a command runs for an action [upd]; none for a resource left as it is. */
export function scriptFor(action: CommandAction, inputs: { create?: string; update?: string }): string | undefined {
    switch (action) {
        case "create":
        case "replace":
            return inputs.create;
        case "update":
            return inputs.update ?? inputs.create;
        case "same":
            return undefined;
        default:
            return unreachable(action);
    }
}

function unreachable(x: never): never {
    throw new Error(`unknown command action ${JSON.stringify(x)}`);
}

/** A resource to delete: its name and the names of the resources it depended on. */
export interface Deletable {
    readonly name: string;
    readonly dependsOn: readonly string[];
}

/**
 * Orders deletes so that a resource goes before everything it depended on [eng]: the
 * reverse of a dependency order. Among independent resources, newer (later in `items`)
 * goes first. Dependencies outside `items` do not constrain the order.
 */
export function deleteOrder<T extends Deletable>(items: readonly T[]): T[] {
    const names = new Set(items.map((i) => i.name));
    // Dependents of each item, within the set.
    const dependents = new Map<string, Set<string>>(items.map((i) => [i.name, new Set<string>()]));
    for (const i of items) {
        for (const d of i.dependsOn) {
            if (names.has(d) && d !== i.name) {
                dependents.get(d)!.add(i.name);
            }
        }
    }
    const done = new Set<string>();
    const out: T[] = [];
    while (out.length < items.length) {
        // The newest item whose dependents are all deleted already.
        const next = [...items].reverse().find((i) => !done.has(i.name) && [...dependents.get(i.name)!].every((d) => done.has(d)));
        if (next === undefined) {
            throw new Error(`dependency cycle among ${items.filter((i) => !done.has(i.name)).map((i) => i.name).join(", ")}`);
        }
        done.add(next.name);
        out.push(next);
    }
    return out;
}
