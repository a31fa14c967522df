// The optional second gateway in the address plan: absent, nothing changes; present, every
// address its own and on its network, each mistake named by its key with the fix.
import * as assert from "assert";
import { lanRouter } from "../../config/plan";
import { RawConfig } from "../../config/schema";
import { parseAddressPlan } from "../../config/validate";

/** The lab's plan with a second gateway, as the lab's `lab` stack has it. */
function base(): RawConfig {
    return {
        domain: "lab.home.arpa",
        gatewayHostname: "gw",
        gatewayLanAddress: "10.77.0.1",
        lanInterface: "lan0",
        wanInterface: "wan0",
        lanCidr: "10.77.0.0/24",
        dhcpPool: "10.77.0.100-10.77.0.149",
        wanCidr: "192.168.77.0/24",
        vip: "192.168.77.10",
        metallbPool: "10.77.0.200-10.77.0.220",
        ingressIp: "10.77.0.200",
        dnsForwarders: ["192.168.77.1"],
        gateway2Hostname: "gw2",
        gateway2LanAddress: "10.77.0.2",
        gateway2WanAddress: "192.168.77.3",
        lanFloatingAddress: "10.77.0.3",
        nodes: [{ name: "node1", mac: "02:77:00:00:00:11", ip: "10.77.0.11", role: "server" }],
        reservations: [{ name: "client", mac: "02:77:00:00:00:50", ip: "10.77.0.50" }],
        hostKeys: [],
    };
}

function problemsOf(raw: RawConfig): string[] {
    try {
        parseAddressPlan(raw);
    } catch (e) {
        return (e as { problems: string[] }).problems;
    }
    return [];
}

describe("second gateway in the address plan", () => {
    it("absent: no gateway2 in the plan, DHCP's router is the gateway's own address", () => {
        const raw = base();
        for (const k of ["gateway2Hostname", "gateway2LanAddress", "gateway2WanAddress", "lanFloatingAddress"]) {
            delete raw[k];
        }
        const { plan } = parseAddressPlan(raw);
        assert.strictEqual(plan.gateway2, undefined);
        assert.ok(!("gateway2" in plan), "no gateway2 key at all: a one-gateway plan is what it was");
        assert.strictEqual(lanRouter(plan), "10.77.0.1");
    });

    it("present: its addresses, interfaces defaulting to the first gateway's, SSH to its LAN address", () => {
        const { plan, warnings } = parseAddressPlan(base());
        assert.deepStrictEqual(warnings, []);
        assert.deepStrictEqual(plan.gateway2, {
            hostname: "gw2", lanAddress: "10.77.0.2", wanAddress: "192.168.77.3", sshHost: "10.77.0.2",
            lanInterface: "lan0", wanInterface: "wan0", floatingLanAddress: "10.77.0.3",
        });
        assert.strictEqual(lanRouter(plan), "10.77.0.3");
        assert.ok(Object.isFrozen(plan.gateway2));
    });

    it("takes its own interfaces and SSH address, and a pinned host key by its name", () => {
        const raw = { ...base(), gateway2LanInterface: "end0", gateway2WanInterface: "enx00e04c680002", gateway2SshHost: "192.168.77.3",
            hostKeys: [{ host: "gw2", key: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl" }] };
        const { plan } = parseAddressPlan(raw);
        assert.strictEqual(plan.gateway2?.lanInterface, "end0");
        assert.strictEqual(plan.gateway2?.wanInterface, "enx00e04c680002");
        assert.strictEqual(plan.gateway2?.sshHost, "192.168.77.3");
        assert.deepStrictEqual(Object.keys(plan.hostKeys), ["gw2"]);
    });

    const cases: [string, (c: any) => void, string[]][] = [
        ["second-gateway keys without its host name", (c) => { c.gateway2Hostname = ""; },
            ["homecloud:gateway2LanAddress: is set but homecloud:gateway2Hostname is empty; set gateway2Hostname to add the second gateway, or remove gateway2LanAddress",
                "homecloud:gateway2WanAddress: is set but homecloud:gateway2Hostname is empty; set gateway2Hostname to add the second gateway, or remove gateway2WanAddress",
                "homecloud:lanFloatingAddress: is set but homecloud:gateway2Hostname is empty; set gateway2Hostname to add the second gateway, or remove lanFloatingAddress"]],
        ["host name of the first gateway", (c) => { c.gateway2Hostname = "gw"; },
            ["homecloud:gateway2Hostname: \"gw\" is already homecloud:gatewayHostname; give the second gateway its own host name"]],
        ["host name of a node", (c) => { c.gateway2Hostname = "node1"; },
            ["homecloud:gateway2Hostname: \"node1\" is already homecloud:nodes[0].name; give the second gateway its own host name"]],
        ["bad host name", (c) => { c.gateway2Hostname = "GW 2"; },
            ["homecloud:gateway2Hostname: \"GW 2\" is not a valid host name; use 1-63 lower-case letters, digits and inner hyphens (RFC 1123)"]],
        ["LAN address missing", (c) => { c.gateway2LanAddress = ""; },
            ["homecloud:gateway2LanAddress: is required with homecloud:gateway2Hostname; give the second gateway's static LAN address, outside every pool"]],
        ["floating address missing", (c) => { delete c.lanFloatingAddress; },
            ["homecloud:lanFloatingAddress: is required with homecloud:gateway2Hostname; give a free LAN address, outside every pool, for the router and DNS server DHCP hands out"]],
        ["LAN address of the first gateway", (c) => { c.gateway2LanAddress = "10.77.0.1"; },
            ["homecloud:gateway2LanAddress: 10.77.0.1 is already homecloud:gatewayLanAddress; the second gateway needs an address of its own"]],
        ["LAN address of a reservation", (c) => { c.gateway2LanAddress = "10.77.0.50"; },
            ["homecloud:gateway2LanAddress: 10.77.0.50 is already homecloud:reservations[0].ip; the second gateway needs an address of its own"]],
        ["LAN address outside the LAN", (c) => { c.gateway2LanAddress = "10.78.0.2"; },
            ["homecloud:gateway2LanAddress: 10.78.0.2 is not a host address of the LAN 10.77.0.0/24; use a free address inside it"]],
        ["LAN address is the broadcast address", (c) => { c.gateway2LanAddress = "10.77.0.255"; },
            ["homecloud:gateway2LanAddress: 10.77.0.255 is the broadcast address of 10.77.0.0/24; use a host address"]],
        ["LAN address in the DHCP pool", (c) => { c.gateway2LanAddress = "10.77.0.120"; },
            ["homecloud:gateway2LanAddress: 10.77.0.120 is inside the DHCP pool 10.77.0.100-10.77.0.149; move the pool or the second gateway"]],
        ["floating address in the MetalLB pool", (c) => { c.lanFloatingAddress = "10.77.0.210"; },
            ["homecloud:lanFloatingAddress: 10.77.0.210 is inside the MetalLB pool 10.77.0.200-10.77.0.220; move the pool or the floating address"]],
        ["floating address of the second gateway", (c) => { c.lanFloatingAddress = "10.77.0.2"; },
            ["homecloud:lanFloatingAddress: 10.77.0.2 is also homecloud:gateway2LanAddress; the floating address moves between the gateways, so it needs an address of its own"]],
        ["floating address of a node", (c) => { c.lanFloatingAddress = "10.77.0.11"; },
            ["homecloud:lanFloatingAddress: 10.77.0.11 is already homecloud:nodes[0].ip; the floating address needs an address of its own"]],
        ["home-network address outside it", (c) => { c.gateway2WanAddress = "192.168.78.3"; },
            ["homecloud:gateway2WanAddress: 192.168.78.3 is outside the home network 192.168.77.0/24; use the second gateway's address on the WAN side"]],
        ["home-network address is the VIP", (c) => { c.gateway2WanAddress = "192.168.77.10"; },
            ["homecloud:gateway2WanAddress: 192.168.77.10 is also homecloud:vip; the VIP moves between the gateways, so give the second gateway an address of its own"]],
        ["one interface for both sides", (c) => { c.gateway2WanInterface = "lan0"; },
            ["homecloud:gateway2WanInterface: \"lan0\" is both the second gateway's LAN and home-network interface; it needs two different interfaces"]],
        ["bad interface name", (c) => { c.gateway2LanInterface = "eth0; reboot"; },
            ["homecloud:gateway2LanInterface: \"eth0; reboot\" is not an interface name; use the name `ip link` shows on the second gateway, e.g. eth0"]],
        ["forwarder that is the second gateway", (c) => { c.dnsForwarders = ["192.168.77.3"]; },
            ["homecloud:dnsForwarders[0]: 192.168.77.3 is a gateway itself (homecloud:gateway2WanAddress); BIND would forward to itself: name your home router or an upstream resolver, or use []"]],
        ["forwarder that is the floating address", (c) => { c.dnsForwarders = ["10.77.0.3"]; },
            ["homecloud:dnsForwarders[0]: 10.77.0.3 is a gateway itself (homecloud:lanFloatingAddress); BIND would forward to itself: name your home router or an upstream resolver, or use []"]],
        ["host key for an unknown host", (c) => { c.gateway2Hostname = "gw3"; c.hostKeys = [{ host: "gw2", key: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl" }]; },
            ["homecloud:hostKeys[0].host: \"gw2\" is not a host the program reaches over SSH; use the gateway's host name or a node's name (gw, gw3, node1)"]],
    ];
    for (const [what, change, expected] of cases) {
        it(`refuses ${what}`, () => {
            const raw = base();
            change(raw);
            assert.deepStrictEqual(problemsOf(raw), expected);
        });
    }
});
