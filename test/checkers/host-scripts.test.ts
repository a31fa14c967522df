// Runs the real install/remove scripts, through the very sudoScript quoting the hosts get
// (sudo replaced by a function that runs its `/bin/bash -c` the same way), on files under
// a scratch directory. The state directory (/var/lib/homecloud) is a scratch directory too:
// each run happens in a private mount namespace with a scratch /var/lib bound over it.
// Needs root (unshare --mount); CI runs as root.
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import {
    installFileScript, ManagedFileSpec, removeFileScript, SERIAL_TOKEN, sudoScript,
} from "../../host/hostScripts";
import { installPackagesScript, removePackagesScript } from "../../network/gateway";

const ROOT = `/tmp/hc-test-${process.pid}`;
const VARLIB = `${ROOT}/varlib`;
const ETC = `${ROOT}/etc`;
const DEST = `${ETC}/x.conf`;
const LOG = `${ROOT}/activations`;
const SAVED = `${VARLIB}/homecloud/original${DEST}`;

interface Run {
    readonly status: number | null;
    readonly stdout: string;
    readonly stderr: string;
}

/** Runs `sudoScript(script)` as a host would, with `stdin`, in a namespace with the scratch /var/lib. */
function runOnHost(script: string, stdin = "", env: Record<string, string> = {}): Run {
    const wrapper = 'mount --bind "$1" /var/lib || exit 99\n' +
        'sudo() { [ "$1 $2 $3" = "-n /bin/bash -c" ] || exit 98; /bin/bash -c "$4"; }\n' +
        'eval "$2"';
    const r = spawnSync("unshare", ["--mount", "--propagation", "private", "bash", "-c", wrapper, "host", VARLIB, sudoScript(script)],
        { input: stdin, encoding: "utf8", env: { ...process.env, ...env } });
    if (r.error) {
        throw r.error;
    }
    assert.ok(r.status !== 99 && r.status !== 98, `test harness failed: ${r.stderr}`);
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const activations = (): string[] => fs.existsSync(LOG) ? fs.readFileSync(LOG, "utf8").trim().split("\n") : [];
const content = (): string | undefined => fs.existsSync(DEST) ? fs.readFileSync(DEST, "utf8") : undefined;
const mode = (p: string): string => (fs.statSync(p).mode & 0o7777).toString(8);
/** What is left in the destination directory besides the file itself (candidates, backups). */
const leftovers = (): string[] => fs.readdirSync(ETC).filter((f) => f !== "x.conf");

/** A spec whose activation logs what it saw and fails on content containing "explode". */
function spec(extra: Partial<ManagedFileSpec> = {}): ManagedFileSpec {
    return {
        path: DEST,
        activate: `echo "activate $(cat ${DEST})" >> ${LOG}\n! grep -q explode ${DEST}`,
        revert: `echo "revert" >> ${LOG}`,
        ...extra,
    };
}

const install = (text: string, s: ManagedFileSpec = spec()): Run => runOnHost(installFileScript(s), text);
const remove = (s: ManagedFileSpec = spec()): Run => runOnHost(removeFileScript(s));

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
        const checked = spec({ check: 'grep -q "^valid" "$CANDIDATE" || { echo "no valid line in $(basename "$CANDIDATE")"; exit 1; }' });
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

    it("runs a check block without set -e: only steps chained with && all count", () => {
        // So every multi-step check in the components is one && chain.
        const chained = spec({ check: 'grep -q "^valid" "$CANDIDATE" &&\ntrue' });
        assert.strictEqual(install("broken\n", chained).status, 1);
        assert.strictEqual(content(), undefined);
        const unchained = spec({ check: 'grep -q "^valid" "$CANDIDATE"\ntrue' });
        assert.strictEqual(install("broken\n", unchained).status, 0, "a failed first line alone does not reject");
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
        const r = runOnHost(installPackagesScript(packages), "", env);
        assert.strictEqual(r.status, 0, r.stderr);
        assert.strictEqual(r.stdout, "homecloud: installed kea-dhcp4-server nftables\n");
        assert.deepStrictEqual(lines(CALLS), [
            "apt-get update -qq",
            "apt-get install -y -qq --no-install-recommends kea-dhcp4-server nftables",
        ]);
        assert.deepStrictEqual(lines(RECORD), ["kea-dhcp4-server", "nftables"]);

        const again = runOnHost(installPackagesScript(packages), "", env);
        assert.strictEqual(again.stdout, "homecloud: packages already installed: kea-dhcp4-server bind9 nftables\n");
        assert.strictEqual(lines(CALLS).length, 2, "apt is not run again");

        const removed = runOnHost(removePackagesScript(), "", env);
        assert.strictEqual(removed.status, 0, removed.stderr);
        assert.strictEqual(removed.stdout, "homecloud: removed kea-dhcp4-server nftables\n");
        assert.strictEqual(lines(CALLS)[2], "dpkg --purge kea-dhcp4-server nftables");
        assert.deepStrictEqual(lines(INSTALLED), ["bind9"], "the package that was there before stays");
        assert.ok(!fs.existsSync(RECORD));
    });

    it("does nothing on delete when it installed nothing", () => {
        fs.writeFileSync(INSTALLED, packages.join("\n") + "\n");
        assert.strictEqual(runOnHost(installPackagesScript(packages), "", env).status, 0);
        const r = runOnHost(removePackagesScript(), "", env);
        assert.strictEqual(r.status, 0, r.stderr);
        assert.strictEqual(r.stdout, "");
        assert.deepStrictEqual(lines(CALLS), []);
        assert.deepStrictEqual(lines(INSTALLED), packages);
    });
});
