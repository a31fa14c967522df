// The private CA: configuration errors, the renewal schedule, expiry reporting, and the
// components under Pulumi mocks (resources, exact command lines, parents, dependencies,
// what travels between hosts). Mocks first, then the code under test.
import * as assert from "assert";
import * as crypto from "crypto";
import { dependsOn, find, parentName, recorded, RecordedResource, reset, resolve, stdoutHooks, testHostKeys } from "../mocks";
import * as k8s from "@pulumi/kubernetes";
import { AddressPlan } from "../../config/plan";
import { RawConfig } from "../../config/schema";
import { parseAddressPlan } from "../../config/validate";
import { fileCommand } from "../../host/hostFile";
import { PKI_TOOLKIT_DIR, scriptsIn, TOOLKIT_INSTALL, toolkitInstaller } from "../../host/toolkit";
import {
    caCreateCommand, caRemoveCommand, certFile, certificateRequests, certificateStatus, expiryWarning, issueToken, nextRenewal,
    permittedNames, renewalEpoch, renewalPeriodDays, signCommand, trustFile,
} from "../../pki/pkiSteps";
import { certManagerValues, clusterIssuer, traefikDefaultTlsStore, wildcardCertificate } from "../../pki/certManager";
import type * as PrivateCaModule from "../../pki/privateCa";
import type * as ClusterIssuerModule from "../../pki/clusterIssuer";
import { FIXTURE_CA, FIXTURE_CERT, FIXTURE_CERT_30, FIXTURE_CSR } from "../fixtures/pki";
import { stackFile } from "../program";
import { problems } from "../assertions";

const COMMAND = "command:remote:Command";
const KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nnot-a-real-key\n-----END OPENSSH PRIVATE KEY-----\n";
const NOW = new Date("2026-12-01T00:00:00Z");
const CA_SHA = crypto.createHash("sha256").update(FIXTURE_CA).digest("hex");

function labRaw(extra: RawConfig = {}): RawConfig {
    return { ...stackFile("Pulumi.lab.yaml"), ...extra };
}

function labPlan(extra: RawConfig = {}): AddressPlan {
    return parseAddressPlan(labRaw(extra)).plan;
}

/** The lab's second gateway, as lab phase 7g adds it. */
const PAIR: RawConfig = { gateway2Hostname: "gw2", gateway2LanAddress: "10.77.0.2", gateway2WanAddress: "192.168.77.3", lanFloatingAddress: "10.77.0.254" };

/** The URN the engine gives a PrivateCa command: what host files record as their owner. */
const pkiUrn = (name: string): string => `urn:pulumi:test::homecloud::homecloud:pki:PrivateCa$command:remote:Command::${name}`;

/** The one recorded host command named `name` (fails when there is none or more). */
function one(name: string): RecordedResource {
    const rs = recorded.filter((r) => r.type === COMMAND && r.name === name);
    assert.strictEqual(rs.length, 1, `one command named ${name}`);
    return rs[0];
}

describe("PKI configuration", () => {
    it("defaults: 90-day certificates, no forced renewal, no service certificates, the CA kept on destroy", () => {
        assert.deepStrictEqual(labPlan().pki, { lifetimeDays: 90, renewal: 0, certificates: [], excluded: [], caDestroy: false });
    });

    it("reads service certificates, with SANs written plain or typed, each once", () => {
        const plan = labPlan({
            certificates: [{ name: "registry", host: "gw", sans: ["registry.lab.home.arpa", "10.77.0.1", "DNS:*.registry.lab.home.arpa", "IP:10.77.0.1"] }],
        });
        assert.deepStrictEqual(plan.pki.certificates, [{
            name: "registry", host: "gw", sans: ["DNS:registry.lab.home.arpa", "IP:10.77.0.1", "DNS:*.registry.lab.home.arpa"],
        }]);
    });

    it("rejects a lifetime out of range, a bad renewal counter and a non-boolean caDestroy, naming each key", () => {
        const fix = "(clients refuse server certificates valid for longer than 398 days)";
        assert.deepStrictEqual(problems(labRaw(), { certificateLifetimeDays: 6 }),
            [`homecloud:certificateLifetimeDays: 6 is out of range; use whole days from 7 to 397 ${fix}`]);
        assert.deepStrictEqual(problems(labRaw(), { certificateLifetimeDays: 398 }),
            [`homecloud:certificateLifetimeDays: 398 is out of range; use whole days from 7 to 397 ${fix}`]);
        assert.deepStrictEqual(problems(labRaw(), { certificateLifetimeDays: "90d" }),
            [`homecloud:certificateLifetimeDays: "90d" is out of range; use whole days from 7 to 397 ${fix}`]);
        assert.deepStrictEqual(problems(labRaw(), { certificateRenewal: -1 }),
            ["homecloud:certificateRenewal: -1 must be a whole number from 0; raise it by one to re-sign every certificate"]);
        assert.deepStrictEqual(problems(labRaw(), { caDestroy: "yes" }), ['homecloud:caDestroy: "yes" must be true or false']);
    });

    it("rejects service names that are not DNS names, reserved or taken, unknown hosts, and SANs outside the domain or LAN", () => {
        assert.deepStrictEqual(problems(labRaw(), {
            certificates: [
                { name: "Reg_1", host: "gw" },
                { name: "host", host: "node1" },
                { name: "node2", host: "node1" },
                { name: "registry", host: "nas" },
                { name: "web", host: "node1", sans: ["example.com", "192.168.77.10", "IP:10.77.0.999", "bad_name.lab.home.arpa"] },
                { name: "web", host: "node2", sans: "web.lab.home.arpa" },
            ],
        }), [
            'homecloud:certificates[0].name: "Reg_1" is not a valid DNS name; use 1-63 lower-case letters, digits and inner hyphens (RFC 1123), e.g. registry',
            'homecloud:certificates[1].name: "host" is the name of each host\'s own certificate; pick another name',
            'homecloud:certificates[2].name: "node2" is a host\'s name, and the host\'s own certificate already holds node2.lab.home.arpa; pick another name',
            'homecloud:certificates[3].host: "nas" is not a host the program manages; use the gateway\'s host name or a node\'s name (gw, node1, node2, node3)',
            'homecloud:certificates[4].sans[0]: "example.com" is outside the domain lab.home.arpa; the CA signs names in it only: use a name ending in .lab.home.arpa',
            'homecloud:certificates[4].sans[1]: "192.168.77.10" is outside the LAN 10.77.0.0/24; the CA signs LAN addresses only: use one inside it or a DNS name',
            'homecloud:certificates[4].sans[2]: "IP:10.77.0.999" is not an IPv4 address; write IP:<a LAN address>, e.g. IP:10.0.0.11',
            'homecloud:certificates[4].sans[3]: "bad_name.lab.home.arpa" is not a valid DNS name; use lower-case dot-separated labels (RFC 1123), e.g. registry.home.arpa',
            'homecloud:certificates[5].name: "web" is already homecloud:certificates[4].name; every certificate needs its own name',
            "homecloud:certificates[5].sans: must be a list of names inside the domain or LAN addresses, e.g. [registry.home.arpa, IP:10.0.0.11]",
        ]);
        assert.deepStrictEqual(problems(labRaw(), { certificateExclude: ["gw", "nas", "node2"], certificates: [{ name: "web", host: "node2" }] }), [
            'homecloud:certificateExclude[0]: "gw" is the gateway, which holds the CA; only nodes can be left out',
            'homecloud:certificateExclude[1]: "nas" is not a node; use a name from homecloud:nodes (node1, node2, node3)',
        ]);
        assert.deepStrictEqual(problems(labRaw(), { certificateExclude: ["node3"], certificates: [{ name: "web", host: "node3" }] }),
            ['homecloud:certificates[0].host: "node3" is in homecloud:certificateExclude; serve it from another host or take it off that list']);
        assert.deepStrictEqual(problems(labRaw(), { k3sEnabled: true, certificateExclude: ["node1"] }),
            ['homecloud:certificateExclude[0]: "node1" is the first server, which holds the cluster issuer\'s key while K3s is on; it cannot be left out']);
        assert.deepStrictEqual(labPlan({ certificateExclude: ["node1"] }).pki.excluded, ["node1"], "K3s off: the first server may be left out");
        assert.deepStrictEqual(problems(labRaw(), { certificates: { name: "x" } }),
            ["homecloud:certificates: must be a list of { name, host, sans } (an empty list means host certificates only)"]);
    });
});

describe("PKI schedule and expiry (pure)", () => {
    it("renews with a third of the lifetime left: epochs of 60 days for 90-day certificates", () => {
        assert.strictEqual(renewalPeriodDays(90), 60);
        assert.strictEqual(renewalPeriodDays(7), 5);
        assert.strictEqual(renewalEpoch(NOW, 90), 346);
        assert.strictEqual(renewalEpoch(new Date("2026-11-03T00:00:00Z"), 90), 346);
        assert.strictEqual(renewalEpoch(new Date("2026-11-02T23:59:59Z"), 90), 345);
        assert.strictEqual(nextRenewal(NOW, 90).toISOString(), "2027-01-02T00:00:00.000Z");
        assert.strictEqual(issueToken(labPlan({ certificateRenewal: 2 }), NOW), "346.2");
    });

    it("every host's own certificate for its FQDN and LAN address, then the services", () => {
        const plan = labPlan({ certificates: [{ name: "registry", host: "node2", sans: ["IP:10.77.0.12"] }] });
        assert.deepStrictEqual(certificateRequests(plan), [
            { host: "gw", label: "host", commonName: "gw.lab.home.arpa", sans: ["DNS:gw.lab.home.arpa", "IP:10.77.0.1"] },
            { host: "node1", label: "host", commonName: "node1.lab.home.arpa", sans: ["DNS:node1.lab.home.arpa", "IP:10.77.0.11"] },
            { host: "node2", label: "host", commonName: "node2.lab.home.arpa", sans: ["DNS:node2.lab.home.arpa", "IP:10.77.0.12"] },
            { host: "node3", label: "host", commonName: "node3.lab.home.arpa", sans: ["DNS:node3.lab.home.arpa", "IP:10.77.0.13"] },
            { host: "node2", label: "registry", commonName: "registry.lab.home.arpa", sans: ["DNS:registry.lab.home.arpa", "IP:10.77.0.12"] },
        ]);
        assert.strictEqual(permittedNames(plan), "permitted;DNS:lab.home.arpa,permitted;IP:10.77.0.0/255.255.255.0");
        assert.deepStrictEqual(certificateRequests(labPlan({ certificateExclude: ["node3"] })).map((r) => r.host), ["gw", "node1", "node2"]);
    });

    it("the second gateway's own certificate comes right after the first gateway's: its FQDN and its own LAN address", () => {
        const plan = labPlan({ ...PAIR, certificates: [{ name: "dns2", host: "gw2" }] });
        assert.deepStrictEqual(certificateRequests(plan).slice(0, 3), [
            { host: "gw", label: "host", commonName: "gw.lab.home.arpa", sans: ["DNS:gw.lab.home.arpa", "IP:10.77.0.1"] },
            { host: "gw2", label: "host", commonName: "gw2.lab.home.arpa", sans: ["DNS:gw2.lab.home.arpa", "IP:10.77.0.2"] },
            { host: "node1", label: "host", commonName: "node1.lab.home.arpa", sans: ["DNS:node1.lab.home.arpa", "IP:10.77.0.11"] },
        ]);
        assert.deepStrictEqual(certificateRequests(plan).at(-1),
            { host: "gw2", label: "dns2", commonName: "dns2.lab.home.arpa", sans: ["DNS:dns2.lab.home.arpa"] });
        assert.deepStrictEqual(problems(labRaw(PAIR), { certificateExclude: ["gw2"], certificates: [{ name: "gw2", host: "gw" }, { name: "x", host: "gw3" }] }), [
            'homecloud:certificateExclude[0]: "gw2" is the second gateway, which gets its certificate like the first; only nodes can be left out',
            'homecloud:certificates[0].name: "gw2" is a host\'s name, and the host\'s own certificate already holds gw2.lab.home.arpa; pick another name',
            'homecloud:certificates[1].host: "gw3" is not a host the program manages; use the gateway\'s host name or a node\'s name (gw, gw2, node1, node2, node3)',
        ]);
    });

    it("reports the nearest expiry, and warns only when a certificate is in its last third or the CA in its last year", () => {
        const certs = { ca: FIXTURE_CA, "node1-host": FIXTURE_CERT, "node2-host": FIXTURE_CERT_30, "node3-host": "" };
        assert.deepStrictEqual(certificateStatus(certs, 90, NOW), {
            nearest: "node2-host", nearestExpiry: "2026-12-31T11:13:17.000Z", renewsFrom: "2027-01-02T00:00:00.000Z", lifetimeDays: 90,
        });
        assert.deepStrictEqual(certificateStatus({ "node3-host": "" }, 90, NOW),
            { nearest: null, nearestExpiry: null, renewsFrom: "2027-01-02T00:00:00.000Z", lifetimeDays: 90 });
        assert.strictEqual(expiryWarning({ ca: FIXTURE_CA, "node1-host": FIXTURE_CERT }, 90, NOW), undefined);
        assert.strictEqual(expiryWarning(certs, 90, NOW), undefined, "30 days and 11 hours left: not yet in the last third");
        assert.strictEqual(expiryWarning(certs, 90, new Date("2026-12-02T00:00:00Z")),
            "homecloud: certificates close to expiry: node2-host expires 2026-12-31T11:13:17.000Z (in 29 days). " +
            "`pulumi up` re-signs host and service certificates (same keys); the CA is rotated by hand (README: rotating the CA)");
        assert.strictEqual(expiryWarning(certs, 90, new Date("2036-01-01T00:00:00Z")),
            "homecloud: certificates close to expiry: ca expires 2036-11-28T11:13:16.000Z (in 332 days); " +
            "node1-host expired 2027-03-01T11:13:16.000Z; node2-host expired 2026-12-31T11:13:17.000Z. " +
            "`pulumi up` re-signs host and service certificates (same keys); the CA is rotated by hand (README: rotating the CA)");
    });

    it("command lines: the PKI toolkit, data in HC_* variables", () => {
        const plan = labPlan();
        assert.strictEqual(caCreateCommand(plan), "sudo -n /usr/bin/env HC_CA_CN='homecloud CA lab.home.arpa' HC_CA_DAYS=3650 " +
            "HC_PERMITTED='permitted;DNS:lab.home.arpa,permitted;IP:10.77.0.0/255.255.255.0' /bin/bash /usr/local/lib/homecloud-pki/pki/ca.sh create");
        assert.strictEqual(caRemoveCommand(false), "sudo -n /usr/bin/env /bin/bash /usr/local/lib/homecloud-pki/pki/ca.sh remove");
        assert.strictEqual(caRemoveCommand(true), "sudo -n /usr/bin/env HC_CA_DESTROY=1 /bin/bash /usr/local/lib/homecloud-pki/pki/ca.sh remove");
        assert.strictEqual(signCommand({ name: "node1-host", profile: "server", sans: ["DNS:node1.lab.home.arpa", "IP:10.77.0.11"], days: 90, issue: "346.0", caSha256: "ab" }),
            "sudo -n /usr/bin/env HC_NAME=node1-host HC_PROFILE=server HC_SANS=DNS:node1.lab.home.arpa,IP:10.77.0.11 HC_DAYS=90 " +
            "HC_ISSUE=346.0 HC_CA=ab /bin/bash /usr/local/lib/homecloud-pki/pki/ca.sh sign");
        assert.deepStrictEqual(trustFile(), { path: "/usr/local/share/ca-certificates/homecloud-ca.crt", hooks: "pki/trust.sh" });
        assert.deepStrictEqual(certFile("host"), { path: "/etc/homecloud/pki/host.crt", hooks: "pki/cert.sh", env: { HC_KEY: "/etc/homecloud/pki/host.key" } });
    });
});

describe("PrivateCa (mocks, the lab plan with a service certificate)", () => {
    const plan = labPlan({ certificates: [{ name: "registry", host: "gw", sans: ["IP:10.77.0.1"] }] });
    let ca: PrivateCaModule.PrivateCa;
    const hook = (r: { name: string }): string | undefined =>
        r.name === "pki-ca" ? FIXTURE_CA : r.name.endsWith("-key") ? FIXTURE_CSR : r.name === "pki-node2-host-sign" ? FIXTURE_CERT_30
            : r.name.endsWith("-sign") ? FIXTURE_CERT : undefined;

    before(async () => {
        reset();
        stdoutHooks.push(hook);
        const m = await import("../../pki/privateCa");
        ca = new m.PrivateCa("pki", { plan, sshPrivateKey: KEY, hostKeys: testHostKeys([plan.gateway.hostname, ...plan.nodes.map((n) => n.name)]), now: NOW });
        await resolve(ca.status);
        await new Promise((r) => setTimeout(r, 50));
    });
    after(() => {
        stdoutHooks.splice(stdoutHooks.indexOf(hook), 1);
    });

    it("registers a toolkit, a trust step, and key/sign/cert per certificate, all children of the component", () => {
        const hosts = ["gw", "node1", "node2", "node3"];
        const certs = ["gw-host", "node1-host", "node2-host", "node3-host", "gw-registry"];
        assert.deepStrictEqual(find(COMMAND).map((r) => r.name).sort(), [
            "pki-ca",
            ...hosts.flatMap((h) => [`pki-${h}-toolkit`, `pki-${h}-trust`]),
            ...certs.flatMap((c) => [`pki-${c}-cert`, `pki-${c}-key`, `pki-${c}-sign`]),
        ].sort());
        for (const c of find(COMMAND)) {
            assert.strictEqual(parentName(c), "pki", c.name);
            assert.strictEqual(c.inputs.triggers, undefined, `${c.name} has triggers`);
            assert.ok(c.inputs.delete, `${c.name} undoes itself on delete`);
        }
    });

    it("each host's toolkit holds the PKI scripts in their own directory; its steps go to that host", () => {
        const tk = one("pki-node1-toolkit");
        assert.strictEqual(tk.inputs.create, TOOLKIT_INSTALL);
        assert.strictEqual(tk.inputs.delete, `sudo -n /bin/rm -rf ${PKI_TOOLKIT_DIR}`);
        assert.strictEqual(tk.inputs.stdin, toolkitInstaller(scriptsIn("pki"), PKI_TOOLKIT_DIR));
        assert.deepStrictEqual(scriptsIn("pki"), ["pki/ca.sh", "pki/cert.sh", "pki/client-cert.sh", "pki/cluster-issuer.sh", "pki/k3s-client.sh", "pki/key.sh", "pki/lib.sh", "pki/reachable.sh", "pki/trust.sh"]);
        assert.strictEqual(one("pki-gw-toolkit").inputs.connection.value.host, "10.77.0.1");
        for (const n of ["toolkit", "trust", "host-key", "host-cert"]) {
            assert.strictEqual(one(`pki-node1-${n}`).inputs.connection.value.host, "10.77.0.11", n);
        }
        assert.strictEqual(one("pki-node1-host-sign").inputs.connection.value.host, "10.77.0.1", "signed on the gateway");
    });

    it("the CA: made once on the gateway, kept on delete unless caDestroy; its certificate is the output", async () => {
        const c = one("pki-ca");
        assert.strictEqual(c.inputs.create, caCreateCommand(plan));
        assert.strictEqual(c.inputs.delete, caRemoveCommand(false));
        assert.strictEqual(c.inputs.stdin, undefined);
        assert.deepStrictEqual(dependsOn(c), ["pki-gw-toolkit"]);
        assert.strictEqual(await resolve(ca.caCertificate), FIXTURE_CA);
    });

    it("node1's certificate: key made on node1, CSR signed on the gateway, certificate installed next to the key", () => {
        const key = one("pki-node1-host-key");
        assert.strictEqual(key.inputs.create,
            "sudo -n /usr/bin/env HC_LABEL=host HC_CN=node1.lab.home.arpa /bin/bash /usr/local/lib/homecloud-pki/pki/key.sh request");
        assert.strictEqual(key.inputs.delete, "sudo -n /usr/bin/env HC_LABEL=host /bin/bash /usr/local/lib/homecloud-pki/pki/key.sh forget");
        assert.strictEqual(key.inputs.stdin, undefined, "nothing goes to the host but the command line");
        assert.deepStrictEqual(dependsOn(key), ["pki-node1-toolkit"]);

        const sign = one("pki-node1-host-sign");
        assert.strictEqual(sign.inputs.create, signCommand({
            name: "node1-host", profile: "server", sans: ["DNS:node1.lab.home.arpa", "IP:10.77.0.11"], days: 90, issue: "346.0", caSha256: CA_SHA,
        }));
        assert.strictEqual(sign.inputs.delete, "sudo -n /usr/bin/env HC_NAME=node1-host /bin/bash /usr/local/lib/homecloud-pki/pki/ca.sh unsign");
        assert.strictEqual(sign.inputs.stdin, FIXTURE_CSR, "the CSR, and only the CSR, travels to the gateway");
        assert.deepStrictEqual(dependsOn(sign), ["pki-ca", "pki-gw-toolkit", "pki-node1-host-key"]);

        const cert = one("pki-node1-host-cert");
        assert.strictEqual(cert.inputs.create, fileCommand("install", certFile("host"), pkiUrn("pki-node1-host-cert"), PKI_TOOLKIT_DIR));
        assert.strictEqual(cert.inputs.delete, fileCommand("remove", certFile("host"), pkiUrn("pki-node1-host-cert"), PKI_TOOLKIT_DIR));
        assert.strictEqual(cert.inputs.stdin, FIXTURE_CERT);
        assert.deepStrictEqual(dependsOn(cert), ["pki-node1-host-key", "pki-node1-host-sign", "pki-node1-toolkit", "pki-node1-trust"]);
    });

    it("the service certificate: the gateway's key, its name and extra SANs", () => {
        assert.strictEqual(one("pki-gw-registry-key").inputs.create,
            "sudo -n /usr/bin/env HC_LABEL=registry HC_CN=registry.lab.home.arpa /bin/bash /usr/local/lib/homecloud-pki/pki/key.sh request");
        assert.match(one("pki-gw-registry-sign").inputs.create, / HC_NAME=gw-registry HC_PROFILE=server HC_SANS=DNS:registry\.lab\.home\.arpa,IP:10\.77\.0\.1 /);
        assert.strictEqual(one("pki-gw-registry-cert").inputs.create,
            fileCommand("install", certFile("registry"), pkiUrn("pki-gw-registry-cert"), PKI_TOOLKIT_DIR));
    });

    it("trust: the CA certificate into every host's store, through update-ca-certificates", () => {
        for (const h of ["gw", "node1", "node2", "node3"]) {
            const t = one(`pki-${h}-trust`);
            assert.strictEqual(t.inputs.create, fileCommand("install", trustFile(), pkiUrn(`pki-${h}-trust`), PKI_TOOLKIT_DIR));
            assert.strictEqual(t.inputs.delete, fileCommand("remove", trustFile(), pkiUrn(`pki-${h}-trust`), PKI_TOOLKIT_DIR));
            assert.strictEqual(t.inputs.stdin, FIXTURE_CA);
            assert.deepStrictEqual(dependsOn(t), [`pki-${h}-toolkit`, "pki-ca"].sort());
        }
    });

    it("no private key in any input: only certificates and CSRs travel", () => {
        for (const c of find(COMMAND)) {
            assert.doesNotMatch(JSON.stringify(c.inputs).replace(/OPENSSH PRIVATE KEY[^"]*/g, ""), /PRIVATE KEY/, c.name);
        }
    });

    it("status: the nearest expiry among the CA and every certificate", async () => {
        assert.deepStrictEqual(await resolve(ca.status), {
            nearest: "node2-host", nearestExpiry: "2026-12-31T11:13:17.000Z", renewsFrom: "2027-01-02T00:00:00.000Z", lifetimeDays: 90,
        });
    });

    it("a forced renewal or a new epoch changes the signing lines only; caDestroy changes the CA's delete only", () => {
        const again = (p: AddressPlan, now: Date) => signCommand({
            name: "node1-host", profile: "server", sans: ["DNS:node1.lab.home.arpa", "IP:10.77.0.11"], days: 90, issue: issueToken(p, now), caSha256: CA_SHA,
        });
        assert.match(again(labPlan({ certificateRenewal: 1 }), NOW), / HC_ISSUE=346\.1 /);
        assert.match(again(plan, new Date("2027-01-02T00:00:00Z")), / HC_ISSUE=347\.0 /);
        assert.strictEqual(again(plan, new Date("2027-01-01T23:59:59Z")), one("pki-node1-host-sign").inputs.create);
        assert.notStrictEqual(caRemoveCommand(labPlan({ caDestroy: true }).pki.caDestroy), one("pki-ca").inputs.delete);
    });
});

describe("PrivateCa with a second gateway (mocks)", () => {
    const plan = labPlan(PAIR);
    const hook = (r: { name: string }): string | undefined =>
        r.name === "pki-ca" ? FIXTURE_CA : r.name.endsWith("-key") ? FIXTURE_CSR : r.name.endsWith("-sign") ? FIXTURE_CERT : undefined;

    before(async () => {
        reset();
        stdoutHooks.push(hook);
        const m = await import("../../pki/privateCa");
        const command = await import("@pulumi/command");
        const gw2Services = new command.remote.Command("gateway2-packages", { connection: { host: "10.77.0.2", privateKey: "k" }, create: "true" });
        const ca = new m.PrivateCa("pki", {
            plan, sshPrivateKey: KEY, now: NOW,
            hostKeys: testHostKeys(["gw", "gw2", ...plan.nodes.map((n) => n.name)]), hostWaitFor: { gw2: [gw2Services] },
        });
        await resolve(ca.status);
        await new Promise((r) => setTimeout(r, 50));
    });
    after(() => {
        stdoutHooks.splice(stdoutHooks.indexOf(hook), 1);
    });

    it("gw2 gets the toolkit, the CA in its trust store and its own key and certificate, like every host", () => {
        assert.deepStrictEqual(find(COMMAND).map((r) => r.name).filter((n) => n.startsWith("pki-gw2-")).sort(),
            ["pki-gw2-host-cert", "pki-gw2-host-key", "pki-gw2-host-sign", "pki-gw2-toolkit", "pki-gw2-trust"]);
        for (const n of ["toolkit", "trust", "host-key", "host-cert"]) {
            assert.strictEqual(one(`pki-gw2-${n}`).inputs.connection.value.host, "10.77.0.2", n);
        }
        assert.strictEqual(one("pki-gw2-host-key").inputs.create,
            "sudo -n /usr/bin/env HC_LABEL=host HC_CN=gw2.lab.home.arpa /bin/bash /usr/local/lib/homecloud-pki/pki/key.sh request");
        const sign = one("pki-gw2-host-sign");
        assert.strictEqual(sign.inputs.connection.value.host, "10.77.0.1", "signed on the first gateway, where the CA is");
        assert.strictEqual(sign.inputs.create, signCommand({
            name: "gw2-host", profile: "server", sans: ["DNS:gw2.lab.home.arpa", "IP:10.77.0.2"], days: 90, issue: "346.0", caSha256: CA_SHA,
        }));
        assert.strictEqual(one("pki-gw2-trust").inputs.stdin, FIXTURE_CA);
        assert.strictEqual(one("pki-gw2-host-cert").inputs.create, fileCommand("install", certFile("host"), pkiUrn("pki-gw2-host-cert"), PKI_TOOLKIT_DIR));
    });

    it("gw2's first step waits for gw2's own services; no other host's does", () => {
        assert.deepStrictEqual(dependsOn(one("pki-gw2-toolkit")), ["gateway2-packages"]);
        for (const h of ["gw", "node1", "node2", "node3"]) {
            assert.deepStrictEqual(dependsOn(one(`pki-${h}-toolkit`)), [], h);
        }
    });
});

describe("ClusterIssuer (mocks): cert-manager rooted in the gateway's CA", () => {
    const plan = labPlan({ k3sEnabled: true });
    before(async () => {
        reset();
        const caModule: typeof PrivateCaModule = await import("../../pki/privateCa");
        const m: typeof ClusterIssuerModule = await import("../../pki/clusterIssuer");
        const provider = new k8s.Provider("k3s", { kubeconfig: "apiVersion: v1\nkind: Config\n" });
        const ca = new caModule.PrivateCa("pki", { plan, sshPrivateKey: KEY, hostKeys: testHostKeys([plan.gateway.hostname, ...plan.nodes.map((n) => n.name)]), now: NOW });
        // Stands in for the cluster's kubeconfig read (any resource the Secret step must wait for).
        const ready = new k8s.core.v1.ConfigMap("k3s-kubeconfig", {}, { provider });
        const traefikNs = new k8s.core.v1.Namespace("traefik-namespace", { metadata: { name: "traefik" } }, { provider });
        const traefikRelease = new k8s.helm.v3.Release("traefik-release", { chart: "traefik" }, { provider });
        const issuer = new m.ClusterIssuer("cert-manager", {
            plan, ca, clusterReady: [ready], traefik: { namespace: traefikNs, release: traefikRelease },
        }, { providers: { kubernetes: provider } });
        await resolve(issuer.tlsStore.id);
        await new Promise((r) => setTimeout(r, 50));
    });

    const named = (name: string): RecordedResource => {
        const rs = recorded.filter((r) => r.name === name);
        assert.strictEqual(rs.length, 1, `one resource named ${name}`);
        return rs[0];
    };

    it("declares namespace, release, intermediate, Secret, issuer, certificate and TLS store, each after what it needs", () => {
        const order = ["cert-manager-namespace", "cert-manager-release", "cert-manager-intermediate-key", "cert-manager-intermediate-sign",
            "cert-manager-issuer-secret", "cert-manager-issuer", "cert-manager-wildcard", "cert-manager-tls-store"];
        const index = (n: string): number => recorded.findIndex((r) => r.name === n);
        assert.deepStrictEqual([...order].sort((a, b) => index(a) - index(b)), order, "registration order");
        for (const n of order) {
            assert.strictEqual(parentName(named(n)), "cert-manager", n);
        }
        assert.deepStrictEqual(dependsOn(named("cert-manager-release")), ["cert-manager-namespace"]);
        assert.deepStrictEqual(dependsOn(named("cert-manager-intermediate-key")), ["pki-node1-toolkit", "pki-node1-trust"]);
        assert.deepStrictEqual(dependsOn(named("cert-manager-intermediate-sign")),
            ["cert-manager-intermediate-key", "pki-ca", "pki-gw-toolkit"]);
        assert.deepStrictEqual(dependsOn(named("cert-manager-issuer-secret")),
            ["cert-manager-intermediate-key", "cert-manager-intermediate-sign", "cert-manager-namespace", "k3s-kubeconfig", "pki-node1-toolkit"]);
        assert.deepStrictEqual(dependsOn(named("cert-manager-issuer")), ["cert-manager-issuer-secret", "cert-manager-release"]);
        assert.deepStrictEqual(dependsOn(named("cert-manager-wildcard")), ["cert-manager-issuer", "traefik-namespace"]);
        assert.deepStrictEqual(dependsOn(named("cert-manager-tls-store")), ["cert-manager-wildcard", "traefik-namespace", "traefik-release"]);
        for (const n of ["cert-manager-namespace", "cert-manager-release", "cert-manager-issuer", "cert-manager-wildcard", "cert-manager-tls-store"]) {
            assert.match(named(n).provider, /^urn:pulumi:.*::pulumi:providers:kubernetes::k3s::/, `${n} uses the cluster's provider`);
        }
    });

    it("cert-manager from its pinned chart, CRDs from the chart and kept on uninstall", () => {
        const r = named("cert-manager-release").inputs;
        assert.deepStrictEqual({ chart: r.chart, version: r.version, repo: r.repositoryOpts.repo, namespace: r.namespace, atomic: r.atomic },
            { chart: "cert-manager", version: "v1.21.2", repo: "https://charts.jetstack.io", namespace: "cert-manager", atomic: true });
        assert.deepStrictEqual(r.values, certManagerValues());
        assert.deepStrictEqual(certManagerValues(), { crds: { enabled: true, keep: true } });
    });

    it("the intermediate: key on the first server, signed as a constrained CA on the gateway, into a Secret by kubectl there", () => {
        const key = named("cert-manager-intermediate-key").inputs;
        assert.strictEqual(key.connection.value.host, "10.77.0.11");
        assert.strictEqual(key.create,
            "sudo -n /usr/bin/env HC_LABEL=cluster-issuer HC_CN='homecloud cluster issuer lab.home.arpa' /bin/bash /usr/local/lib/homecloud-pki/pki/key.sh request");
        const sign = named("cert-manager-intermediate-sign").inputs;
        assert.strictEqual(sign.connection.value.host, "10.77.0.1");
        assert.match(sign.create, /^sudo -n \/usr\/bin\/env HC_NAME=node1-cluster-issuer HC_PROFILE=intermediate HC_PERMITTED='permitted;DNS:lab\.home\.arpa,permitted;IP:10\.77\.0\.0\/255\.255\.255\.0' HC_DAYS=180 HC_ISSUE=346\.0 HC_CA=\S* \/bin\/bash \/usr\/local\/lib\/homecloud-pki\/pki\/ca\.sh sign$/);
        const secret = named("cert-manager-issuer-secret").inputs;
        assert.strictEqual(secret.connection.value.host, "10.77.0.11");
        assert.strictEqual(secret.create, "sudo -n /usr/bin/env HC_NAMESPACE=cert-manager HC_SECRET=homecloud-issuer-ca HC_LABEL=cluster-issuer " +
            "/bin/bash /usr/local/lib/homecloud-pki/pki/cluster-issuer.sh install");
        assert.strictEqual(secret.delete, "sudo -n /usr/bin/env HC_NAMESPACE=cert-manager HC_SECRET=homecloud-issuer-ca HC_LABEL=cluster-issuer " +
            "/bin/bash /usr/local/lib/homecloud-pki/pki/cluster-issuer.sh remove");
    });

    it("the issuer, Traefik's wildcard certificate and its default TLS store", () => {
        const { __provider: _, ...issuer } = named("cert-manager-issuer").inputs;
        assert.deepStrictEqual(issuer, clusterIssuer());
        assert.deepStrictEqual(clusterIssuer(), {
            apiVersion: "cert-manager.io/v1", kind: "ClusterIssuer", metadata: { name: "homecloud" }, spec: { ca: { secretName: "homecloud-issuer-ca" } },
        });
        const { __provider: _c, ...cert } = named("cert-manager-wildcard").inputs;
        assert.deepStrictEqual(cert, wildcardCertificate(plan, "traefik"));
        assert.deepStrictEqual(wildcardCertificate(plan, "traefik").spec, {
            secretName: "homecloud-wildcard-tls", commonName: "*.lab.home.arpa", dnsNames: ["*.lab.home.arpa", "lab.home.arpa"],
            duration: "2160h", renewBefore: "720h", privateKey: { algorithm: "ECDSA", size: 256, rotationPolicy: "Always" },
            issuerRef: { group: "cert-manager.io", kind: "ClusterIssuer", name: "homecloud" },
        });
        const { __provider: _s, ...store } = named("cert-manager-tls-store").inputs;
        assert.deepStrictEqual(store, traefikDefaultTlsStore("traefik"));
        assert.deepStrictEqual(traefikDefaultTlsStore("traefik"), {
            apiVersion: "traefik.io/v1alpha1", kind: "TLSStore", metadata: { name: "default", namespace: "traefik" },
            spec: { defaultCertificate: { secretName: "homecloud-wildcard-tls" } },
        });
    });
});
