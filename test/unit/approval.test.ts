// The fixture approval the render, schema and diagram tests use: a rewrite with
// UPDATE_FIXTURES=1 fails, naming the file; a leftover fixture fails, named.
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { assertApproved, assertFixture, assertNoOrphans } from "../approval";

describe("fixture approval", () => {
    let dir = "";
    let saved: string | undefined;
    const file = (): string => path.join(dir, "a.conf");
    const withUpdate = (value: string | undefined, f: () => void): void => {
        const before = process.env.UPDATE_FIXTURES;
        if (value === undefined) {
            delete process.env.UPDATE_FIXTURES;
        } else {
            process.env.UPDATE_FIXTURES = value;
        }
        try {
            f();
        } finally {
            if (before === undefined) {
                delete process.env.UPDATE_FIXTURES;
            } else {
                process.env.UPDATE_FIXTURES = before;
            }
        }
    };
    /** The message of the assertion `f` fails with. */
    const failure = (f: () => void): string => {
        try {
            f();
        } catch (e) {
            assert.ok(e instanceof assert.AssertionError, `${e}`);
            return e.message;
        }
        assert.fail("it passed");
    };

    beforeEach(() => {
        saved = process.env.UPDATE_FIXTURES;
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "hc-approval-"));
        fs.writeFileSync(file(), "old\n");
    });
    afterEach(() => {
        fs.rmSync(dir, { recursive: true, force: true });
        assert.strictEqual(process.env.UPDATE_FIXTURES, saved, "the test put UPDATE_FIXTURES back");
    });

    it("passes when the file holds the rendered text, and writes nothing, with or without UPDATE_FIXTURES", () => {
        const mtime = fs.statSync(file()).mtimeMs;
        withUpdate(undefined, () => assertFixture(file(), "old\n"));
        withUpdate("1", () => assertFixture(file(), "old\n"));
        assert.strictEqual(fs.statSync(file()).mtimeMs, mtime);
    });

    it("without UPDATE_FIXTURES a difference fails, says how to approve it, and leaves the file", () => {
        const msg = withUpdateFailure(undefined, () => assertFixture(file(), "new\n"));
        assert.match(msg, /a\.conf is not what is rendered now: if the change is meant, run with UPDATE_FIXTURES=1 and review the diff/);
        assert.strictEqual(fs.readFileSync(file(), "utf8"), "old\n");
    });

    it("with UPDATE_FIXTURES=1 a difference is written and still fails, naming the file and the review", () => {
        const msg = withUpdateFailure("1", () => assertFixture(file(), "new\n"));
        assert.strictEqual(fs.readFileSync(file(), "utf8"), "new\n");
        const shown = path.relative(path.resolve(__dirname, "..", ".."), file());
        assert.strictEqual(msg, `${shown} rewritten (UPDATE_FIXTURES=1): review it with \`git diff -- ${shown}\`, ` +
            "then run again without UPDATE_FIXTURES");
        // The next run, without UPDATE_FIXTURES, passes on what was written and reviewed.
        withUpdate(undefined, () => assertFixture(file(), "new\n"));
    });

    it("a missing fixture fails; with UPDATE_FIXTURES=1 it is written, and fails too", () => {
        const missing = path.join(dir, "sub", "b.conf");
        assert.match(withUpdateFailure(undefined, () => assertFixture(missing, "b\n")), /sub\/b\.conf is missing: run with UPDATE_FIXTURES=1/);
        assert.match(withUpdateFailure("1", () => assertFixture(missing, "b\n")), /sub\/b\.conf written \(UPDATE_FIXTURES=1\): review it/);
        assert.strictEqual(fs.readFileSync(missing, "utf8"), "b\n");
    });

    it("a rendered section is spliced into the current text", () => {
        fs.writeFileSync(file(), "head\n<!-- s -->old<!-- e -->\ntail\n");
        const splice = (text = ""): string => text.replace(/<!-- s -->.*<!-- e -->/, "<!-- s -->new<!-- e -->");
        withUpdateFailure("1", () => assertApproved(file(), splice));
        assert.strictEqual(fs.readFileSync(file(), "utf8"), "head\n<!-- s -->new<!-- e -->\ntail\n");
        withUpdate(undefined, () => assertApproved(file(), splice));
    });

    it("a file in a fixture directory that nothing renders fails, named", () => {
        fs.writeFileSync(path.join(dir, "b.conf"), "b\n");
        fs.writeFileSync(path.join(dir, "stale.conf"), "stale\n");
        const msg = failure(() => assertNoOrphans(dir, ["a.conf", "b.conf"]));
        const shown = path.relative(path.resolve(__dirname, "..", ".."), path.join(dir, "stale.conf"));
        assert.match(msg, new RegExp(`^nothing renders ${shown.replace(/[.]/g, "\\.")}: remove it \\(git rm\\), or render it in a test`));
        fs.rmSync(path.join(dir, "stale.conf"));
        assertNoOrphans(dir, ["a.conf", "b.conf"]);
    });

    /** The failure of `f` run with UPDATE_FIXTURES as given. */
    function withUpdateFailure(value: string | undefined, f: () => void): string {
        let msg = "";
        withUpdate(value, () => {
            msg = failure(f);
        });
        return msg;
    }
});
