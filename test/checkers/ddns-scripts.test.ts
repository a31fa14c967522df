// The dynamic-DNS scripts on a real shell, through the command lines the gateway gets
// (./harness.ts): dyn-zone.sh with the real named-checkzone and named-compilezone (stubbed
// only where a test makes them fail), nsupdate and systemctl stubbed; d2-config.sh's hooks
// through host-file.sh, every command they run logging its arguments. Needs root.
import * as assert from "assert";
import * as fs from "fs";
import { spawnSync } from "child_process";
import { fileCommand } from "../../host/hostFile";
import { d2ConfigFile } from "../../network/dhcpServer";
import { dynamicZoneCommands } from "../../network/dnsZone";
import { Run, runOnHost, stub } from "./harness";

const ROOT = `/tmp/hc-ddns-test-${process.pid}`;
const VARLIB = `${ROOT}/varlib`;
const USRLOCALLIB = `${ROOT}/usrlocallib`;
const STUBS = `${ROOT}/bin`;
const CALLS = `${ROOT}/calls`;
const ZONE = "lab.test";
const ZONE_FILE = `${ROOT}/zones/db.${ZONE}`;
const APPLIED = `${VARLIB}/homecloud/zones/${ZONE}.applied`;
const which = (cmd: string): string => spawnSync("bash", ["-c", `command -v ${cmd}`], { encoding: "utf8" }).stdout.trim();
const lines = (p: string): string[] => fs.existsSync(p) ? fs.readFileSync(p, "utf8").split("\n").filter(Boolean) : [];

describe("dyn-zone.sh on a real shell", () => {
    const commands = dynamicZoneCommands(ZONE, "gateway-dns-dynamic-forward-zone");
    const zone = (extra: string): string => "$TTL 300\n" +
        `@ IN SOA gw.${ZONE}. hostmaster.${ZONE}. (\n        @SERIAL@ ; serial\n        3600 600 604800 300 )\n` +
        `@ IN NS gw.${ZONE}.\ngw IN A 10.0.0.1\n${extra}`;
    const apply = (text: string): Run => runOnHost(VARLIB, USRLOCALLIB,
        commands.apply.replace(/HC_DEST=\S+/, `HC_DEST=${ZONE_FILE}`), text, { PATH: `${STUBS}:${process.env.PATH}` });
    const REAL_COMPILE = which("named-compilezone");

    beforeEach(() => {
        fs.rmSync(ROOT, { recursive: true, force: true });
        fs.mkdirSync(VARLIB, { recursive: true });
        stub(STUBS, "systemctl", '[ "$1" = is-active ] && exit 0; exit 1');
        stub(STUBS, "rndc", "exit 0");
        stub(STUBS, "nsupdate", `{ echo "nsupdate $*"; cat; } >>${CALLS}`);
        assert.ok(REAL_COMPILE, "named-compilezone is installed (make checkers)");
    });

    after(() => {
        fs.rmSync(ROOT, { recursive: true, force: true });
    });

    it("sends what changed as one signed update, and records it", () => {
        assert.strictEqual(apply(zone("a IN A 10.0.0.11\n")).stdout, `homecloud: zone ${ZONE} written to ${ZONE_FILE}\n`);
        const r = apply(zone("a IN A 10.0.0.12\nb IN A 10.0.0.13\n"));
        assert.strictEqual(r.status, 0, r.stderr);
        assert.strictEqual(r.stdout, `homecloud: zone ${ZONE} updated: 2 records added, 1 removed\n`);
        assert.deepStrictEqual(lines(CALLS), [
            "nsupdate -k /etc/bind/homecloud-keys/homecloud-static.key",
            "server 127.0.0.1", `zone ${ZONE}.`,
            `update delete a.${ZONE}.  IN A 10.0.0.11`,
            // named-compilezone's full form, as it prints it.
            `update add a.${ZONE}.\t\t\t\t      300 IN A\t\t10.0.0.12`, `update add b.${ZONE}.\t\t\t\t      300 IN A\t\t10.0.0.13`,
            "send",
        ]);
        assert.strictEqual(fs.readFileSync(APPLIED, "utf8"), zone("a IN A 10.0.0.12\nb IN A 10.0.0.13\n"));
    });

    it("fails when named-compilezone fails, sends nothing and records nothing; the next run sends the change", () => {
        apply(zone("a IN A 10.0.0.11\n"));
        stub(STUBS, "named-compilezone", 'cat >/dev/null; echo "named-compilezone: out of memory" >&2; exit 1');
        const r = apply(zone("a IN A 10.0.0.11\nlaptop IN A 10.0.0.50\n"));
        assert.strictEqual(r.status, 1);
        assert.strictEqual(r.stdout, "");
        assert.strictEqual(r.stderr, `homecloud: zone ${ZONE}: named-compilezone could not read the rendering applied last (/var/lib/homecloud/zones/${ZONE}.applied); ` +
            "nothing was sent:\nnamed-compilezone: out of memory\n");
        assert.deepStrictEqual(lines(CALLS), []);
        assert.strictEqual(fs.readFileSync(APPLIED, "utf8"), zone("a IN A 10.0.0.11\n"), "the applied rendering is still the old one");
        fs.rmSync(`${STUBS}/named-compilezone`);
        const again = apply(zone("a IN A 10.0.0.11\nlaptop IN A 10.0.0.50\n"));
        assert.strictEqual(again.stdout, `homecloud: zone ${ZONE} updated: 1 records added, 0 removed\n`);
        assert.ok(lines(CALLS).includes(`update add laptop.${ZONE}.\t\t\t      300 IN A\t\t10.0.0.50`), lines(CALLS).join("\n"));
    });

    it("refuses a new rendering that compiles to no records, instead of deleting every record", () => {
        apply(zone("a IN A 10.0.0.11\n"));
        // The first call (the applied rendering) is the real compiler; the second prints only a SOA.
        stub(STUBS, "named-compilezone", `n=$(cat ${ROOT}/compiles 2>/dev/null || echo 0); echo $((n + 1)) >${ROOT}/compiles\n` +
            `if [ "$n" = 0 ]; then exec ${REAL_COMPILE} "$@"; fi\ncat >/dev/null\necho "${ZONE}. 300 IN SOA gw.${ZONE}. hostmaster.${ZONE}. 1 3600 600 604800 300"`);
        const r = apply(zone("a IN A 10.0.0.12\n"));
        assert.strictEqual(r.status, 1);
        assert.strictEqual(r.stderr, `homecloud: zone ${ZONE}: the new rendering has no records after named-compilezone; nothing was sent\n`);
        assert.deepStrictEqual(lines(CALLS), [], "no update, above all no deletes");
        assert.strictEqual(fs.readFileSync(APPLIED, "utf8"), zone("a IN A 10.0.0.11\n"));
    });
});

describe("d2-config.sh: the TSIG secret on the gateway", () => {
    const DEST = `${ROOT}/etc/kea-dhcp-ddns.conf`;
    const KEY_FILE = `${ROOT}/keys/homecloud-ddns.key`;
    const ARGV = `${ROOT}/argv`;
    const SECRET = "c2VjcmV0LW9mLXRoZS10ZXN0LWtleS0xMjM0NTY3OA==";
    const spec = { ...d2ConfigFile(), path: DEST, env: { HC_KEY_FILE: KEY_FILE } };
    /** Every command a script might hand the secret to, each logging its arguments first. */
    const WRAPPED = ["sed", "awk", "cat", "cp", "mv", "install", "chmod", "chown", "mktemp", "cmp", "stat", "tee", "grep", "tr", "head",
        "env", "bash", "printf", "echo", "perl", "python3", "dd", "basename", "dirname", "find", "rm", "date"];
    const install = (text: string): Run => runOnHost(VARLIB, USRLOCALLIB, fileCommand("install", spec), text,
        { PATH: `${STUBS}:${process.env.PATH}` });
    const config = (extra = ""): string => `{ "DhcpDdns": { "tsig-keys": [ { "secret": "@TSIG_SECRET@" } ]${extra} } }\n`;

    beforeEach(() => {
        fs.rmSync(ROOT, { recursive: true, force: true });
        fs.mkdirSync(VARLIB, { recursive: true });
        fs.mkdirSync(`${ROOT}/keys`, { recursive: true });
        fs.writeFileSync(KEY_FILE, `key "homecloud-ddns" {\n\talgorithm hmac-sha256;\n\tsecret "${SECRET}";\n};\n`);
        for (const cmd of WRAPPED) {
            const real = which(cmd) || `/usr/bin/${cmd}`;
            stub(STUBS, cmd, `printf '%s\\n' "${cmd} $*" >>${ARGV}\nexec ${real} "$@"`);
        }
        // The checker: fails on a file saying "broken", printing the whole file as a checker might quote it.
        stub(STUBS, "kea-dhcp-ddns", 'if grep -q broken "$2"; then cat "$2"; exit 1; fi');
        stub(STUBS, "systemctl", 'case "$1" in is-enabled) echo disabled;; is-active) exit 0;; esac; exit 0');
    });

    after(() => {
        fs.rmSync(ROOT, { recursive: true, force: true });
    });

    it("fills in the gateway's secret without putting it in any command's arguments", () => {
        const r = install(config());
        assert.strictEqual(r.status, 0, r.stderr);
        assert.strictEqual(r.stdout, `homecloud: ${DEST} installed\n`);
        assert.strictEqual(fs.readFileSync(DEST, "utf8"), config().replace("@TSIG_SECRET@", SECRET));
        const st = fs.statSync(DEST);
        assert.strictEqual((st.mode & 0o777).toString(8), "640");
        const argv = lines(ARGV);
        assert.ok(argv.some((l) => l.startsWith("sed ")), "the wrappers did log (sed read the key file)");
        assert.deepStrictEqual(argv.filter((l) => l.includes(SECRET)), [], "no command line held the secret");
        // Unchanged on the next run: the filled-in candidate is compared, not the token.
        assert.strictEqual(install(config()).stdout, `homecloud: ${DEST} unchanged\n`);
    });

    it("a rejected file's checker output comes back with the token in place of the secret", () => {
        const r = install(config(', "broken": true'));
        assert.strictEqual(r.status, 1);
        assert.ok(!r.stderr.includes(SECRET) && !r.stdout.includes(SECRET), `the secret was printed:\n${r.stderr}`);
        assert.strictEqual(r.stderr, `homecloud: ${DEST} rejected by its checker; the running configuration is untouched:\n` +
            config(', "broken": true'));
        assert.ok(!fs.existsSync(DEST));
    });
});
