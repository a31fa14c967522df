// The lab's wiring (lab/lib.sh) and the lab stack (Pulumi.lab.yaml) describe one network.
import * as assert from "assert";
import * as ipaddr from "ipaddr.js";
import { labPlan, labRows } from "../../lab/plan";
import { stackFile } from "../program";

describe("lab plan: lab/lib.sh and Pulumi.lab.yaml agree", () => {
    const plan = labPlan();
    const stack = stackFile("Pulumi.lab.yaml");
    const links = labRows("LAB_LINKS");
    const addrs = labRows("LAB_ADDRS");
    const linkOf = (host: string) => links.find(([h, , , seg]) => h === host && seg === "lan");

    it("the gateway's LAN address is the one the lab gives lan0, inside the stack's LAN", () => {
        assert.ok(addrs.some(([h, i, a]) => h === "gw" && i === "lan0" && a === `${plan.gwLan}/24`));
        assert.ok(ipaddr.IPv4.parse(plan.gwLan).match(ipaddr.IPv4.parseCIDR(String(stack.lanCidr))));
    });

    it("every node has the MAC the lab wires and the address the lab sets", () => {
        assert.deepStrictEqual(plan.nodes.map((n) => n.name), ["node1", "node2", "node3"]);
        for (const n of plan.nodes) {
            assert.strictEqual(linkOf(n.name)?.[2], n.mac, `${n.name} MAC`);
            assert.ok(addrs.some(([h, , a]) => h === n.name && a === `${n.ip}/24`), `${n.name} address`);
        }
    });

    it("the lab's client has the reserved MAC; the WAN side holds the gateway, the uplink and the VIP", () => {
        assert.strictEqual(linkOf("client")?.[2], plan.client.mac);
        const wan = ipaddr.IPv4.parseCIDR(String(stack.wanCidr));
        for (const a of [plan.gwWan, plan.uplink, plan.vip]) {
            assert.ok(ipaddr.IPv4.parse(a).match(wan), `${a} in ${stack.wanCidr}`);
        }
        assert.deepStrictEqual(new Set([plan.gwWan, plan.uplink, plan.vip]).size, 3);
        assert.ok(addrs.some(([h, , a]) => h === "node1" && a === `${plan.ingressIp}/24`), "node1 stands in for the ingress address");
    });

    it("every server runs the lab's K3s API (real or stand-in) with the VIP in its certificate, and the hosts that ask it hold the client certificate", () => {
        assert.deepStrictEqual(labRows("LAB_API").flat(), plan.nodes.map((n) => n.name));
        assert.deepStrictEqual(labRows("LAB_API_CLIENTS").flat(), ["uplink", "client"]);
        assert.strictEqual(plan.apiPort, 6443);
        // The servers' certificates name the VIP (lab/cluster.sh), as K3s's tls-san does.
        assert.deepStrictEqual(labRows("LAB_VIP").flat(), [plan.vip]);
        assert.strictEqual(plan.lanCidr, "10.77.0.0/24");
    });
});
