// Fixtures a person approves: a rendered text is compared with the file committed for it.
// With UPDATE_FIXTURES=1 a differing file is rewritten, and the test still fails, naming the
// file, so every rewrite is reviewed (git diff) before a run without UPDATE_FIXTURES passes;
// a run can never approve what it just wrote. A fixture directory may hold only files
// something renders: a leftover one fails, named.
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";

const REPO = path.resolve(__dirname, "..");

/** Whether this run rewrites differing fixtures (UPDATE_FIXTURES=1). */
export function updating(): boolean {
    return process.env.UPDATE_FIXTURES === "1";
}

const rel = (file: string): string => path.relative(REPO, file) || file;

/**
 * The file `file` must read as `want(current)`, given what it holds now (undefined: no file).
 * For a whole-file fixture `want` ignores its argument; for a rendered section of a larger
 * file (a README table) it splices the section into the current text.
 */
export function assertApproved(file: string, want: (current: string | undefined) => string): void {
    const current = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : undefined;
    const wanted = want(current);
    if (current === wanted) {
        return;
    }
    if (updating()) {
        fs.mkdirSync(path.dirname(file), { recursive: true });
        fs.writeFileSync(file, wanted);
        assert.fail(`${rel(file)} ${current === undefined ? "written" : "rewritten"} (UPDATE_FIXTURES=1): ` +
            `review it with \`git diff -- ${rel(file)}\`, then run again without UPDATE_FIXTURES`);
    }
    assert.ok(current !== undefined, `${rel(file)} is missing: run with UPDATE_FIXTURES=1 to write it, and review it`);
    assert.strictEqual(current, wanted,
        `${rel(file)} is not what is rendered now: if the change is meant, run with UPDATE_FIXTURES=1 and review the diff`);
}

/** A whole-file fixture: `file` holds exactly `text`. */
export function assertFixture(file: string, text: string): void {
    assertApproved(file, () => text);
}

/** `dir` holds only the files named in `rendered` (each a name inside it): anything else is a leftover nothing renders. */
export function assertNoOrphans(dir: string, rendered: Iterable<string>): void {
    const known = new Set(rendered);
    const orphans = fs.readdirSync(dir).filter((f) => !known.has(f)).sort().map((f) => rel(path.join(dir, f)));
    assert.deepStrictEqual(orphans, [], `nothing renders ${orphans.join(", ")}: remove it (git rm), or render it in a test`);
}
