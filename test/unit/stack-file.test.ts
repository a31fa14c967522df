// A stack file the CLI wrote is still a stack file. After `pulumi stack init` and
// `pulumi config set` the CLI rewrites the whole file from its config values, which are
// strings (pulumi sdk/go/common/resource/config/value.go: a scalar is unmarshalled as a
// string first; a list or map is kept as JSON and written back as YAML): `600` comes back
// as "600", `false` as "false". Every reader of a stack file outside the engine must see
// the plan `pulumi up` gives the program, from the file as committed and as the CLI wrote it.
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { Document, isScalar, parse, visit } from "yaml";
import { loadConfig } from "../../config/load";
import { AddressPlan } from "../../config/plan";
import { rawConfigFromValues, stackFileRawConfig, stackFileValues } from "../../config/stackFile";
import { parseAddressPlan } from "../../config/validate";
import { labPlan } from "../../lab/plan";
import { stackFileConfig } from "../../scripts/network-diagram";
import { problems } from "../assertions";
import { stackFile } from "../program";

const REPO = path.resolve(__dirname, "..", "..");
const STACK_FILES = fs.readdirSync(REPO).filter((f) => /^Pulumi\.[^.]+\.yaml$/.test(f)).sort();
/** What `pulumi config set --secret homecloud:sshPrivateKey < key` adds: ciphertext only the CLI can read. */
const SECRET_LINE = { "homecloud:sshPrivateKey": { secure: "v1:c2FsdA==:Y2lwaGVydGV4dA==" } };

type Style = "flow" | "block";

/**
 * The stack file as the CLI writes it back: each value a string (scalars as written,
 * quoted where YAML would read them as another type), lists and maps as YAML from their
 * JSON (maps' keys sorted, as yaml.v3 writes a Go map), with the encrypted SSH key added.
 * `flow` writes maps inside values and lists of scalars in flow style, unpadded
 * (`- {ip: 10.77.0.11, mac: ..., name: node1, role: server}`, `[192.168.1.1]`); `block`
 * writes every collection as a block.
 */
function cliSerialisation(text: string, style: Style): string {
    const { values } = stackFileValues(text);
    const asWritten = parse(text, { schema: "failsafe" }).config as Record<string, unknown>;
    const config: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(values)) {
        config[key] = typeof asWritten[key] === "string" ? value : JSON.parse(value);
    }
    const doc = new Document({ config: { ...config, ...SECRET_LINE } });
    if (style === "flow") {
        visit(doc, {
            Map(_, node, ancestors) {
                node.flow = ancestors.length > 3;
            },
            Seq(_, node) {
                node.flow = node.items.every(isScalar);
            },
        });
    }
    return doc.toString({ flowCollectionPadding: false });
}

/** The plan the program makes of the values the engine hands it (config/load.ts, under Pulumi's runtime config). */
function programPlan(text: string): AddressPlan {
    const { values, secure } = stackFileValues(text);
    const config: Record<string, string> = { ...values, "homecloud:sshPrivateKey": "test key" };
    pulumi.runtime.setAllConfig(config, ["homecloud:sshPrivateKey"]);
    try {
        assert.deepStrictEqual(secure.filter((k) => k !== "homecloud:sshPrivateKey"), []);
        return loadConfig().plan;
    } finally {
        pulumi.runtime.setAllConfig({}, []);
    }
}

describe("stack files as the engine reads them", () => {
    it("hands the program every value as a string: scalars as written, lists and maps as JSON, secrets apart", () => {
        const text = [
            "config:",
            "  homecloud:leaseSeconds: 600",
            '  homecloud:apiPort: "6443"',
            "  homecloud:k3sEnabled: false",
            "  homecloud:ratio: 1.0",
            "  homecloud:empty:",
            "  homecloud:nodes:",
            '    - { name: n1, mac: "02:77:00:00:00:11", ip: 10.77.0.11, role: server }',
            "  homecloud:dnsForwarders: []",
            "  homecloud:sshPrivateKey:",
            "    secure: v1:abc",
            "",
        ].join("\n");
        assert.deepStrictEqual(stackFileValues(text), {
            values: {
                "homecloud:leaseSeconds": "600",
                "homecloud:apiPort": "6443",
                "homecloud:k3sEnabled": "false",
                "homecloud:ratio": "1.0",
                "homecloud:empty": "",
                "homecloud:nodes": '[{"ip":"10.77.0.11","mac":"02:77:00:00:00:11","name":"n1","role":"server"}]',
                "homecloud:dnsForwarders": "[]",
            },
            secure: ["homecloud:sshPrivateKey"],
        });
    });

    it("reads the strings as the program does: typed by the schema, a value that is not JSON left for the plan check", () => {
        const values: Record<string, string> = { leaseSeconds: "600", k3sEnabled: "false", domain: "600", apiPort: "ten", sshPrivateKey: "key" };
        assert.deepStrictEqual(rawConfigFromValues((k) => values[k]), { domain: "600", leaseSeconds: 600, apiPort: "ten", k3sEnabled: false });
        assert.match(problems(stackFile("Pulumi.lab.yaml"), { apiPort: "ten" }).join("\n"), /^homecloud:apiPort: "ten" /m);
    });

    it("the CLI's serialisation quotes the scalars and unpads flow collections", () => {
        const lab = cliSerialisation(fs.readFileSync(path.join(REPO, "Pulumi.lab.yaml"), "utf8"), "flow");
        assert.match(lab, /^ {2}homecloud:leaseSeconds: "600"$/m);
        assert.match(lab, /^ {2}homecloud:k3sEnabled: "false"$/m);
        assert.match(lab, /^ {4}- \{ip: 10\.77\.0\.11, mac: 02:77:00:00:00:11, name: node1, role: server\}$/m);
        assert.match(lab, /^ {2}homecloud:sshPrivateKey: \{secure: v1:/m);
    });

    for (const file of STACK_FILES) {
        const text = fs.readFileSync(path.join(REPO, file), "utf8");
        const want = programPlan(text);

        for (const style of ["flow", "block"] as const) {
            describe(`${file} as the CLI writes it back (${style})`, () => {
                let dir = "";
                let written = "";
                before(() => {
                    dir = fs.mkdtempSync(path.join(os.tmpdir(), "hc-stack-"));
                    written = path.join(dir, file);
                    fs.writeFileSync(written, cliSerialisation(text, style));
                });
                after(() => fs.rmSync(dir, { recursive: true, force: true }));

                it("the program (config/load.ts) makes the same plan of it", () => {
                    assert.deepStrictEqual(programPlan(fs.readFileSync(written, "utf8")), want);
                });

                it("make diagram (scripts/network-diagram.ts) reads the same plan", () => {
                    assert.deepStrictEqual(parseAddressPlan(stackFileConfig(written)).plan, want);
                });

                it("the tests' stackFile (test/program.ts) reads the same plan", () => {
                    assert.deepStrictEqual(parseAddressPlan(stackFile(written)).plan, want);
                    assert.deepStrictEqual(stackFile(written), stackFileRawConfig(text));
                });

                if (file === "Pulumi.lab.yaml") {
                    it("the lab's plan (lab/plan.ts) reads the same facts", () => {
                        assert.deepStrictEqual(labPlan(written), labPlan());
                        assert.strictEqual(labPlan(written).apiPort, want.ports.api);
                    });
                }
            });
        }
    }
});
