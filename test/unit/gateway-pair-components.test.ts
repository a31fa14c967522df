// Both gateways of a pair under Pulumi mocks: which commands each gets, with what content
// and hooks, the secrets kept secret and out of command lines, the second after the first.
import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import { dependsOn, parentName, recorded, RecordedResource, reset, resolve, testHostKey } from "../mocks";
import type * as GatewayModule from "../../network/gateway";
import { fileCommand } from "../../host/hostFile";
import { renderNamedLocal } from "../../network/bind";
import { renderNamedLocalSecondary, renderXferKey } from "../../network/pair/bindPair";
import { renderKeaApiPassword, renderKeaCtrlAgentConfig, renderKeaHaConfig } from "../../network/pair/keaHa";
import { renderKeepalivedConfig } from "../../network/pair/keepalived";
import { keaApiPasswordFile, keaHaConfigFile, keepalivedConfigFile, xferKeyFile } from "../../network/pair/pairFiles";
import { deriveSecrets } from "../../network/pair/pairSecrets";
import { pairPlan } from "../fixtures/pair/pair";

const COMMAND = "command:remote:Command";
const KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nnot-a-real-key\n-----END OPENSSH PRIVATE KEY-----\n";

describe("gateway pair components (mocks)", () => {
    const plan = pairPlan();
    const secrets = deriveSecrets(KEY);

    before(async () => {
        reset();
        const m: typeof GatewayModule = await import("../../network/gateway");
        const { pairSecrets } = await import("../../network/pair/pairSecrets");
        const pair = pairSecrets(KEY);
        const conn = (host: string) => ({ host, port: 22, user: "pi", privateKey: KEY, hostKey: testHostKey(host) });
        const gw1 = new m.Gateway("gateway", { plan, connection: conn(plan.gateway.sshHost), pair: { role: "first", secrets: pair } });
        const gw2 = new m.Gateway("gateway2", { plan, connection: conn(plan.gateway2!.sshHost), pair: { role: "second", secrets: pair } }, { dependsOn: [gw1] });
        // HAProxy, then keepalived (which asks it), come with serveApi (index.ts: after the first K3s server).
        const [lb1, lb2] = [gw1.serveApi(), gw2.serveApi()];
        await Promise.all([resolve(gw1.vip), resolve(gw2.vip), resolve(gw1.lanAddress), resolve(gw2.lanAddress), resolve(lb1.status), resolve(lb2.status)]);
        await new Promise((r) => setTimeout(r, 50));
    });

    function one(name: string): RecordedResource {
        const rs = recorded.filter((r) => r.type === COMMAND && r.name === name);
        assert.strictEqual(rs.length, 1, `one command named ${name}`);
        return rs[0];
    }

    it("derives 8 alphanumerics for VRRP, a 32-byte transfer key and 64 hex digits for the Control Agent, the same on every run, different per SSH key", () => {
        assert.match(secrets.vrrpPass, /^[A-Za-z0-9]{8}$/);
        assert.strictEqual(Buffer.from(secrets.xferSecret, "base64").length, 32);
        assert.match(secrets.keaApiPassword, /^[0-9a-f]{64}$/);
        assert.strictEqual(new Set([secrets.vrrpPass, secrets.xferSecret, secrets.keaApiPassword]).size, 3);
        assert.deepStrictEqual(deriveSecrets(KEY), secrets);
        assert.notDeepStrictEqual(deriveSecrets(`${KEY}x`), secrets);
    });

    it("each gateway gets keepalived, Kea HA and its Control Agent; the second a secondary DNS and no DHCP-DDNS", () => {
        const names = (prefix: string) => recorded.filter((r) => r.type === COMMAND && r.name.startsWith(`${prefix}-`)).map((r) => r.name).sort();
        assert.deepStrictEqual(names("gateway2"), [
            "gateway2-dhcp-api-password", "gateway2-dhcp-config", "gateway2-dhcp-ctrl-agent", "gateway2-dns-local", "gateway2-dns-options", "gateway2-dns-xfer-key",
            "gateway2-forwarding", "gateway2-lb-config", "gateway2-nat-ruleset", "gateway2-nat-unit", "gateway2-packages",
            "gateway2-toolkit", "gateway2-vrrp",
        ]);
        const first = names("gateway");
        for (const n of ["gateway-vrrp", "gateway-dhcp-ctrl-agent", "gateway-dhcp-api-password", "gateway-dns-xfer-key", "gateway-dhcp-ddns-config", "gateway-dns-ddns-keys"]) {
            assert.ok(first.includes(n), `${n} in ${first.join(", ")}`);
        }
        assert.strictEqual(parentName(one("gateway2-dns-local")), "gateway2-dns");
        assert.ok(recorded.some((r) => r.type === "homecloud:network:DnsSecondary" && r.name === "gateway2-dns"));
    });

    it("installs each file with its checker and the content rendered for that gateway", async () => {
        for (const [name, role] of [["gateway-dhcp-config", "first"], ["gateway2-dhcp-config", "second"]] as const) {
            const r = one(name);
            assert.strictEqual(await resolve(r.inputs.stdin), renderKeaHaConfig(plan, role));
            assert.strictEqual(await resolve(r.inputs.create), fileCommand("install", keaHaConfigFile(), r.urn));
        }
        assert.strictEqual(await resolve(one("gateway2-dhcp-ctrl-agent").inputs.stdin), renderKeaCtrlAgentConfig(plan, "second"));
        assert.strictEqual(await resolve(one("gateway-dns-local").inputs.stdin), renderNamedLocal(plan));
        assert.strictEqual(await resolve(one("gateway2-dns-local").inputs.stdin), renderNamedLocalSecondary(plan));
        assert.strictEqual(await resolve(one("gateway2-vrrp").inputs.create), fileCommand("install", keepalivedConfigFile(), one("gateway2-vrrp").urn));
    });

    it("keeps the VRRP password and the transfer key secret, in stdin only, never logged", async () => {
        for (const [name, content] of [
            ["gateway-vrrp", renderKeepalivedConfig(plan, "first", secrets.vrrpPass)],
            ["gateway2-vrrp", renderKeepalivedConfig(plan, "second", secrets.vrrpPass)],
            ["gateway-dns-xfer-key", renderXferKey(secrets.xferSecret)],
            ["gateway2-dns-xfer-key", renderXferKey(secrets.xferSecret)],
            ["gateway-dhcp-api-password", renderKeaApiPassword(secrets.keaApiPassword)],
            ["gateway2-dhcp-api-password", renderKeaApiPassword(secrets.keaApiPassword)],
        ] as const) {
            const r = one(name);
            // What the engine received: stdin wrapped as a secret.
            assert.strictEqual(r.inputs.stdin[pulumi.runtime.specialSigKey], pulumi.runtime.specialSecretSig, `${name}: stdin secret`);
            assert.strictEqual(r.inputs.stdin.value, content);
            assert.strictEqual(r.inputs.logging, "none");
            const line = String(await resolve(r.inputs.create));
            assert.ok(![secrets.vrrpPass, secrets.xferSecret, secrets.keaApiPassword].some((x) => line.includes(x)), `${name}: no secret in its command line`);
        }
        for (const r of recorded.filter((x) => x.type === COMMAND)) {
            const inputs = JSON.stringify({ ...r.inputs, stdin: r.inputs.logging === "none" ? undefined : r.inputs.stdin });
            assert.ok(!inputs.includes(secrets.keaApiPassword), `${r.name}: the Control Agent's password only in the secret stdin of its file`);
        }
        for (const g of ["gateway", "gateway2"]) {
            const pw = one(`${g}-dhcp-api-password`);
            assert.strictEqual(await resolve(pw.inputs.create), fileCommand("install", keaApiPasswordFile(), pw.urn));
            assert.deepStrictEqual(dependsOn(one(`${g}-dhcp-config`)).filter((d) => d.includes("api-password")), [`${g}-dhcp-api-password`]);
            assert.deepStrictEqual(dependsOn(one(`${g}-dhcp-ctrl-agent`)).filter((d) => d.includes("api-password")), [`${g}-dhcp-api-password`]);
        }
        assert.strictEqual(await resolve(one("gateway2-dns-xfer-key").inputs.create), fileCommand("install", xferKeyFile(), one("gateway2-dns-xfer-key").urn));
    });

    it("keepalived comes last on each gateway, after HAProxy, BIND and Kea answer; the pair's packages and scripts only with a pair", async () => {
        // The SDK sends a component dependency as every command inside it.
        const common = ["dhcp-api-password", "dhcp-config", "dhcp-ctrl-agent", "dns-local", "dns-options", "dns-xfer-key", "lb-config", "nat-ruleset", "nat-unit", "packages", "toolkit"];
        const deps: Record<string, string[]> = {
            gateway: [...common, "dhcp-ddns-config", "dns-ddns-keys", "dns-dynamic-forward-zone", "dns-dynamic-reverse-zone"],
            gateway2: common,
        };
        for (const g of ["gateway", "gateway2"]) {
            assert.deepStrictEqual(dependsOn(one(`${g}-vrrp`)), deps[g].map((d) => `${g}-${d}`).sort());
            const pkgs = String(await resolve(one(`${g}-packages`).inputs.create));
            assert.match(pkgs, /HC_PACKAGES='kea-dhcp4-server kea-dhcp-ddns-server bind9 bind9-utils bind9-dnsutils haproxy nftables iproute2 iputils-arping keepalived kea-ctrl-agent'/);
            const toolkit = String(await resolve(one(`${g}-toolkit`).inputs.stdin));
            assert.match(toolkit, /cat > "\$new\/network\/pair\/vrrp-check\.sh"/);
        }
        const gw2 = recorded.find((r) => r.type === "homecloud:network:Gateway" && r.name === "gateway2")!;
        assert.ok(dependsOn(gw2).includes("gateway-vrrp"), "the second gateway waits for the first one's keepalived");
    });

    it("refuses a pair plan without the pair's role and secrets, before anything is registered for it", async () => {
        const m: typeof GatewayModule = await import("../../network/gateway");
        assert.throws(() => new m.Gateway("lonely", { plan, connection: { host: "10.20.0.1", port: 22, user: "pi", privateKey: KEY, hostKey: testHostKey("x") } }),
            { message: /the plan has a second gateway: each Gateway needs its pair role and secrets/ });
    });
});
