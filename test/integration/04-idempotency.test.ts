// Phase 7: a second `up` changes nothing, and forced re-runs of every install change nothing.
import * as assert from "assert";
import { fingerprint } from "./gateway-checks";
import { engine, labPhase, summaryOf } from "./lab-helpers";

labPhase("7: idempotency", () => {
    it("a second `up` changes nothing; forced re-runs of every install change nothing either", () => {
        const fp = fingerprint();
        const s = summaryOf(engine("up", "noop-up"));
        assert.deepStrictEqual(
            { created: s.created, updated: s.updated, deleted: s.deleted, failed: s.failed, remote: s["remote-commands"] },
            { created: 0, updated: 0, deleted: 0, failed: 0, remote: 0 });
        assert.ok(s.unchanged > 0);
        assert.deepStrictEqual(fingerprint(), fp, "no-op up touched files or restarted units");

        const f = summaryOf(engine("up", "force-up", { SSH_ENGINE_FORCE: "1" }));
        assert.strictEqual(f.forced, s.unchanged, "every command re-ran");
        assert.deepStrictEqual({ created: f.created, updated: f.updated, deleted: f.deleted, failed: f.failed },
            { created: 0, updated: 0, deleted: 0, failed: 0 });
        assert.deepStrictEqual(fingerprint(), fp, "re-running the installs touched files or restarted units");
    });
});
