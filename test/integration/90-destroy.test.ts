// Phase 8, the last: destroy gives back the gateway as it was before the first `up`.
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { STATE_DIR } from "../../host/hostFile";
import { PKI_TOOLKIT_DIR, TOOLKIT_DIR } from "../../host/toolkit";
import { CA_DIR, PKI_DIR, TRUST_FILE } from "../../pki/pkiSteps";
import { bash, changes, engine, engineState, exec, execOk, labPhase, run, RUN_DIR, stackWith, summaryOf, TRUST_HOSTS } from "./lab-helpers";

labPhase("8: destroy", () => {
    /** A line of the CA certificate, to look for in every trust store after destroy. */
    let caLine = "";
    it("with caDestroy set, an up changes only what the CA's delete will do", () => {
        caLine = execOk("gw", "sed", "-n", "2p", `${CA_DIR}/ca.crt`).trim();
        assert.match(caLine, /^[A-Za-z0-9+/=]{20,}$/);
        const f = stackWith("ca-destroy", "caDestroy", "true");
        engine("up", "ca-destroy-up", { SSH_ENGINE_STACK_FILE: f });
        assert.deepStrictEqual(changes("ca-destroy-up"), ["updated pki-ca [diff: ~delete]"]);
    });

    it("gives back the gateway exactly as before the first up", () => {
        const out = engine("destroy", "destroy");
        const s = summaryOf(out);
        assert.strictEqual(s.failed, 0);
        assert.ok(s.deleted > 0);
        const state = engineState();
        assert.deepStrictEqual(state.resources, {});
        const after = path.join(RUN_DIR, "after");
        fs.rmSync(after, { recursive: true, force: true });
        const r = run("bash", ["lab/snapshot.sh", after]);
        assert.strictEqual(r.code, 0, r.stderr);
        for (const f of ["etc.sha256", "nft.txt", "enabled.txt", "ip_forward.txt", "addr.txt", ...TRUST_HOSTS.map((h) => `trust-${h}.txt`)]) {
            const d = run("diff", ["-u", path.join(RUN_DIR, "before", f), path.join(after, f)]);
            assert.strictEqual(d.code, 0, `gw ${f} differs after destroy:\n${d.stdout}`);
        }
        const leftovers = run("lab/exec", ["gw", "sh", "-c", `ls -A ${STATE_DIR} 2>&1; echo rc=$?`]);
        assert.strictEqual(leftovers.stdout.trim().split("\n").pop(), "rc=2", `bookkeeping left on gw: ${leftovers.stdout}`);
        assert.notStrictEqual(exec("gw", "test", "-e", TOOLKIT_DIR).code, 0, "the toolkit is left on gw");
    });

    it("the CA is out of every trust store; no host keeps a key, certificate, CA or PKI toolkit", () => {
        assert.ok(caLine, "the caDestroy step ran first");
        for (const host of TRUST_HOSTS) {
            for (const p of [path.dirname(PKI_DIR), TRUST_FILE, PKI_TOOLKIT_DIR, STATE_DIR]) {
                assert.notStrictEqual(exec(host, "test", "-e", p).code, 0, `${host}: ${p} is left`);
            }
            assert.strictEqual(bash(host, "ls -l /etc/ssl/certs | grep -c homecloud || true").stdout.trim(), "0", `${host}: a link to the CA is left`);
            assert.strictEqual(bash(host, `grep -cF -- '${caLine}' /etc/ssl/certs/ca-certificates.crt || true`).stdout.trim(), "0",
                `${host}: the CA is in the bundle`);
        }
    });
});
