// The rules the lab's SSH engine follows to play the real engine with the command provider.
import * as assert from "assert";
import { deleteOrder, keepIgnored, planCommand, printInputs, scriptFor, unwrapSecrets } from "../../lab/engine/commandSemantics";
import * as pulumi from "@pulumi/pulumi";
import { dialDelayMs, dialLimitReached } from "../../lab/engine/ssh";

const base = { create: "c", update: "u", delete: "d", stdin: "one", connection: { host: "h" } };
const TRIGGERS = ["triggers[*]"];

describe("command semantics (what the real engine does with a changed command)", () => {
    it("a command seen for the first time is created", () => {
        assert.deepStrictEqual(planCommand(undefined, printInputs(base), TRIGGERS), { action: "create", changed: [], replaceKeys: [] });
    });

    it("unchanged inputs run nothing", () => {
        assert.deepStrictEqual(planCommand(printInputs(base), printInputs({ ...base }), TRIGGERS),
            { action: "same", changed: [], replaceKeys: [] });
    });

    it("a changed stdin, script, connection or environment is an update", () => {
        for (const [key, value] of [["stdin", "two"], ["create", "c2"], ["delete", "d2"], ["connection", { host: "h2" }],
            ["environment", { A: "1" }]] as const) {
            assert.deepStrictEqual(planCommand(printInputs(base), printInputs({ ...base, [key]: value }), TRIGGERS),
                { action: "update", changed: [key], replaceKeys: [] }, key);
        }
    });

    it("a changed, added or removed trigger is a replacement, even with `update` set", () => {
        const withTriggers = { ...base, triggers: ["a"] };
        assert.deepStrictEqual(planCommand(printInputs(withTriggers), printInputs({ ...base, stdin: "two", triggers: ["b"] }), TRIGGERS),
            { action: "replace", changed: ["stdin", "triggers"], replaceKeys: ["triggers"] });
        assert.strictEqual(planCommand(printInputs(base), printInputs(withTriggers), TRIGGERS).action, "replace");
        assert.strictEqual(planCommand(printInputs(withTriggers), printInputs(base), TRIGGERS).action, "replace");
        // Without replaceOnChanges (not what @pulumi/command registers) the same change is an update.
        assert.strictEqual(planCommand(printInputs(withTriggers), printInputs({ ...base, triggers: ["b"] }), []).action, "update");
    });

    it("an input in ignoreChanges keeps its old value once the command exists: its change runs nothing", () => {
        const old = printInputs(base);
        const changed = printInputs({ ...base, connection: { host: "h2" }, create: "c2" });
        const kept = keepIgnored(old, changed, ["connection", "create"]);
        assert.deepStrictEqual(kept, old);
        assert.deepStrictEqual(planCommand(old, kept, TRIGGERS), { action: "same", changed: [], replaceKeys: [] });
        // Another input still counts; a new command takes every input as given.
        assert.strictEqual(planCommand(old, keepIgnored(old, printInputs({ ...base, stdin: "two", create: "c2" }), ["create"]), TRIGGERS).action, "update");
        assert.deepStrictEqual(keepIgnored(undefined, changed, ["connection"]), changed);
    });

    it("internal __ inputs are ignored", () => {
        assert.strictEqual(planCommand(printInputs(base), printInputs({ ...base, __mockStdout: "x" }), TRIGGERS).action, "same");
    });

    it("an update runs `update`, else `create`; a create or a replacement runs `create`", () => {
        assert.strictEqual(scriptFor("update", { create: "c", update: "u" }), "u");
        assert.strictEqual(scriptFor("update", { create: "c" }), "c");
        assert.strictEqual(scriptFor("create", { create: "c", update: "u" }), "c");
        assert.strictEqual(scriptFor("replace", { create: "c", update: "u" }), "c");
        assert.strictEqual(scriptFor("same", { create: "c", update: "u" }), undefined);
    });

    it("prints hold hashes, never the values, and ignore the secret marker", () => {
        const secret = unwrapSecrets({ stdin: { [pulumi.runtime.specialSigKey]: pulumi.runtime.specialSecretSig, value: "token" } });
        assert.deepStrictEqual(secret, { stdin: "token" });
        const prints = printInputs({ stdin: { [pulumi.runtime.specialSigKey]: pulumi.runtime.specialSecretSig, value: "token" } });
        assert.deepStrictEqual(prints, printInputs({ stdin: "token" }));
        assert.ok(!JSON.stringify(prints).includes("token"));
    });

    it("deletes run dependents first, newest first among independent ones", () => {
        const items = [
            { name: "packages", dependsOn: [] },
            { name: "zone", dependsOn: ["packages"] },
            { name: "options", dependsOn: ["packages", "zone"] },
            { name: "forwarding", dependsOn: [] },
            { name: "local", dependsOn: ["zone", "options", "elsewhere"] },
        ];
        assert.deepStrictEqual(deleteOrder(items).map((i) => i.name), ["local", "forwarding", "options", "zone", "packages"]);
        assert.throws(() => deleteOrder([{ name: "a", dependsOn: ["b"] }, { name: "b", dependsOn: ["a"] }]),
            { message: "dependency cycle among a, b" });
    });

    it("dials as the provider does: a limit of N gives up after N + 1 failed dials, -1 never; waits grow 1.5x from 100 ms to 5 s", () => {
        assert.deepStrictEqual([1, 2, 3].map((d) => dialLimitReached(d, 2)), [false, false, true]);
        assert.deepStrictEqual([60, 61].map((d) => dialLimitReached(d, 60)), [false, true]);
        assert.strictEqual(dialLimitReached(10_000, -1), false);
        assert.deepStrictEqual([1, 2, 3, 4].map(dialDelayMs), [100, 150, 225, 337.5]);
        assert.strictEqual(dialDelayMs(30), 5000);
    });
});
