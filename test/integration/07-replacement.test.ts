// Phase 7d: the engine follows the command provider's replacement semantics (a one-file program).
import * as assert from "assert";
import * as path from "path";
import { STATE_DIR } from "../../host/hostFile";
import { engine, exec, labPhase, REPO, Result, run, RUN_DIR } from "./lab-helpers";

labPhase("7d: the engine follows the command provider's replacement semantics", () => {
    const replay = (shape: "old" | "current", content: string, label: string): string => engine("up", label, {
        SSH_ENGINE_PROGRAM: path.join(REPO, "test/integration/fixtures/replayProgram"),
        SSH_ENGINE_STATE: path.join(RUN_DIR, `replay-${shape}.json`),
        REPLAY_SHAPE: shape, REPLAY_CONTENT: content,
    });
    const replayFile = (): Result => exec("gw", "cat", "/etc/homecloud-replay.conf");

    it("the old hostFile shape (triggers on the content hash): a content change replaces it, and the old delete undoes the new file", () => {
        assert.match(replay("old", "first\n", "replay-old-1"), /^created replay-file$/m);
        assert.strictEqual(replayFile().stdout, "first\n");
        const out = replay("old", "second\n", "replay-old-2");
        assert.match(out, /^replaced replay-file \[diff: ~stdin,triggers\]$/m);
        assert.match(out, /^deleted replay-file \(replaced\)$/m);
        assert.ok(out.indexOf("replaced replay-file") < out.indexOf("deleted replay-file (replaced)"), "create before delete");
        assert.notStrictEqual(replayFile().code, 0, "the old delete left the file in place; the real engine removes it");
        engine("destroy", "replay-old-destroy", { SSH_ENGINE_STATE: path.join(RUN_DIR, "replay-old.json") });
    });

    it("today's hostFile: the same change is one in-place update and the file stays", () => {
        assert.match(replay("current", "first\n", "replay-current-1"), /^created replay-file$/m);
        assert.strictEqual(replayFile().stdout, "first\n");
        const out = replay("current", "second\n", "replay-current-2");
        assert.match(out, /^updated replay-file \[diff: ~stdin\]$/m);
        assert.doesNotMatch(out, /^(replaced|deleted) /m);
        assert.strictEqual(replayFile().stdout, "second\n");
        engine("destroy", "replay-current-destroy", { SSH_ENGINE_STATE: path.join(RUN_DIR, "replay-current.json") });
        assert.notStrictEqual(replayFile().code, 0, "destroy removes the file");
        const leftovers = run("lab/exec", ["gw", "sh", "-c", `ls -A ${STATE_DIR}/original/etc 2>/dev/null | grep -c replay || true`]);
        assert.strictEqual(leftovers.stdout.trim(), "0");
    });
});
