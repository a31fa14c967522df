// Phase 7e: a /23 LAN and back to the /24: reverse zones claimed and removed.
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { digShort } from "./gateway-checks";
import {
    changes, CLIENT_LINE, CLIENT_MAC, DOMAIN, engine, exec, execOk, GW_LAN, labPhase, PLAN, Result, RUN_DIR, stackReplacing, summaryOf,
} from "./lab-helpers";

labPhase("7e: a /23 LAN claims both of its /24 reverse zones and nothing else", () => {
    const FAR = { name: "far", mac: CLIENT_MAC.replace(/..$/, "61"), ip: "10.77.1.50" };
    const zoneFile = (zone: string): string => `/var/lib/bind/homecloud/db.${zone}.in-addr.arpa`;
    /** dig from node1 (a LAN address) at the gateway. */
    const ask = (...args: string[]): Result => exec("node1", "dig", "+time=2", "+tries=1", `@${GW_LAN}`, ...args);

    it("a /23 with a host in each half: forward and reverse names for both halves, none for outside it", () => {
        const f = stackReplacing("slash23", ["homecloud:lanCidr: 10.77.0.0/24\n", "homecloud:lanCidr: 10.77.0.0/23\n"],
            [CLIENT_LINE, `${CLIENT_LINE}\n    - { name: ${FAR.name}, mac: "${FAR.mac}", ip: ${FAR.ip} }`]);
        engine("up", "slash23-up", { SSH_ENGINE_STACK_FILE: f });
        assert.deepStrictEqual(changes("slash23-up", { diff: false }), [
            "created gateway-dns-dynamic-reverse-0.77.10.in-addr.arpa",
            "created gateway-dns-dynamic-reverse-1.77.10.in-addr.arpa",
            "deleted gateway-dns-dynamic-reverse-zone",
            "updated gateway-dhcp-config",
            "updated gateway-dhcp-ddns-config",
            "updated gateway-dns-dynamic-forward-zone",
            "updated gateway-dns-local",
            "updated gateway-dns-options",
            "updated gateway-nat-ruleset",
            // The CA's line names the LAN (its constraints); the step keeps the CA as it is.
            "updated pki-ca",
        ]);
        // The old name's delete ran after the new name took the same file over: left alone.
        assert.match(fs.readFileSync(path.join(RUN_DIR, "slash23-up.log"), "utf8"),
            // The owner is the command's URN, as the engine knows it.
            /zone 0\.77\.10\.in-addr\.arpa belongs to urn:pulumi:lab::homecloud::homecloud:network:Gateway\$homecloud:network:DnsZone\$command:remote:Command::gateway-dns-dynamic-reverse-0\.77\.10\.in-addr\.arpa now; left as it is/);
        execOk("gw", "test", "-s", zoneFile("0.77.10"));
        execOk("gw", "systemctl", "restart", "named");
        assert.strictEqual(digShort("node1", `@${GW_LAN}`, `${FAR.name}.${DOMAIN}`, "A"), FAR.ip);
        assert.strictEqual(digShort("node1", `@${GW_LAN}`, "-x", FAR.ip), `${FAR.name}.${DOMAIN}.`);
        assert.strictEqual(digShort("node1", `@${GW_LAN}`, "-x", PLAN.nodes[0].ip), `${PLAN.nodes[0].name}.${DOMAIN}.`);
        // 10.77.2.5 is outside the LAN: none of the gateway's own zones answers for it.
        const outside = ask("-x", "10.77.2.5");
        assert.doesNotMatch(outside.stdout, /ANSWER: [1-9]/);
        assert.doesNotMatch(outside.stdout, /IN\s+SOA\s+gw\.lab\.home\.arpa\./, `answered from the gateway's zones:\n${outside.stdout}`);
        assert.ok(!execOk("gw", "named-checkconf", "-p").includes('zone "77.10.in-addr.arpa"'), "claims the whole /16");
    });

    it("back to the /24: its one zone under its old name, the second half's zone removed", () => {
        engine("up", "slash24-back");
        assert.deepStrictEqual(changes("slash24-back", { diff: false }), [
            "created gateway-dns-dynamic-reverse-zone",
            "deleted gateway-dns-dynamic-reverse-0.77.10.in-addr.arpa",
            "deleted gateway-dns-dynamic-reverse-1.77.10.in-addr.arpa",
            "updated gateway-dhcp-config",
            "updated gateway-dhcp-ddns-config",
            "updated gateway-dns-dynamic-forward-zone",
            "updated gateway-dns-local",
            "updated gateway-dns-options",
            "updated gateway-nat-ruleset",
            // The CA's line names the LAN (its constraints); the step keeps the CA as it is.
            "updated pki-ca",
        ]);
        execOk("gw", "test", "-s", zoneFile("0.77.10"));
        assert.notStrictEqual(exec("gw", "test", "-e", zoneFile("1.77.10")).code, 0, "the second half's zone file is left");
        assert.notStrictEqual(exec("gw", "test", "-e", `${zoneFile("1.77.10")}.jnl`).code, 0, "the second half's journal is left");
        execOk("gw", "systemctl", "restart", "named");
        assert.strictEqual(digShort("node1", `@${GW_LAN}`, "-x", PLAN.nodes[0].ip), `${PLAN.nodes[0].name}.${DOMAIN}.`);
        assert.strictEqual(summaryOf(engine("up", "slash24-noop")).updated, 0);
    });
});
