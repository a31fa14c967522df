// Paths both halves name: the TypeScript that renders a step and the host script that runs
// it. Each is defined once per language, and this ties the two: the shell's assignment
// holds the TypeScript constant's value, and no other script or program file spells the
// path out instead of using its name (comments aside).
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { K3S_KUBECONFIG_PATH, K3S_SERVER_TOKEN_PATH } from "../../cluster/k3sConfig";
import { STATE_DIR } from "../../host/hostFile";
import { CA_DIR, PKI_DIR, TRUST_FILE } from "../../pki/pkiSteps";

const REPO = path.resolve(__dirname, "..", "..");

interface Shared {
    /** The TypeScript constant, and the file that defines it. */
    readonly ts: { readonly name: string; readonly value: string; readonly file: string };
    /** The shell variable, and the script that assigns it. */
    readonly sh: { readonly name: string; readonly file: string };
}

const SHARED: readonly Shared[] = [
    { ts: { name: "STATE_DIR", value: STATE_DIR, file: "host/hostFile.ts" }, sh: { name: "HC_STATE", file: "host/scripts/lib.sh" } },
    { ts: { name: "PKI_DIR", value: PKI_DIR, file: "pki/pkiSteps.ts" }, sh: { name: "PKI_DIR", file: "pki/lib.sh" } },
    { ts: { name: "CA_DIR", value: CA_DIR, file: "pki/pkiSteps.ts" }, sh: { name: "CA_DIR", file: "pki/lib.sh" } },
    { ts: { name: "TRUST_FILE", value: TRUST_FILE, file: "pki/pkiSteps.ts" }, sh: { name: "TRUST_FILE", file: "pki/lib.sh" } },
    { ts: { name: "K3S_KUBECONFIG_PATH", value: K3S_KUBECONFIG_PATH, file: "cluster/k3sConfig.ts" }, sh: { name: "K3S_KUBECONFIG", file: "cluster/k3s-node.sh" } },
    { ts: { name: "K3S_SERVER_TOKEN_PATH", value: K3S_SERVER_TOKEN_PATH, file: "cluster/k3sConfig.ts" }, sh: { name: "K3S_SERVER_TOKEN", file: "cluster/k3s-node.sh" } },
];

/** Top-level directories that are not the program: tests, the lab, setup scripts, the example consumer. */
const NOT_PROGRAM = ["node_modules", "test", "lab", "scripts", "examples"];

/** The program's own files of one kind: what goes to hosts (.sh), or what renders it (.ts). */
function programFiles(ext: string): string[] {
    const out: string[] = [];
    const walk = (dir: string): void => {
        for (const e of fs.readdirSync(path.join(REPO, dir), { withFileTypes: true })) {
            const rel = dir ? `${dir}/${e.name}` : e.name;
            if (e.isDirectory() && !(dir === "" && NOT_PROGRAM.includes(e.name)) && !e.name.startsWith(".")) {
                walk(rel);
            } else if (e.isFile() && e.name.endsWith(ext)) {
                out.push(rel);
            }
        }
    };
    walk("");
    return out.sort();
}

/** The lines of a file that are code, not comments. */
function codeLines(rel: string): string[] {
    const comment = rel.endsWith(".sh") ? /^\s*#/ : /^\s*(\/\/|\/\*|\*)/;
    return fs.readFileSync(path.join(REPO, rel), "utf8").split("\n").filter((l) => !comment.test(l));
}

describe("paths shared by the TypeScript and the host scripts", () => {
    const scripts = programFiles(".sh");
    const programs = programFiles(".ts");

    it("finds the program's scripts and files", () => {
        for (const { ts, sh } of SHARED) {
            assert.ok(scripts.includes(sh.file), sh.file);
            assert.ok(programs.includes(ts.file), ts.file);
        }
    });

    for (const { ts, sh } of SHARED) {
        it(`${sh.file}'s ${sh.name} is ${ts.file}'s ${ts.name} (${ts.value})`, () => {
            const assignments = codeLines(sh.file).filter((l) => l.startsWith(`${sh.name}=`));
            assert.deepStrictEqual(assignments, [`${sh.name}=${ts.value}`]);
        });

        it(`no other script or program file spells out ${ts.value}`, () => {
            const spelled = (rel: string): boolean => codeLines(rel).some((l) => l.includes(ts.value) && !l.startsWith(`${sh.name}=`));
            assert.deepStrictEqual(scripts.filter(spelled), [], `use $${sh.name} (${sh.file})`);
            const defining = programs.filter((rel) => codeLines(rel).some((l) => l.includes(ts.value)));
            assert.deepStrictEqual(defining, [ts.file], `use ${ts.name} (${ts.file})`);
        });
    }
});
