// Pinned SSH host keys: homecloud:hostKeys validated with exact messages, keys parsed and
// fingerprinted as OpenSSH does, every command pinned (config-given or learned) but the learn
// steps, the learn steps themselves, and the refusal of a changed key before any command.
import * as assert from "assert";
import * as fs from "fs";
import * as pulumi from "@pulumi/pulumi";
import { ConfigError } from "../../config/plan";
import { RawConfig } from "../../config/schema";
import { parseSshPublicKey } from "../../config/sshKey";
import { parseAddressPlan } from "../../config/validate";
import { checkPin, Pin } from "../../host/hostKeyCheck";
import { LEARN_HOST_KEY } from "../../host/hostKeys";
import { keyscanResult } from "../../host/keyscan";
import { hostKeyOptions, removeKeyFiles } from "../../lab/engine/ssh";
import { byUrn, find, isSecret, recorded, RecordedResource, reset, resolve, scanAnswers, scans, stdoutHooks, testHostKey } from "../mocks";
import { runProgram, stackFile, TEST_SSH_KEY } from "../program";
import { k3sStdout } from "../fixtures/k3s";

// Throwaway keys made with ssh-keygen; the fingerprints are what `ssh-keygen -lf` printed for them.
const ED = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG1I5YganLan9ELs+oz6CkiZOcCasxHiTvP3rwbmdiN2";
const ED_FP = "SHA256:a4bipwyI/z4zIAUfZ4uyDj1Ag7YsLgopG05XN01WVPE";
const OTHER = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIArxYZsl8mmQ/oZQ5VFEDVKi5IDEJzaWskzQdCzP7zPq";
const OTHER_FP = "SHA256:t+sFIrJAmsa0QIuQuZ1Y0t6vFIDGbzTpH0RKM/NeYek";
const ECDSA = "ecdsa-sha2-nistp384 AAAAE2VjZHNhLXNoYTItbmlzdHAzODQAAAAIbmlzdHAzODQAAABhBIbpnjYhOSAr1smPIwqgD2Bz6HAhRA16uSPix5LE27D5eZE4mnjKvXw9EU4aV5JM2G9CkTF/QtTX57VkBB6VXscXhUdqWeVC2jKU+u/vqjszh91SOHpwv8PLzyVa6XToUg==";
const ECDSA_FP = "SHA256:Wk3NJY7xU0M05waKgYMtPgOmt/WBq9QU3dkRflPUD9c";
/** A well-formed ed25519 blob whose key is 16 bytes, not 32. */
const SHORT_ED = Buffer.concat([Buffer.from([0, 0, 0, 11]), Buffer.from("ssh-ed25519"), Buffer.from([0, 0, 0, 16]), Buffer.alloc(16, 7)]).toString("base64");
const RSA = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQC0ZqyxMpZX1nUffrYq+oD3";

const COMMAND = "command:remote:Command";
const LEARN_INPUTS = ["connection", "create", "logging", "addPreviousOutputInEnv"];
const LAB_ADDRESSES: Record<string, string> = { gw: "10.77.0.1", node1: "10.77.0.11", node2: "10.77.0.12", node3: "10.77.0.13" };

function labRaw(hostKeys?: unknown): RawConfig {
    return { ...stackFile("Pulumi.lab.yaml"), ...hostKeys === undefined ? {} : { hostKeys } };
}

function problems(hostKeys: unknown): readonly string[] {
    try {
        parseAddressPlan(labRaw(hostKeys));
    } catch (e) {
        assert.ok(e instanceof ConfigError, `expected ConfigError, got ${e}`);
        return (e as ConfigError).problems;
    }
    return assert.fail("the configuration was accepted");
}

function fingerprint(key: string): string {
    const k = parseSshPublicKey(key);
    assert.ok(!("problem" in k), key);
    return k.fingerprint;
}

/** The host a command dials and the key it pins (undefined for none). */
function pinOf(r: RecordedResource): { host: string; hostKey: string | undefined } {
    const c = r.inputs.connection.value;
    return { host: c.host, hostKey: c.hostKey };
}

describe("SSH host keys: homecloud:hostKeys", () => {
    it("takes one { host, key } per host, the gateway included, and pins the key without its comment", () => {
        const { plan } = parseAddressPlan(labRaw([{ host: "gw", key: `${ED} root@gw` }, { host: "node2", key: ECDSA }]));
        assert.deepStrictEqual(plan.hostKeys, { gw: ED, node2: ECDSA });
        assert.deepStrictEqual(parseAddressPlan(labRaw()).plan.hostKeys, {}, "none given: every key is learned");
    });

    it("fingerprints keys as ssh-keygen -l prints them", () => {
        assert.strictEqual(fingerprint(ED), ED_FP);
        assert.strictEqual(fingerprint(OTHER), OTHER_FP);
        assert.strictEqual(fingerprint(ECDSA), ECDSA_FP);
    });

    it("refuses a bad list, unknown hosts and a second key for a host, naming the key and the fix", () => {
        assert.deepStrictEqual(problems({ gw: ED }), [
            "homecloud:hostKeys: must be a list of { host, key } (an empty list means every host's key is learned on the first up)",
        ]);
        assert.deepStrictEqual(problems([{ host: "client", key: ED }, { host: "node1", key: ED }, { host: "node1", key: OTHER }, "gw"]), [
            "homecloud:hostKeys[0].host: \"client\" is not a host the program reaches over SSH; use the gateway's host name or a node's name (gw, node1, node2, node3)",
            "homecloud:hostKeys[2].host: \"node1\" already has a key at homecloud:hostKeys[1]; give one key per host",
            "homecloud:hostKeys[3]: must be an object, got \"gw\"",
        ]);
        assert.deepStrictEqual(problems([{ host: "gw" }]), ["homecloud:hostKeys[0].key: is required"]);
    });

    it("refuses keys of the wrong algorithm, bad base64 and keys that are not whole, with exact messages", () => {
        const tail = "copy the whole second field of the host's key file";
        assert.deepStrictEqual(problems([
            { host: "gw", key: "hello" },
            { host: "node1", key: RSA },
            { host: "node2", key: "ssh-dss AAAAB3NzaC1kc3M=" },
            { host: "node3", key: "ssh-ed25519 AAAA!C3Nz" },
        ]), [
            "homecloud:hostKeys[0].key: \"hello\" is not an SSH public key; give the host's key as /etc/ssh/ssh_host_ed25519_key.pub holds it, e.g. ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA…",
            "homecloud:hostKeys[1].key: \"ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQC0…\" is an ssh-rsa key, which cannot be pinned: the connection then offers only ssh-rsa (SHA-1) signatures, which OpenSSH 8.8 and later refuse; give the host's ed25519 key (/etc/ssh/ssh_host_ed25519_key.pub)",
            "homecloud:hostKeys[2].key: \"ssh-dss AAAAB3NzaC1kc3M=\" has the key type \"ssh-dss\"; use ssh-ed25519 (/etc/ssh/ssh_host_ed25519_key.pub) or ecdsa-sha2-nistp256/384/521",
            `homecloud:hostKeys[3].key: "ssh-ed25519 AAAA!C3Nz" is not base64 after the key type; ${tail}`,
        ]);
        const ecdsaBlob = ECDSA.split(" ")[1];
        const edBlob = ED.split(" ")[1];
        assert.deepStrictEqual(problems([
            { host: "gw", key: `ssh-ed25519 ${ecdsaBlob}` },
            { host: "node1", key: `ssh-ed25519 ${edBlob.slice(0, 40)}` },
            { host: "node2", key: `ssh-ed25519 ${SHORT_ED}` },
        ]), [
            `homecloud:hostKeys[0].key: "ssh-ed25519 ${ecdsaBlob.slice(0, 28)}…" is not a whole ssh-ed25519 key: its base64 holds a key of type "ecdsa-sha2-nistp384", not ssh-ed25519; ${tail}`,
            `homecloud:hostKeys[1].key: "ssh-ed25519 ${edBlob.slice(0, 28)}…" is not a whole ssh-ed25519 key: its base64 does not hold an SSH key; ${tail}`,
            `homecloud:hostKeys[2].key: "ssh-ed25519 ${SHORT_ED.slice(0, 28)}…" is not a whole ssh-ed25519 key: its base64 is not a whole ed25519 key (32 bytes); ${tail}`,
        ]);
    });
});

describe("SSH host keys: every command pins its host's key (program under mocks)", () => {
    before(() => {
        stdoutHooks.push(k3sStdout("k3s"));
    });

    it("lab stack, no keys given: a learn step per host, every other command pins the learned key and waits for its learn step", async () => {
        scans.length = 0;
        const { outputs, resources } = await runProgram(stackFile("Pulumi.lab.yaml"));
        const commands = resources.filter((r) => r.type === COMMAND);
        const learn = commands.filter((r) => r.name.startsWith("hostkeys-"));
        assert.deepStrictEqual(learn.map((r) => r.name).sort(), ["hostkeys-gw", "hostkeys-node1", "hostkeys-node2", "hostkeys-node3"]);
        const learnByAddress = new Map(learn.map((r) => [pinOf(r).host, r]));
        for (const c of commands.filter((r) => !learn.includes(r))) {
            const { host, hostKey } = pinOf(c);
            assert.strictEqual(hostKey, testHostKey(host), `${c.name} pins the key learned on ${host}`);
            assert.ok(c.dependencies.includes(learnByAddress.get(host)!.registeredUrn), `${c.name} waits for the learn step of ${host}`);
        }
        assert.ok(commands.length - learn.length > 30, `only ${commands.length - learn.length} pinned commands`);
        assert.deepStrictEqual(await resolve(outputs.hostKeys), Object.entries(LAB_ADDRESSES).map(([host, a]) => ({ host, key: testHostKey(a) })));
        assert.strictEqual(await isSecret(outputs.hostKeys), false, "public keys are not secret");
        // What each host offers is read once per host before its commands (under the mocks: nobody answers).
        assert.deepStrictEqual(scans.map((s) => `${s.address}:${s.port} ${s.type}`).sort(),
            Object.values(LAB_ADDRESSES).map((a) => `${a}:22 ssh-ed25519`).sort());
    });

    it("the learn step: the host's ed25519 key file, unpinned, no delete, no triggers, every input ignored after the first run, the SSH key secret", async () => {
        const { resources } = await runProgram(stackFile("Pulumi.lab.yaml"));
        const learn = resources.find((r) => r.name === "hostkeys-node1")!;
        assert.deepStrictEqual(Object.keys(learn.inputs).sort(), ["addPreviousOutputInEnv", "connection", "create", "logging"]);
        assert.strictEqual(learn.inputs.create, LEARN_HOST_KEY);
        assert.strictEqual(LEARN_HOST_KEY, 'f=/etc/ssh/ssh_host_ed25519_key.pub; test -r "$f" || { echo "homecloud: $(hostname) has no readable $f; ' +
            'give its host key in homecloud:hostKeys" >&2; exit 1; }; cat "$f"');
        assert.deepStrictEqual(learn.ignoreChanges, LEARN_INPUTS);
        assert.deepStrictEqual(learn.replaceOnChanges, ["triggers[*]"], "what @pulumi/command always registers; the step has no triggers");
        assert.strictEqual(learn.inputs.connection["4dabf18193072939515e22adb298388d"], "1b47061264138c4ac30d75fd1eb44270", "connection is secret");
        assert.deepStrictEqual(learn.inputs.connection.value, {
            host: "10.77.0.11", port: 22, user: "pi", privateKey: TEST_SSH_KEY, dialErrorLimit: 60, perDialTimeout: 5,
        });
        assert.deepStrictEqual(learn.additionalSecretOutputs, ["connection"], "the key it prints is public: stdout is not secret");
        const parent = byUrn(learn.parent)!;
        assert.strictEqual(`${parent.type} ${parent.name}`, "homecloud:host:HostKeys hostkeys");
    });

    it("keys given in config are pinned as given, and those hosts get no learn step", async () => {
        const { outputs, resources } = await runProgram(labRaw([{ host: "gw", key: `${ED} root@gw` }, { host: "node1", key: OTHER }]));
        const commands = resources.filter((r) => r.type === COMMAND);
        assert.deepStrictEqual(commands.filter((r) => r.name.startsWith("hostkeys-")).map((r) => r.name).sort(), ["hostkeys-node2", "hostkeys-node3"]);
        const expected: Record<string, string> = { "10.77.0.1": ED, "10.77.0.11": OTHER, "10.77.0.12": testHostKey("10.77.0.12"), "10.77.0.13": testHostKey("10.77.0.13") };
        for (const c of commands.filter((r) => !r.name.startsWith("hostkeys-"))) {
            assert.strictEqual(pinOf(c).hostKey, expected[pinOf(c).host], c.name);
        }
        assert.deepStrictEqual((await resolve(outputs.hostKeys)).map((e) => e.key), [ED, OTHER, testHostKey("10.77.0.12"), testHostKey("10.77.0.13")]);
    });

    it("dev stack with K3s: every cluster, PKI and gateway command pins its host's key", async () => {
        const { resources } = await runProgram(stackFile("Pulumi.dev.yaml"));
        const commands = resources.filter((r) => r.type === COMMAND && !r.name.startsWith("hostkeys-"));
        assert.ok(commands.some((c) => c.name.startsWith("k3s-")) && commands.some((c) => c.name.startsWith("pki-")));
        for (const c of commands) {
            assert.strictEqual(pinOf(c).hostKey, testHostKey(pinOf(c).host), c.name);
        }
        assert.strictEqual(resources.filter((r) => r.name.startsWith("hostkeys-") && r.type === COMMAND).length, 5);
    });
});

describe("SSH host keys: a changed key is refused before anything is sent", () => {
    const { plan } = parseAddressPlan(labRaw());
    const learned1 = testHostKey("10.77.0.11");

    function pin(source: "config" | "learned", key: string): Pin {
        const k = parseSshPublicKey(key);
        assert.ok(!("problem" in k));
        return { host: { name: "node1", address: "10.77.0.11" }, port: 22, key: k, source, learnStep: "hostkeys-node1" };
    }

    it("names the host, both fingerprints and the fix, for a learned key and for one from config", async () => {
        const offered = async () => ({ kind: "offered", key: OTHER } as const);
        assert.deepStrictEqual(await checkPin(pin("learned", learned1), offered), {
            ok: false,
            message: `homecloud: the SSH host key of node1 (10.77.0.11:22) has changed: expected ssh-ed25519 ${fingerprint(learned1)} ` +
                `(learned on the first up), offered ssh-ed25519 ${OTHER_FP}. Nothing was sent to node1. If node1 was re-imaged, check the ` +
                "new key on it (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub) and put its new key in homecloud:hostKeys, or forget the " +
                "learned one: pulumi up --replace \"$(pulumi stack --show-urns | grep -o 'urn:[^ ]*::hostkeys-node1$')\". " +
                "Otherwise something else answers at 10.77.0.11:22: find it before the next up",
        });
        assert.deepStrictEqual(await checkPin(pin("config", ED), async () => ({ kind: "none" })), {
            ok: false,
            message: `homecloud: the SSH host key of node1 (10.77.0.11:22) has changed: expected ssh-ed25519 ${ED_FP} ` +
                "(from homecloud:hostKeys), offered no ssh-ed25519 key. Nothing was sent to node1. If node1 was re-imaged, check the " +
                "new key on it (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub) and put its new key in its entry of homecloud:hostKeys. " +
                "Otherwise something else answers at 10.77.0.11:22: find it before the next up",
        });
    });

    it("passes the same key, and leaves a host that does not answer to the command's own pinned dial", async () => {
        assert.deepStrictEqual(await checkPin(pin("config", ED), async () => ({ kind: "offered", key: ED })), { ok: true });
        assert.deepStrictEqual(await checkPin(pin("config", ED), async () => ({ kind: "unreachable", detail: "no answer" })), { ok: true });
        const noTool = await checkPin(pin("config", ED), async () => ({ kind: "noScanner" }));
        assert.deepStrictEqual(noTool, {
            ok: true, warning: "homecloud: ssh-keyscan is not installed here, so node1's host key is not checked before the up; it is " +
                "still pinned, but a changed key then fails only as the provider's handshake error after its retries: install openssh-client",
        });
    });

    it("reads ssh-keyscan's answer: the key it printed, a server without that key type, no answer, no ssh-keyscan", () => {
        const banner = "# 10.77.0.11:22 SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\n";
        assert.deepStrictEqual(keyscanResult(`10.77.0.11 ${OTHER}\n`, banner, false), { kind: "offered", key: OTHER });
        assert.deepStrictEqual(keyscanResult(`[10.77.0.11]:2222 ${ECDSA}\n`, banner.replace(":22 ", ":2222 "), false), { kind: "offered", key: ECDSA });
        assert.deepStrictEqual(keyscanResult("", banner, false), { kind: "none" });
        assert.deepStrictEqual(keyscanResult(banner, "", false), { kind: "none" }, "newer OpenSSH prints the banner on stdout");
        assert.deepStrictEqual(keyscanResult(`${banner}10.77.0.11 ${OTHER}\n`, "", false), { kind: "offered", key: OTHER });
        assert.deepStrictEqual(keyscanResult("", "10.77.0.11: Connection refused\n", false), { kind: "unreachable", detail: "10.77.0.11: Connection refused" });
        assert.deepStrictEqual(keyscanResult("", "", false), { kind: "unreachable", detail: "no answer" });
        assert.deepStrictEqual(keyscanResult("", "", true), { kind: "noScanner" });
    });

    it("a host offering another key gets no command registered; the other hosts go on", async () => {
        reset();
        scanAnswers.set("10.77.0.11", { kind: "offered", key: OTHER });
        scanAnswers.set("10.77.0.12", { kind: "offered", key: testHostKey("10.77.0.12") });
        try {
            const { HostKeys } = await import("../../host/hostKeys");
            const { hostToolkit } = await import("../../host/hostOps");
            const keys = new HostKeys("hk", { plan, sshPrivateKey: pulumi.secret(TEST_SSH_KEY) });
            const swallow = (e: unknown) => { if (!/has changed/.test(String(e))) { throw e; } };
            process.on("unhandledRejection", swallow);
            try {
                for (const n of ["node1", "node2"]) {
                    hostToolkit(`probe-${n}`, { host: LAB_ADDRESSES[n], port: 22, user: "pi", privateKey: TEST_SSH_KEY, hostKey: keys.key(n) }, [], {});
                }
                const error = await (keys.key("node1") as unknown as { promise(): Promise<string> }).promise().then(() => "", (e: Error) => e.message);
                assert.match(error, new RegExp(`^homecloud: the SSH host key of node1 \\(10\\.77\\.0\\.11:22\\) has changed: expected ssh-ed25519 ${escape(fingerprint(learned1))} \\(learned on the first up\\), offered ssh-ed25519 ${escape(OTHER_FP)}\\. Nothing was sent to node1\\.`));
                assert.strictEqual(await resolve(keys.key("node2")), testHostKey("10.77.0.12"));
                await new Promise((r) => setTimeout(r, 100));
                assert.deepStrictEqual(find(COMMAND, "probe-").map((r) => r.name), ["probe-node2"], "node1's command never reached the engine");
                assert.strictEqual(recorded.filter((r) => r.type === COMMAND && pinOf(r).host === "10.77.0.11" && !r.name.startsWith("hk-")).length, 0);
            } finally {
                await new Promise((r) => setTimeout(r, 50));
                process.off("unhandledRejection", swallow);
            }
        } finally {
            scanAnswers.clear();
        }
    });
});

function escape(s: string): string {
    return s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}

describe("SSH host keys: the lab's SSH engine pins connection.hostKey as the provider does", () => {
    after(removeKeyFiles);

    it("with hostKey: a known_hosts file holding only that key, strict checking, and only that key's type offered", () => {
        const opts = hostKeyOptions(`${ECDSA} root@gw`);
        const file = opts[opts.indexOf("-o") + 3].replace(/^UserKnownHostsFile=/, "");
        assert.deepStrictEqual(opts, [
            "-o", "StrictHostKeyChecking=yes", "-o", `UserKnownHostsFile=${file}`, "-o", "GlobalKnownHostsFile=/dev/null",
            "-o", "HostKeyAlias=homecloud-pinned", "-o", "CheckHostIP=no", "-o", "HostKeyAlgorithms=ecdsa-sha2-nistp384",
        ]);
        assert.strictEqual(fs.readFileSync(file, "utf8"), `homecloud-pinned ${ECDSA}\n`);
        assert.strictEqual(fs.statSync(file).mode & 0o777, 0o600);
    });

    it("without hostKey: any key, as the provider's InsecureIgnoreHostKey", () => {
        assert.deepStrictEqual(hostKeyOptions(undefined), ["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null"]);
    });
});
