// Runs the real toolkit scripts (host/scripts/host-file.sh, network/packages.sh) through the
// very command lines the hosts get (sudo replaced by a function that runs the rest as is),
// on files under a scratch directory, in a private mount namespace where a scratch dir is
// bound over /var/lib (the state directory) and the repository stands in for the toolkit
// under /usr/local/lib/homecloud. Test hooks live in ./hooks. Needs root (unshare --mount).
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { fileCommand, HostFileSpec, SERIAL_TOKEN } from "../../host/hostFile";
import { packagesCommands } from "../../network/gateway";
import { REPO, Run, runOnHost as runOnHostIn } from "./harness";
import { HOST_SCRIPTS, scriptsIn, toolkitInstaller } from "../../host/toolkit";

const ROOT = `/tmp/hc-test-${process.pid}`;
const VARLIB = `${ROOT}/varlib`;
const USRLOCALLIB = `${ROOT}/usrlocallib`;
const ETC = `${ROOT}/etc`;
const DEST = `${ETC}/x.conf`;
const LOG = `${ROOT}/activations`;
const SAVED = `${VARLIB}/homecloud/original${DEST}`;

/** Runs a command line as a host would, with `stdin`, in the namespace of ./harness.ts. */
function runOnHost(commandLine: string, stdin = "", env: Record<string, string> = {}): Run {
    return runOnHostIn(VARLIB, USRLOCALLIB, commandLine, stdin, env);
}

/** The numeric id of a group, from the host's group database. */
const execGid = (group: string): string => {
    const line = fs.readFileSync("/etc/group", "utf8").split("\n").find((l) => l.startsWith(`${group}:`));
    assert.ok(line, `no group ${group}`);
    return line.split(":")[2];
};
const activations = (): string[] => fs.existsSync(LOG) ? fs.readFileSync(LOG, "utf8").trim().split("\n") : [];
const content = (): string | undefined => fs.existsSync(DEST) ? fs.readFileSync(DEST, "utf8") : undefined;
const mode = (p: string): string => (fs.statSync(p).mode & 0o7777).toString(8);
/** What is left in the destination directory besides the file itself (candidates, backups). */
const leftovers = (): string[] => fs.readdirSync(ETC).filter((f) => f !== "x.conf");

/** A spec whose activation logs what it saw and fails on content containing "explode" (hooks/logging.sh). */
function spec(extra: Partial<HostFileSpec> = {}): HostFileSpec {
    return { path: DEST, hooks: "test/checkers/hooks/logging.sh", ...extra, env: { HC_LOG: LOG, ...extra.env } };
}

const install = (text: string, s: HostFileSpec = spec()): Run => runOnHost(fileCommand("install", s), text);
const remove = (s: HostFileSpec = spec()): Run => runOnHost(fileCommand("remove", s));

function succeeded(r: Run, stdout: string): void {
    assert.strictEqual(r.status, 0, r.stderr);
    assert.strictEqual(r.stdout, stdout);
}

describe("host scripts on a real shell", () => {
    beforeEach(() => {
        fs.rmSync(ROOT, { recursive: true, force: true });
        fs.mkdirSync(ETC, { recursive: true });
        fs.mkdirSync(VARLIB, { recursive: true });
    });

    after(() => {
        fs.rmSync(ROOT, { recursive: true, force: true });
    });

    it("installs a new file and removes it again without a trace", () => {
        succeeded(install("a = 1\n"), `homecloud: ${DEST} installed\n`);
        assert.strictEqual(content(), "a = 1\n");
        assert.strictEqual(mode(DEST), "644");
        assert.ok(fs.existsSync(`${SAVED}.absent`), "remembers there was no file before");
        assert.deepStrictEqual(activations(), ["activate a = 1"]);
        assert.deepStrictEqual(leftovers(), []);

        succeeded(remove(), `homecloud: ${DEST} restored\n`);
        assert.strictEqual(content(), undefined);
        assert.ok(!fs.existsSync(`${SAVED}.absent`) && !fs.existsSync(SAVED));
        assert.deepStrictEqual(leftovers(), []);
        assert.deepStrictEqual(activations(), ["activate a = 1", "revert"]);
    });

    it("keeps the host's original once and puts it back on remove, mode included", () => {
        fs.writeFileSync(DEST, "original\n", { mode: 0o600 });
        fs.chmodSync(DEST, 0o600);
        succeeded(install("ours 1\n", spec({ mode: "0640" })), `homecloud: ${DEST} installed\n`);
        assert.strictEqual(mode(DEST), "640");
        succeeded(install("ours 2\n", spec({ mode: "0640" })), `homecloud: ${DEST} installed\n`);
        assert.strictEqual(fs.readFileSync(SAVED, "utf8"), "original\n", "the original, not our first version");
        succeeded(remove(), `homecloud: ${DEST} restored\n`);
        assert.strictEqual(content(), "original\n");
        assert.strictEqual(mode(DEST), "600");
        assert.ok(!fs.existsSync(SAVED));
        assert.deepStrictEqual(leftovers(), []);
    });

    it("leaves the old file alone and fails with the checker's message when the check rejects", () => {
        const checked = spec({ hooks: "test/checkers/hooks/checked.sh" });
        succeeded(install("valid 1\n", checked), `homecloud: ${DEST} installed\n`);
        const r = install("broken\n", checked);
        assert.strictEqual(r.status, 1);
        assert.strictEqual(r.stdout, "");
        assert.match(r.stderr, new RegExp(`^homecloud: ${DEST} rejected by its checker; the running configuration is untouched:\n` +
            "no valid line in x\\.conf\\.homecloud\\.[A-Za-z0-9]{6}\n$"));
        assert.strictEqual(content(), "valid 1\n");
        assert.deepStrictEqual(activations(), ["activate valid 1"], "activate did not run");
        assert.deepStrictEqual(leftovers(), [], "the candidate is cleaned up");
    });

    it("runs a check with set -e: any failing step rejects, even when a later one succeeds", () => {
        const r = install("broken\n", spec({ hooks: "test/checkers/hooks/unchained.sh" }));
        assert.strictEqual(r.status, 1);
        assert.match(r.stderr, /rejected by its checker/);
        assert.strictEqual(content(), undefined);
    });

    it("runs a check with pipefail: a failing stage of a pipeline rejects", () => {
        const r = install("anything\n", spec({ hooks: "test/checkers/hooks/piped.sh" }));
        assert.strictEqual(r.status, 1);
        assert.match(r.stderr, /rejected by its checker/);
        assert.strictEqual(content(), undefined);
    });

    it("applies a changed mode or owner to unchanged content, and activates it", () => {
        succeeded(install("same\n"), `homecloud: ${DEST} installed\n`);
        assert.strictEqual(mode(DEST), "644");
        succeeded(install("same\n", spec({ mode: "0600" })), `homecloud: ${DEST} installed\n`);
        assert.strictEqual(mode(DEST), "600");
        succeeded(install("same\n", spec({ mode: "0600", owner: "root:nogroup" })), `homecloud: ${DEST} installed\n`);
        assert.strictEqual(fs.statSync(DEST).gid, Number(execGid("nogroup")));
        assert.strictEqual(mode(DEST), "600");
        succeeded(install("same\n", spec({ mode: "0600", owner: "root:nogroup" })), `homecloud: ${DEST} unchanged\n`);
        assert.deepStrictEqual(activations(), ["activate same", "activate same", "activate same"]);
        assert.deepStrictEqual(leftovers(), []);
    });

    it("every host script runs with pipefail: scripts set it, hooks run under it, the toolkit installer too", () => {
        const scripts = [...HOST_SCRIPTS, ...["network", "cluster", "pki"].flatMap(scriptsIn)];
        const run = scripts.filter((f) => fs.readFileSync(path.join(REPO, f), "utf8").startsWith("#!/bin/bash\n"));
        assert.deepStrictEqual(run, ["host/scripts/host-file.sh", "network/ddns-keys.sh", "network/dyn-zone.sh", "network/etcd-snapshots.sh", "network/packages.sh",
            "cluster/k3s-node.sh", "pki/ca.sh", "pki/cluster-issuer.sh", "pki/k3s-client.sh", "pki/key.sh", "pki/reachable.sh"]);
        for (const f of run) {
            const sets = fs.readFileSync(path.join(REPO, f), "utf8").split("\n").filter((l) => /^set /.test(l));
            assert.deepStrictEqual(sets, ["set -euo pipefail"], f);
        }
        // Every other script is sourced: hooks (by host-file.sh, under pipefail) and libraries.
        for (const f of scripts.filter((x) => !run.includes(x))) {
            assert.ok(fs.readFileSync(path.join(REPO, f), "utf8").startsWith("# shellcheck shell=bash"), `${f} is sourced`);
        }
        assert.ok(toolkitInstaller([]).startsWith("set -euo pipefail\n"));
    });

    it("is one short command line, and a failure reads as one line naming the file", () => {
        const line = fileCommand("install", spec({ hooks: "test/checkers/hooks/checked.sh" }));
        assert.strictEqual(line, `sudo -n /usr/bin/env HC_DEST=${DEST} HC_HOOKS=test/checkers/hooks/checked.sh HC_LOG=${LOG} ` +
            "/bin/bash /usr/local/lib/homecloud/host/scripts/host-file.sh install");
        const r = runOnHost(line, "nothing valid\n");
        assert.strictEqual(r.stderr.split("\n")[0], `homecloud: ${DEST} rejected by its checker; the running configuration is untouched:`);
    });

    it("rolls back to the previous file when activation fails, and activates that again", () => {
        succeeded(install("v1\n"), `homecloud: ${DEST} installed\n`);
        const r = install("explode\n");
        assert.strictEqual(r.status, 1);
        assert.strictEqual(r.stderr, `homecloud: activating ${DEST} failed; putting the previous file back:\n\n`);
        assert.strictEqual(content(), "v1\n");
        assert.deepStrictEqual(activations(), ["activate v1", "activate explode", "activate v1"]);
        assert.deepStrictEqual(leftovers(), []);
    });

    it("removes a first file again when its activation fails", () => {
        assert.strictEqual(install("explode\n").status, 1);
        assert.strictEqual(content(), undefined);
        assert.deepStrictEqual(leftovers(), []);
    });

    it("changes and activates nothing when the content is unchanged", () => {
        succeeded(install("same\n"), `homecloud: ${DEST} installed\n`);
        const before = fs.statSync(DEST).mtimeMs;
        succeeded(install("same\n"), `homecloud: ${DEST} unchanged\n`);
        assert.strictEqual(fs.statSync(DEST).mtimeMs, before);
        assert.deepStrictEqual(activations(), ["activate same"]);
    });

    it("a renamed resource takes the file over; the old name's delete then leaves it alone", () => {
        const install = (text: string, owner: string): Run => runOnHost(fileCommand("install", spec(), owner), text);
        const remove = (owner: string): Run => runOnHost(fileCommand("remove", spec(), owner));
        succeeded(install("v1\n", "gw-dns-reverse-zone"), `homecloud: ${DEST} installed\n`);
        // The engine creates the new name first (same content: nothing to install, but it claims the file) ...
        succeeded(install("v1\n", "gw-dns-reverse-0.77.10.in-addr.arpa"), `homecloud: ${DEST} unchanged\n`);
        // ... and deletes the old name afterwards.
        succeeded(remove("gw-dns-reverse-zone"), `homecloud: ${DEST} belongs to gw-dns-reverse-0.77.10.in-addr.arpa now; left as it is\n`);
        assert.strictEqual(content(), "v1\n");
        assert.deepStrictEqual(activations(), ["activate v1"], "no revert ran");
        succeeded(remove("gw-dns-reverse-0.77.10.in-addr.arpa"), `homecloud: ${DEST} restored\n`);
        assert.strictEqual(content(), undefined);
        assert.ok(!fs.existsSync(`${VARLIB}/homecloud`), "no bookkeeping left");
    });

    describe("zone serial", () => {
        const zone = (body: string) => `$TTL 300\n@ IN SOA ns. hostmaster. (\n        ${SERIAL_TOKEN} ; serial\n        1 1 1 1 )\n${body}`;
        const zoneSpec = spec({ zoneSerial: true });
        const today = () => new Date().toISOString().slice(0, 10).replace(/-/g, "");
        const serial = () => /^ {8}(\d+) ; serial$/m.exec(content() ?? "")?.[1];

        it("starts at today's YYYYMMDD00 and grows only when the zone changes", () => {
            succeeded(install(zone("a IN A 10.0.0.1\n"), zoneSpec), `homecloud: ${DEST} installed\n`);
            assert.strictEqual(serial(), `${today()}00`);
            assert.ok(!content()!.includes(SERIAL_TOKEN));
            succeeded(install(zone("a IN A 10.0.0.1\n"), zoneSpec), `homecloud: ${DEST} unchanged\n`);
            assert.strictEqual(serial(), `${today()}00`);
            succeeded(install(zone("a IN A 10.0.0.2\n"), zoneSpec), `homecloud: ${DEST} installed\n`);
            assert.strictEqual(serial(), `${today()}01`);
            succeeded(install(zone("a IN A 10.0.0.3\n"), zoneSpec), `homecloud: ${DEST} installed\n`);
            assert.strictEqual(serial(), `${today()}02`);
            assert.strictEqual(activations().filter((l) => l.startsWith("activate")).length, 3);
        });

        it("counts on from an installed serial that is ahead of today", () => {
            fs.writeFileSync(DEST, zone("old IN A 10.0.0.9\n").replace(SERIAL_TOKEN, "2999010105"));
            succeeded(install(zone("a IN A 10.0.0.1\n"), zoneSpec), `homecloud: ${DEST} installed\n`);
            assert.strictEqual(serial(), "2999010106");
        });
    });
});

describe("gateway packages step (apt and dpkg stubbed)", () => {
    const STUBS = `${ROOT}/bin`;
    const INSTALLED = `${ROOT}/installed`;
    const CALLS = `${ROOT}/calls`;
    const RECORD = `${VARLIB}/homecloud/packages-installed`;
    const packages = ["kea-dhcp4-server", "bind9", "nftables"];
    const env = { PATH: `${STUBS}:${process.env.PATH}`, STUB_INSTALLED: INSTALLED, STUB_CALLS: CALLS };
    const lines = (p: string) => fs.existsSync(p) ? fs.readFileSync(p, "utf8").trim().split("\n").filter(Boolean) : [];

    beforeEach(() => {
        fs.rmSync(ROOT, { recursive: true, force: true });
        fs.mkdirSync(STUBS, { recursive: true });
        fs.mkdirSync(VARLIB, { recursive: true });
        const stub = (name: string, body: string) => fs.writeFileSync(path.join(STUBS, name), `#!/bin/bash\n${body}\n`, { mode: 0o755 });
        stub("dpkg-query", 'if grep -qx "${!#}" "$STUB_INSTALLED"; then printf "install ok installed"; else exit 1; fi');
        stub("apt-get", 'echo "apt-get $*" >> "$STUB_CALLS"\n' +
            'if [ "$1" = install ] || [ "$3" = install ] || [ "$4" = install ]; then\n' +
            '  for a in "$@"; do case $a in -*|install) ;; *) echo "$a" >> "$STUB_INSTALLED";; esac; done\nfi');
        stub("dpkg", 'echo "dpkg $*" >> "$STUB_CALLS"\nshift\nfor p in "$@"; do sed -i "/^$p\\$/d" "$STUB_INSTALLED"; done');
        fs.writeFileSync(INSTALLED, "bind9\n");
    });

    after(() => {
        fs.rmSync(ROOT, { recursive: true, force: true });
    });

    it("installs only the missing packages, records them, and removes only those", () => {
        const r = runOnHost(packagesCommands(packages).install, "", env);
        assert.strictEqual(r.status, 0, r.stderr);
        assert.strictEqual(r.stdout, "homecloud: installed kea-dhcp4-server nftables\n");
        assert.deepStrictEqual(lines(CALLS), [
            "apt-get update -qq",
            "apt-get install -y -qq --no-install-recommends kea-dhcp4-server nftables",
        ]);
        assert.deepStrictEqual(lines(RECORD), ["kea-dhcp4-server", "nftables"]);

        const again = runOnHost(packagesCommands(packages).install, "", env);
        assert.strictEqual(again.stdout, "homecloud: packages already installed: kea-dhcp4-server bind9 nftables\n");
        assert.strictEqual(lines(CALLS).length, 2, "apt is not run again");

        const removed = runOnHost(packagesCommands(packages).remove, "", env);
        assert.strictEqual(removed.status, 0, removed.stderr);
        assert.strictEqual(removed.stdout, "homecloud: removed kea-dhcp4-server nftables\n");
        assert.strictEqual(lines(CALLS)[2], "dpkg --purge kea-dhcp4-server nftables");
        assert.deepStrictEqual(lines(INSTALLED), ["bind9"], "the package that was there before stays");
        assert.ok(!fs.existsSync(RECORD));
    });

    it("does nothing on delete when it installed nothing", () => {
        fs.writeFileSync(INSTALLED, packages.join("\n") + "\n");
        assert.strictEqual(runOnHost(packagesCommands(packages).install, "", env).status, 0);
        const r = runOnHost(packagesCommands(packages).remove, "", env);
        assert.strictEqual(r.status, 0, r.stderr);
        assert.strictEqual(r.stdout, "");
        assert.deepStrictEqual(lines(CALLS), []);
        assert.deepStrictEqual(lines(INSTALLED), packages);
    });
});
