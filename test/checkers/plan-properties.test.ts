// Property-based, with the daemons: every file a generated valid plan renders passes the
// daemon's own checker (kea-dhcp4 -t and nft -c in a network namespace with the plans'
// interfaces, haproxy -c, named-checkconf -z on the whole BIND tree, named-checkzone on every zone).
// Bounded and repeatable: a fixed seed; HOMECLOUD_PROPERTY_RUNS for longer runs. Needs root.
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fc from "fast-check";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseAddressPlan } from "../../config/validate";
import { DDNS_KEY, forwardZoneName, keyFilePath, renderNamedLocal, reverseZoneNames, STATIC_KEY } from "../../network/bind";
import { TSIG_SECRET_TOKEN } from "../../network/kea";
import { SERIAL_TOKEN } from "../../host/hostFile";
import { renderAll } from "../fixtures/network/plans";
import { propertyParams, validPlan } from "../fixtures/network/generated";

const NS = `hc-prop-${process.pid}`;

function run(cmd: string, ...args: string[]): { status: number | null; output: string } {
    const r = spawnSync(cmd, args, { encoding: "utf8" });
    if (r.error) {
        throw r.error;
    }
    return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

function ok(r: { status: number | null; output: string }, what: string): void {
    assert.strictEqual(r.status, 0, `${what}:\n${r.output}`);
}

describe("generated plans through the daemons' checkers", function () {
    this.timeout(600_000);
    let tmp = "";
    let plans = 0;
    let zones = 0;

    before(() => {
        tmp = fs.mkdtempSync(path.join(os.tmpdir(), "hc-prop-"));
        ok(run("ip", "netns", "add", NS), `ip netns add ${NS} (needs root)`);
        ok(run("ip", "-n", NS, "link", "add", "lan0", "type", "veth", "peer", "name", "hcp0"), "veth lan0");
        ok(run("ip", "-n", NS, "link", "add", "wan0", "type", "veth", "peer", "name", "hcp1"), "veth wan0");
    });

    after(() => {
        run("ip", "netns", "del", NS);
        fs.rmSync(tmp, { recursive: true, force: true });
        assert.ok(!run("ip", "netns", "list").output.split("\n").some((l) => l.split(" ")[0] === NS), "namespace removed");
        console.log(`      (${plans} generated plans, ${zones} zones checked)`);
    });

    it("every rendered file of every generated plan passes its checker", () => {
        const today = new Date().toISOString().slice(0, 10).replace(/-/g, "");
        fc.assert(fc.property(validPlan, (raw) => {
            const plan = parseAddressPlan(raw).plan;
            const files = renderAll(plan);
            const dir = fs.mkdtempSync(path.join(tmp, "plan-"));
            const write = (name: string, text: string): string => {
                const p = path.join(dir, name);
                fs.writeFileSync(p, text.replace(`${SERIAL_TOKEN} ; serial`, `${today}00 ; serial`));
                return p;
            };
            ok(run("ip", "netns", "exec", NS, "kea-dhcp4", "-t", write("kea-dhcp4.conf", files["kea-dhcp4.conf"])), `kea-dhcp4 -t (${raw.lanCidr})`);
            ok(run("ip", "netns", "exec", NS, "nft", "-c", "-f", write("nat.nft", files["nat.nft"])), `nft -c (${raw.lanCidr})`);
            ok(run("haproxy", "-c", "-f", write("haproxy.cfg", files["haproxy.cfg"])), `haproxy -c (${raw.lanCidr})`);
            const zoneList = [forwardZoneName(plan), ...reverseZoneNames(plan)];
            for (const z of zoneList) {
                const file = write(`db.${z}`, files[z === forwardZoneName(plan) ? "db.forward" : `db.${z}`]);
                ok(run("named-checkzone", z, file), `named-checkzone ${z} (${raw.lanCidr})`);
            }
            const options = write("named.conf.options", files["named.conf.options"]);
            for (const key of [DDNS_KEY, STATIC_KEY]) {
                fs.writeFileSync(keyFilePath(key, dir), run("tsig-keygen", "-a", "hmac-sha256", key).output);
            }
            const local = write("named.conf.local", renderNamedLocal(plan, dir, dir));
            if (plan.ddns) {
                const d2 = write("kea-dhcp-ddns.conf", files["kea-dhcp-ddns.conf"].replace(TSIG_SECRET_TOKEN, "c2VjcmV0LXNlY3JldC1zZWNyZXQ="));
                ok(run("kea-dhcp-ddns", "-t", d2), `kea-dhcp-ddns -t (${raw.lanCidr})`);
            }
            const top = write("named.conf", [options, local, "/etc/bind/named.conf.default-zones"].map((f) => `include "${f}";\n`).join(""));
            ok(run("named-checkconf", "-z", top), `named-checkconf -z (${raw.lanCidr})`);
            fs.rmSync(dir, { recursive: true, force: true });
            plans += 1;
            zones += zoneList.length;
        }), propertyParams(15));
    });
});
