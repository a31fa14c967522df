// Phase 7b: the SSH engine's update, failure and orphan paths on the lab stack.
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { checkNat, checkVip, fingerprint, WATCHED_FILES } from "./gateway-checks";
import { bash, engine, engineState, execOk, GW_LAN, labPhase, run, RUN_DIR, stackReplacing, STATE_FILE, summaryOf } from "./lab-helpers";

labPhase("7b: the engine's update, failure and orphan paths", () => {
    const keaSha = (): string => execOk("gw", "sha256sum", "/etc/kea/kea-dhcp4.conf");
    // The engine's state is keyed by URN, as the real engine's.
    const KEA_URN = "urn:pulumi:lab::homecloud::homecloud:network:Gateway$homecloud:network:DhcpServer$command:remote:Command::gateway-dhcp-config";
    const ORPHAN_URN = "urn:pulumi:lab::homecloud::homecloud:demo:Gone$command:remote:Command::zz-orphan";
    let filesBefore = "";

    it("a changed input updates just that command; a rejected one fails the run and records nothing", () => {
        const fp = fingerprint();
        filesBefore = fp.files;
        const longer = stackReplacing("longer-lease", ["homecloud:leaseSeconds: 600", "homecloud:leaseSeconds: 900"]);
        const s = summaryOf(engine("up", "update-up", { SSH_ENGINE_STACK_FILE: longer }));
        assert.deepStrictEqual({ created: s.created, updated: s.updated, deleted: s.deleted }, { created: 0, updated: 1, deleted: 0 });
        assert.match(fs.readFileSync(path.join(RUN_DIR, "update-up.log"), "utf8"), /^updated gateway-dhcp-config \[diff: ~stdin\]$/m);
        assert.match(execOk("gw", "cat", "/etc/kea/kea-dhcp4.conf"), /900/);
        const updatedSha = keaSha();
        assert.ok(!fp.files.includes(updatedSha.split(" ")[0]), "the Kea file did not change");
        const recorded = engineState().resources[KEA_URN].prints;

        const broken = stackReplacing("broken",
            ["homecloud:leaseSeconds: 600", "homecloud:leaseSeconds: 1200"], ["homecloud:lanInterface: lan0", "homecloud:lanInterface: nosuch0"]);
        const r = run("npx", ["ts-node", "lab/engine/sshEngine.ts", "up"], {
            env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "1", SSH_ENGINE_STACK_FILE: broken }, timeout: 300_000,
        });
        assert.strictEqual(r.code, 1, `a rejected command must fail the run:\n${r.stdout}${r.stderr}`);
        assert.match(r.stdout, /^FAILED gateway-dhcp-config \(exit 1\)$/m);
        assert.match(r.stderr, /rejected by its checker; the running configuration is untouched/);
        assert.match(r.stderr, /interface 'nosuch0' doesn't exist/);
        assert.strictEqual(keaSha(), updatedSha, "the rejected Kea config reached the gateway");
        // nft accepts any interface name; the ruleset's check does not.
        assert.doesNotMatch(execOk("gw", "cat", "/etc/homecloud/nat.nft"), /nosuch0/, "a ruleset for a missing interface was loaded");
        assert.deepStrictEqual(engineState().resources[KEA_URN].prints, recorded,
            "the failed command was recorded");
    });

    it("back to the stack: the same files as before; a resource no longer declared is deleted", () => {
        const state = engineState();
        state.resources[ORPHAN_URN] = {
            prints: {}, delete: "echo orphan > /tmp/homecloud-orphan-deleted", dependsOn: [],
            connection: { host: GW_LAN, port: 22, user: "pi" }, order: state.nextOrder + 1000, stdout: "", stderr: "",
        };
        fs.writeFileSync(STATE_FILE, JSON.stringify(state));
        const out = engine("up", "restore-up");
        const s = summaryOf(out);
        assert.strictEqual(s.failed, 0);
        assert.strictEqual(s.deleted, 1);
        assert.match(out, /^updated gateway-dhcp-config \[diff: ~stdin\]$/m);
        assert.match(out, /^ {2}delete urn:pulumi:lab::homecloud::homecloud:demo:Gone\$command:remote:Command::zz-orphan\ndeleted zz-orphan$/m);
        assert.strictEqual(execOk("gw", "cat", "/tmp/homecloud-orphan-deleted").trim(), "orphan");
        execOk("gw", "rm", "-f", "/tmp/homecloud-orphan-deleted");
        assert.ok(!(ORPHAN_URN in engineState().resources));
        const files = bash("gw", `sha256sum ${WATCHED_FILES}`).stdout;
        assert.strictEqual(files, filesBefore, "back on the stack, the files differ from before the update");
        assert.strictEqual(summaryOf(engine("up", "noop-up-2")).updated, 0);
        assert.strictEqual(bash("gw", `sha256sum ${WATCHED_FILES}`).stdout, files);
        checkNat();
        checkVip();
    });
});
