// The network picture's DOT source (network/diagram.ts), from validated plans: the lab's in
// full against its fixture, and what a larger plan changes, exactly. Graphviz draws it in
// the checker tier (test/checkers/network-diagram.test.ts).
import * as assert from "assert";
import * as path from "path";
import { parseAddressPlan } from "../../config/validate";
import { AddressPlan } from "../../config/plan";
import { renderNetworkDot } from "../../network/diagram";
import { stackFileConfig } from "../../scripts/network-diagram";
import { assertFixture, assertNoOrphans } from "../approval";
import { loadPlan } from "../fixtures/network/plans";

const REPO = path.resolve(__dirname, "..", "..");
const FIXTURE = path.join(REPO, "test/fixtures/diagram/lab.dot");

const stackPlan = (stack: string): AddressPlan => parseAddressPlan(stackFileConfig(path.join(REPO, `Pulumi.${stack}.yaml`))).plan;

/** The `<TR>` rows of one node's table, as `address | name | what` text without markup. */
function rows(dot: string, node: string): string[] {
    const start = dot.indexOf(`${node} [label=<<TABLE`);
    assert.ok(start >= 0, `node ${node}`);
    const body = dot.slice(start, dot.indexOf("</TABLE>>", start));
    return [...body.matchAll(/<TR>(.*?)<\/TR>/g)].map((m) =>
        [...m[1].matchAll(/<TD[^>]*>(.*?)<\/TD>/g)].map((c) => c[1].replace(/<BR\/>/g, " / ").replace(/<[^>]+>/g, "")).join(" | "));
}

const edges = (dot: string) => dot.split("\n").filter((l) => l.includes(" -> ")).map((l) => l.trim().replace(/ \[.*$/, ""));

describe("network diagram (DOT renderer)", () => {
    it("renders the lab plan exactly as its fixture", () => {
        assertFixture(FIXTURE, renderNetworkDot(stackPlan("lab"), { title: "stack lab" }));
    });

    it("the diagram fixture directory holds only the lab's drawing", () => {
        assertNoOrphans(path.dirname(FIXTURE), [path.basename(FIXTURE)]);
    });

    it("lab: the gateway with both interfaces, the VIP and its ports, hosts and ranges in address order", () => {
        const dot = renderNetworkDot(stackPlan("lab"));
        assert.match(dot, /label=<<B>homecloud · lab\.home\.arpa<\/B>>/);
        assert.deepStrictEqual(rows(dot, "home"), ["home network (WAN)", "192.168.77.0/24", "DNS forwarders: / none (BIND resolves itself)"]);
        assert.deepStrictEqual(rows(dot, "gateway"), [
            "gw · gateway",
            "lan0 | LAN 10.77.0.1/24",
            "wan0 | WAN 192.168.77.0/24",
            "VIP on wan0 / 192.168.77.10 / api.lab.home.arpa / HAProxy, https checks | :6443 | API → servers :6443",
            ":80 | HTTP → ingress :80",
            ":443 | HTTPS → ingress :443",
            "NAT out wan0 · Kea DHCP on lan0 / BIND9 lab.home.arpa + reverse",
        ]);
        assert.deepStrictEqual(rows(dot, "hosts"), [
            "hosts · K3s off (k3sEnabled: false)",
            "10.77.0.1 | gw | gateway (lan0): router, DNS, DHCP",
            "10.77.0.11 | node1 | K3s server",
            "10.77.0.12 | node2 | K3s server",
            "10.77.0.13 | node3 | K3s server",
            "10.77.0.50 | client | DHCP reservation",
        ]);
        assert.deepStrictEqual(rows(dot, "ranges"), [
            "ranges",
            "10.77.0.100 – 10.77.0.149 | DHCP pool | 50 addresses, lease 600 s",
            "10.77.0.200 – 10.77.0.220 | MetalLB pool | 21 LoadBalancer addresses",
            "10.77.0.200 | ingress IP | Traefik :80 :443, *.lab.home.arpa",
        ]);
        assert.deepStrictEqual(edges(dot), [
            "home:e -> gateway:wan:w",
            "gateway:lan:e -> hosts:gw:w",
            "gateway:api:e -> hosts:h_node1:w",
            "gateway:api:e -> hosts:h_node2:w",
            "gateway:api:e -> hosts:h_node3:w",
            "gateway:http:e -> ranges:ingress:w",
            "gateway:https:e -> ranges:ingress:w",
        ]);
    });

    it("large plan: its own ports, interfaces, SSH address on the WAN side, forwarders; API edges to servers only", () => {
        const dot = renderNetworkDot(loadPlan("large"));
        assert.deepStrictEqual(rows(dot, "home"), ["home network (WAN)", "192.168.50.0/24", "DNS forwarders: / 192.168.50.1 192.0.2.53"]);
        assert.deepStrictEqual(rows(dot, "gateway"), [
            "router · gateway",
            "lan0 | LAN 172.20.0.1/22",
            "enx00e04c680001 | WAN 192.168.50.0/24 · 192.168.50.2 (SSH)",
            "VIP on enx00e04c680001 / 192.168.50.10 / k8s.cluster.home.arpa / HAProxy, https checks | :8443 | API → servers :6443",
            ":8080 | HTTP → ingress :80",
            ":8444 | HTTPS → ingress :443",
            "NAT out enx00e04c680001 · Kea DHCP on lan0 / BIND9 cluster.home.arpa + reverse",
        ]);
        assert.deepStrictEqual(rows(dot, "hosts"), [
            "hosts · K3s v1.36.4+k3s1",
            "172.20.0.1 | router | gateway (lan0): router, DNS, DHCP",
            "172.20.0.11 | server1 | K3s server",
            "172.20.0.12 | server2 | K3s server",
            "172.20.0.13 | server3 | K3s server",
            "172.20.0.60 | printer | DHCP reservation",
            "172.20.1.21 | agent1 | K3s agent",
            "172.20.1.50 | nas | DHCP reservation",
        ]);
        assert.deepStrictEqual(rows(dot, "ranges"), [
            "ranges",
            "172.20.2.0 – 172.20.2.254 | DHCP pool | 255 addresses, lease 7200 s",
            "172.20.3.0 – 172.20.3.100 | MetalLB pool | 101 LoadBalancer addresses",
            "172.20.3.10 | ingress IP | Traefik :80 :443, *.cluster.home.arpa",
        ]);
        assert.deepStrictEqual(edges(dot).filter((e) => e.startsWith("gateway:api")),
            ["gateway:api:e -> hosts:h_server1:w", "gateway:api:e -> hosts:h_server2:w", "gateway:api:e -> hosts:h_server3:w"]);
    });

    it("gives hyphenated names DOT-safe ports (dev stack), one per host", () => {
        const dot = renderNetworkDot(stackPlan("dev"), { title: "stack dev" });
        assert.deepStrictEqual([...dot.matchAll(/PORT="(h_[^"]+)"/g)].map((m) => m[1]),
            ["h_pi_server_1", "h_pi_server_2", "h_pi_server_3", "h_pi_agent_1", "h_nas"]);
        assert.deepStrictEqual(edges(dot).filter((e) => e.startsWith("gateway:api")),
            ["gateway:api:e -> hosts:h_pi_server_1:w", "gateway:api:e -> hosts:h_pi_server_2:w", "gateway:api:e -> hosts:h_pi_server_3:w"]);
        assert.ok(!dot.includes("(SSH)"), "the SSH address is shown only when it is not the LAN address");
    });
});
