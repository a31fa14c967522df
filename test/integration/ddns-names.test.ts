// Lab phase: what a pool client may call itself. Run by run.sh after lab.test.ts, whose last
// phase destroys everything: this file deploys the lab stack again with the SSH engine, asks
// for leases under the names an attacker on the LAN would pick, and destroys it again.
// Default ddnsSuffix: pool clients are dhcp.<domain>; `*.<domain>` belongs to the ingress.
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { DDNS, DOMAIN, GW_LAN, ipNum, PLAN, Result, run, RUN_DIR } from "./lab-helpers";

/** A MAC no reservation has: the client takes it to get a pool address. */
const POOL_MAC = PLAN.client.mac.replace(/..$/, "98");

function bash(host: string, script: string): Result {
    return run("lab/exec", [host, "bash", "-c", script]);
}

function bashOk(host: string, script: string): string {
    const r = bash(host, script);
    assert.strictEqual(r.code, 0, `${host}: ${script} exited ${r.code}: ${r.stderr}`);
    return r.stdout;
}

function engine(mode: "up" | "destroy", label: string): string {
    const r = run("npx", ["ts-node", "lab/engine/sshEngine.ts", mode], { env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "1" }, timeout: 900_000 });
    fs.writeFileSync(path.join(RUN_DIR, `${label}.log`), r.stdout + r.stderr);
    assert.strictEqual(r.code, 0, `engine ${mode} (${label}) exited ${r.code}:\n${r.stdout}\n${r.stderr}`);
    return r.stdout;
}

/** The A record of `name` at the gateway, asked from node1 ("" when none). */
function a(name: string): string {
    return bashOk("node1", `dig +short +time=2 +tries=1 @${GW_LAN} ${name} A`).trim();
}

/** The PTR of `ip` at the gateway ("" when none). */
function ptr(ip: string): string {
    return bashOk("node1", `dig +short +time=2 +tries=1 @${GW_LAN} -x ${ip}`).trim();
}

/** The pool address of the last lease, until its release has taken its names away. */
let leased: string | undefined;

/** The client, on the pool MAC, asks for a lease with these dhclient.conf `send` lines; returns its address. */
function poolLease(sends: string[]): string {
    clientBack();
    bashOk("client", `ip link set eth0 address ${POOL_MAC}`);
    const conf = [...sends, "request subnet-mask, routers, domain-name-servers, domain-name;"].join("\n");
    bashOk("client", `cat >/tmp/dhclient-ddns.conf <<'EOF'\n${conf}\nEOF`);
    bashOk("client", "timeout 40 dhclient -v -1 -cf /tmp/dhclient-ddns.conf eth0");
    const m = /inet (\d+\.\d+\.\d+\.\d+)\//.exec(bashOk("client", "ip -4 addr show eth0"));
    assert.ok(m && ipNum(m[1]) >= ipNum(PLAN.pool.start) && ipNum(m[1]) <= ipNum(PLAN.pool.end), `no pool address: ${m?.[1]}`);
    leased = m[1];
    return m[1];
}

/** Back on the reserved MAC, with no lease (a pool lease is released, so its names go). */
function clientBack(): void {
    bash("client", "dhclient -r -cf /tmp/dhclient-ddns.conf eth0 >/dev/null 2>&1 || true; dhclient -r eth0 >/dev/null 2>&1 || true; " +
        "pkill -x dhclient || true; ip -4 addr flush dev eth0");
    bashOk("client", `ip link set eth0 address ${PLAN.client.mac}`);
}

/** Polls until `check` holds (every 100 ms, at most `ms`); returns the milliseconds taken. */
function until(what: string, check: () => boolean, ms = 5_000): number {
    const t = Date.now();
    while (!check()) {
        assert.ok(Date.now() - t < ms, `${what}: not within ${ms} ms`);
        spawnSync("sleep", ["0.1"]);
    }
    return Date.now() - t;
}

/** kea-dhcp-ddns's journal on the gateway since `since` (the gateway's epoch seconds). */
function d2Log(since: string): string {
    return bashOk("gw", `journalctl -u kea-dhcp-ddns-server --no-pager --since @${since}`);
}

const gwNow = (): string => bashOk("gw", "date +%s").trim();

/** Waits for kea-dhcp-ddns to say no zone of the gateway holds `fqdn`, so it sent nothing; prints what it said. */
function noZoneFor(fqdn: string, since: string): void {
    until(`kea-dhcp-ddns finds no zone for ${fqdn}`, () => d2Log(since).includes(`DHCP_DDNS_NO_MATCH No DNS servers match FQDN ${fqdn}`));
    const said = d2Log(since).split("\n").filter((l) => /DHCP_DDNS_\w+/.test(l)).map((l) => l.replace(/^.*?(DHCP_DDNS_)/, "$1").slice(0, 80));
    console.log(`      kea-dhcp-ddns: ${said.join(" | ")}`);
}

describe("DDNS: a pool client cannot take an app's name (own up and destroy)", function () {
    this.timeout(900_000);
    const grafana = `grafana.${DOMAIN}`;

    before(() => {
        const out = engine("up", "ddns-names-up");
        assert.match(out, /^summary up: .*failed=0/m);
        assert.strictEqual(a(grafana), PLAN.ingressIp, "grafana is an app behind the wildcard before any client asks");
    });

    afterEach(() => {
        clientBack();
        if (leased !== undefined) {
            const ip = leased;
            until(`the released ${ip} loses its PTR`, () => ptr(ip) === "");
            leased = undefined;
        }
    });

    after(() => {
        clientBack();
        engine("destroy", "ddns-names-destroy");
    });

    it("a client calling itself grafana is grafana.<suffix>; grafana.<domain> stays the ingress's", () => {
        const ip = poolLease(['send host-name "grafana";']);
        const ms = until(`grafana.${DDNS} → ${ip} with its PTR`, () => a(`grafana.${DDNS}`) === ip && ptr(ip) === `grafana.${DDNS}.`);
        assert.strictEqual(a(grafana), PLAN.ingressIp);
        console.log(`      DDNS: a pool client calling itself grafana is grafana.${DDNS} after ${ms} ms; ${grafana} is still the ingress ${PLAN.ingressIp}`);
    });

    it("a client calling itself a.b gets no name (Kea 2.2 takes the dotless ab. as complete, in no zone here); grafana unchanged", () => {
        const since = gwNow();
        const ip = poolLease(['send host-name "a.b";']);
        noZoneFor("ab.", since);
        for (const name of [`a.b.${DDNS}`, `ab.${DDNS}`, `a.b.${DOMAIN}`, `ab.${DOMAIN}`, `b.${DOMAIN}`]) {
            assert.notStrictEqual(a(name), ip, name);
        }
        assert.strictEqual(ptr(ip), "");
        assert.strictEqual(a(grafana), PLAN.ingressIp);
    });

    it("a client sending the FQDN grafana.<domain>. is refused by BIND's update policy; grafana unchanged", () => {
        const since = gwNow();
        const ip = poolLease([`send fqdn.fqdn "${grafana}.";`, "send fqdn.encoded on;", "send fqdn.server-update on;"]);
        until("BIND refuses the update", () =>
            new RegExp(`DHCP_DDNS_FORWARD_ADD_REJECTED .*FQDN, ${grafana.replace(/\./g, "\\.")}\\., with an RCODE: (5|REFUSED)`).test(d2Log(since)));
        assert.strictEqual(a(grafana), PLAN.ingressIp);
        assert.strictEqual(ptr(ip), "");
    });

    it("a client sending the FQDN option a.b gets no name (Kea takes it as complete, a.b., in no zone here); grafana unchanged", () => {
        const since = gwNow();
        const ip = poolLease(['send fqdn.fqdn "a.b";', "send fqdn.encoded on;", "send fqdn.server-update on;"]);
        noZoneFor("a.b.", since);
        assert.strictEqual(ptr(ip), "");
        assert.notStrictEqual(a(`a.b.${DDNS}`), ip, "no record under the suffix");
        assert.strictEqual(a(`a.b.${DOMAIN}`), PLAN.ingressIp, "only the wildcard answers there");
        assert.strictEqual(a(grafana), PLAN.ingressIp);
    });
});
