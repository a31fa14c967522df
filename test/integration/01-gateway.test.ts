// Phase 1-4 of the lab run, right after the engine's first `up`: the gateway serves the LAN
// (DHCP, DNS, NAT, the VIP and its health checks, names for pool clients).
import * as assert from "assert";
import {
    checkBalancer, checkDhcp, checkDns, checkNat, checkReloadKeepsConnections, checkVip, clientBack, digShort, figure, poolLease,
    resetFigures, waitName,
} from "./gateway-checks";
import { bash, DDNS, DOMAIN, GW_LAN, GW_WAN, labPhase, PLAN } from "./lab-helpers";

labPhase("1-4: the gateway serves the LAN", () => {
    it("1 DHCP: reservation, DNS and domain options, pool for unknown MACs, nothing on the WAN", checkDhcp);
    it("2 DNS: A, PTR, api → VIP, wildcard → ingress; nothing served to the WAN side", checkDns);
    it("3 NAT: the uplink sees the gateway's WAN address", checkNat);
    it("4 VIP: 3×node1/2/3 round robin from WAN and LAN, :80 → ingress; only the VIP's ports open to the WAN", checkVip);
    it("4b VIP health checks: a stopped, a not-ready and an unplugged server are taken out and come back", () => {
        resetFigures();
        checkBalancer("first boot");
    });
    it("4c a configuration change reloads HAProxy without dropping an established connection", () => {
        checkReloadKeepsConnections("first boot");
    });
    it("4d names for pool clients: both records within 5 s of the lease, gone within 5 s of the release", () => {
        try {
            const ip = poolLease("laptop");
            const added = waitName(`laptop.${DDNS}`, ip, 5_000);
            bash("client", "dhclient -r -cf /tmp/dhclient-pool.conf eth0");
            const removed = waitName(`laptop.${DDNS}`, PLAN.ingressIp, 5_000, ip);
            figure(`DDNS: laptop.${DDNS} → ${ip} and its PTR resolvable ${added} ms after the lease; both gone ${removed} ms after dhclient -r`);
            // Characters a DNS label cannot hold are dropped.
            const messy = poolLease("my_laptop!");
            const cleanMs = waitName(`mylaptop.${DDNS}`, messy, 5_000);
            // A client that sends no name gets one made from its address.
            const nameless = poolLease(null);
            const made = `dhcp-${nameless.replace(/\./g, "-")}.${DDNS}`;
            const madeMs = waitName(made, nameless, 5_000);
            figure(`DDNS: "my_laptop!" is mylaptop.${DDNS} after ${cleanMs} ms; a client sending no name is ${made} after ${madeMs} ms`);
        } finally {
            clientBack();
        }
    });
    it("4e a pool client naming itself after a host gets a name under the suffix, not the host's; nothing but kea-dhcp-ddns may update", () => {
        const node2 = PLAN.nodes[1];
        try {
            const ip = poolLease(node2.name);
            waitName(`${node2.name}.${DDNS}`, ip, 5_000);
            assert.strictEqual(digShort("node1", `@${GW_LAN}`, `${node2.name}.${DOMAIN}`, "A"), node2.ip);
        } finally {
            clientBack();
        }
        const evil = (server: string): string =>
            `printf 'server ${server}\\nzone ${DOMAIN}.\\nupdate add evil.${DOMAIN}. 60 A 192.0.2.66\\nsend\\n' | nsupdate -t 3`;
        const wan = bash("uplink", evil(GW_WAN));
        assert.notStrictEqual(wan.code, 0, `an update from the WAN side was taken: ${wan.stdout}${wan.stderr}`);
        const lan = bash("node1", evil(GW_LAN));
        assert.notStrictEqual(lan.code, 0);
        assert.match(lan.stdout + lan.stderr, /REFUSED/, "an unsigned update from the LAN is refused");
        // Only the wildcard answers for it (the ingress), no record of its own.
        assert.strictEqual(digShort("node1", `@${GW_LAN}`, `evil.${DOMAIN}`, "A"), PLAN.ingressIp);
    });
});
