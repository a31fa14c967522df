// The configuration schema is the one definition of every key: Pulumi.yaml's `config:`
// block and the README's table are rendered from it, and every committed stack file
// passes the CLI's own rules for project config (ported in ../cliConfigRules.ts).
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { parse, stringify } from "yaml";
import { CONFIG_KEYS, projectConfigBlock, readmeConfigTable, withDefaults } from "../../config/schema";
import { parseAddressPlan } from "../../config/validate";
import { assertApproved } from "../approval";
import { cliConfigErrors, ProjectKey } from "../cliConfigRules";

const REPO = path.resolve(__dirname, "..", "..");
const read = (f: string): string => fs.readFileSync(path.join(REPO, f), "utf8");
const CONFIG_HEADER = "# Rendered from config/schema.ts (the one definition of every key): edit it there, then\n" +
    "# run `UPDATE_FIXTURES=1 make test-unit`. A key without a default is required by the CLI.\nconfig:\n";
const TABLE_START = "<!-- config table: rendered from config/schema.ts -->\n";
const TABLE_END = "\n<!-- end of config table -->";

/** Keys a stack file does not hold: set at deploy time with `pulumi config set --secret`. */
const SET_AT_DEPLOY = ["sshPrivateKey"];

function stackFiles(): string[] {
    return fs.readdirSync(REPO).filter((f) => /^Pulumi\.[^.]+\.yaml$/.test(f)).sort();
}

describe("configuration schema", () => {
    it("Pulumi.yaml's config block is the schema's", () => {
        const rendered = CONFIG_HEADER + stringify(projectConfigBlock(), { lineWidth: 0 }).replace(/^/gm, "  ").replace(/ +$/gm, "");
        assertApproved(path.join(REPO, "Pulumi.yaml"), (text = "") => {
            const at = text.indexOf(CONFIG_HEADER);
            assert.ok(at >= 0, "Pulumi.yaml has the rendered config block");
            return text.slice(0, at) + rendered;
        });
        assert.deepStrictEqual(parse(read("Pulumi.yaml")).config, projectConfigBlock());
    });

    it("the README's table is the schema's", () => {
        assertApproved(path.join(REPO, "README.md"), (text = "") => {
            const start = text.indexOf(TABLE_START);
            const end = text.indexOf(TABLE_END);
            assert.ok(start >= 0 && end > start, "README.md has the config table markers");
            return text.slice(0, start + TABLE_START.length) + readmeConfigTable() + text.slice(end);
        });
    });

    it("applies every default the schema declares, and no other", () => {
        const raw = withDefaults({});
        assert.deepStrictEqual(Object.keys(raw).sort(), CONFIG_KEYS.filter((k) => projectConfigBlock()[k].default !== undefined).sort());
        assert.deepStrictEqual(raw, {
            domain: "home.arpa", gatewayHostname: "gateway", gatewaySshHost: "",
            gateway2Hostname: "", gateway2LanAddress: "", gateway2WanAddress: "", gateway2SshHost: "", gateway2LanInterface: "",
            gateway2WanInterface: "", lanFloatingAddress: "", leaseSeconds: 3600, dnsForwarders: [],
            apiName: "api", apiPort: 6443, httpPort: 80, httpsPort: 443, sshUser: "pi", sshPort: 22, hostKeys: [], reservations: [],
            apiHealthCheck: "https", healthCheckIntervalMs: 1000, healthCheckFall: 2, healthCheckRise: 2,
            ddnsEnabled: true, ddnsSuffix: "", dnsTtlSeconds: 300, lostNodes: [],
            certificateLifetimeDays: 90, certificateRenewal: 0, certificates: [], certificateExclude: [], caDestroy: false,
            k3sEnabled: true, k3sVersion: "v1.36.4+k3s1", k3sInstall: "script", k3sAirgapDir: "/opt/k3s-airgap",
            kubeconfigServer: "vip", kubeconfigRenewDays: 30, kubeconfig: "", chartRepository: "", registryMirrors: [],
        });
        assert.deepStrictEqual(withDefaults({ apiPort: 8443 }).apiPort, 8443, "a set value wins");
    });

    describe("every committed stack file passes the CLI's config rules and the plan check", () => {
        const project = parse(read("Pulumi.yaml")) as { name: string; config: Record<string, ProjectKey> };
        it("there are stack files to check", () => {
            assert.deepStrictEqual(stackFiles(), ["Pulumi.dev.yaml", "Pulumi.lab.yaml"]);
        });
        for (const file of stackFiles()) {
            const stack = file.split(".")[1];
            it(`${file}: complete once ${SET_AT_DEPLOY.join(", ")} is set, typed as declared, every key known`, () => {
                const config = (parse(read(file)) as { config: Record<string, unknown> }).config;
                assert.deepStrictEqual(cliConfigErrors(project.name, project.config, stack, config),
                    [`Stack '${stack}' is missing configuration value 'sshPrivateKey'`]);
                const withKey = { ...config, "homecloud:sshPrivateKey": { secure: "v1:AAAA" } };
                assert.deepStrictEqual(cliConfigErrors(project.name, project.config, stack, withKey), []);
                const unknown = Object.keys(config).map((k) => k.replace(/^homecloud:/, "")).filter((k) => !CONFIG_KEYS.includes(k as never));
                assert.deepStrictEqual(unknown, [], "keys the schema does not know (a typo is silently ignored by the CLI)");
                const raw = Object.fromEntries(Object.entries(config).map(([k, v]) => [k.replace(/^homecloud:/, ""), v]));
                assert.doesNotThrow(() => parseAddressPlan(raw));
            });
        }
    });

    describe("the ported CLI rules reject what the CLI rejects", () => {
        const project = parse(read("Pulumi.yaml")) as { name: string; config: Record<string, ProjectKey> };
        const lab = (parse(read("Pulumi.lab.yaml")) as { config: Record<string, unknown> }).config;
        const key = { "homecloud:sshPrivateKey": { secure: "v1:AAAA" } };

        it("keys without a default are required (the error the CLI gave before defaults moved into Pulumi.yaml)", () => {
            const { ["homecloud:lanCidr"]: _lan, ["homecloud:vip"]: _vip, ...rest } = lab;
            assert.deepStrictEqual(cliConfigErrors(project.name, project.config, "lab", rest),
                ["Stack 'lab' is missing configuration values 'lanCidr', 'sshPrivateKey' and 'vip'"]);
            const noDefaults = Object.fromEntries(Object.entries(project.config).map(([k, v]) => [k, { ...v, default: undefined }]));
            // In the words the real CLI v3.250.0 used on the lab stack then (the list has grown with the schema).
            assert.deepStrictEqual(cliConfigErrors(project.name, noDefaults, "lab", { ...lab, ...key }), [
                "Stack 'lab' is missing configuration values 'apiHealthCheck', 'apiName', 'apiPort', 'caDestroy', 'certificateExclude', " +
                "'certificateLifetimeDays', 'certificateRenewal', 'certificates', 'chartRepository', 'ddnsEnabled', 'ddnsSuffix', 'dnsTtlSeconds', " +
                "'gateway2Hostname', 'gateway2LanAddress', 'gateway2LanInterface', 'gateway2SshHost', 'gateway2WanAddress', 'gateway2WanInterface', " +
                "'gatewaySshHost', 'healthCheckFall', 'healthCheckIntervalMs', 'healthCheckRise', 'hostKeys', 'httpPort', " +
                "'httpsPort', 'k3sAirgapDir', 'k3sInstall', 'k3sVersion', 'kubeconfig', 'kubeconfigRenewDays', 'kubeconfigServer', 'lanFloatingAddress', " +
                "'lostNodes', 'registryMirrors' and 'sshPort'"]);
        });

        it("values must have the declared type; secrets must be encrypted", () => {
            assert.deepStrictEqual(cliConfigErrors(project.name, project.config, "lab", { ...lab, ...key, "homecloud:leaseSeconds": "ten" }),
                ["Stack 'lab' with configuration key 'leaseSeconds' must be of type 'integer'"]);
            assert.deepStrictEqual(cliConfigErrors(project.name, project.config, "lab", { ...lab, ...key, "homecloud:dnsForwarders": [1] }),
                ["Stack 'lab' with configuration key 'dnsForwarders' must be of type 'array<string>'"]);
            assert.deepStrictEqual(cliConfigErrors(project.name, project.config, "lab", { ...lab, "homecloud:sshPrivateKey": "plain" }),
                ["Stack 'lab' with configuration key 'sshPrivateKey' must be encrypted as it's secret"]);
            assert.deepStrictEqual(cliConfigErrors(project.name, { ...project.config, leaseSeconds: { type: "integer", default: "x" } }, "lab", lab),
                ["The default value specified for configuration key 'leaseSeconds' is not of the expected type 'integer'"]);
        });
    });
});
