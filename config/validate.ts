// Validates the whole stack configuration at once and returns the typed, frozen plan.
// One small validator per concern (names, addresses, services, DDNS, hosts, PKI, the whole
// layout), all reporting into one Checker. Pure: no Pulumi import.
import { checkAddresses } from "./addresses";
import { Checker } from "./checker";
import { checkClusterSource } from "./cluster";
import { checkDdns } from "./ddns";
import { checkHostKeys } from "./hostKeys";
import { checkHosts } from "./hosts";
import { checkPlan } from "./layout";
import { checkNames } from "./names";
import { checkPki } from "./pki";
import { checkSecondGateway } from "./secondGateway";
import { AddressPlan, ConfigError, K3sSettings, LoadBalancerSettings, ParsedPlan, PkiSettings, Ports } from "./plan";
import { RawConfig, withDefaults } from "./schema";
import { checkCluster, checkLoadBalancer, checkPorts } from "./services";

/**
 * Validates the whole stack configuration at once and returns the typed plan.
 * Throws ConfigError listing every problem, each naming its config key and the fix.
 */
export function parseAddressPlan(input: RawConfig): ParsedPlan {
    const c = new Checker();
    const raw = withDefaults(input);
    const n = checkNames(c, raw);
    const a = checkAddresses(c, raw);
    const ports = checkPorts(c, raw);
    const k3s = checkCluster(c, raw);
    const loadBalancer = checkLoadBalancer(c, raw);
    const ddns = checkDdns(c, raw, n.domain);
    const h = checkHosts(c, raw);
    checkPlan(c, raw, n, a, h);
    const cluster = checkClusterSource(c, raw, h.nodes.filter((x) => x.role === "server").length);
    const gateway2 = checkSecondGateway(c, raw, n, a, h);
    const pki = checkPki(c, raw, {
        domain: n.domain, lanCidr: a.lanCidr, lan: String(raw.lanCidr), gatewayHostname: n.gwHostname,
        ...gateway2 ? { gateway2Hostname: gateway2.hostname } : {},
        nodes: h.nodes.map((x) => x.name), lostNodes: h.lostNodes, k3sEnabled: cluster.source !== "none",
    });
    const hostKeys = checkHostKeys(c, raw, {
        gatewayHostname: n.gwHostname, nodes: h.nodes.map((x) => x.name), ...gateway2 ? { gateway2Hostname: gateway2.hostname } : {},
    });
    if (c.problems.length > 0) {
        throw new ConfigError(c.problems);
    }
    const [lanNet, lanPrefix] = a.lanCidr!;
    const plan: AddressPlan = {
        domain: n.domain!,
        gateway: { hostname: n.gwHostname!, lanAddress: a.gwLan!, lanInterface: n.lanIf!, wanInterface: n.wanIf!, sshHost: a.sshHost! },
        ...gateway2 ? { gateway2 } : {},
        lan: { cidr: String(raw.lanCidr), network: lanNet.toString(), prefixLength: lanPrefix, dhcpPool: a.pool!, leaseSeconds: a.leaseSeconds! },
        ...ddns ? { ddns } : {},
        wan: { cidr: String(raw.wanCidr), vip: a.vip! },
        dnsForwarders: a.forwarders,
        dnsTtlSeconds: a.dnsTtlSeconds!,
        metallbPool: a.metallb!,
        ingressIp: a.ingressIp!,
        apiName: n.apiName!,
        ports: ports as Ports,
        sshUser: n.sshUser!,
        hostKeys,
        nodes: h.nodes,
        lostNodes: h.lostNodes,
        reservations: h.reservations,
        k3s: k3s as K3sSettings,
        cluster,
        loadBalancer: loadBalancer as LoadBalancerSettings,
        pki: pki as PkiSettings,
    };
    return { plan: deepFreeze(plan), warnings: c.warnings };
}

function deepFreeze<T>(o: T): T {
    if (o && typeof o === "object") {
        Object.values(o).forEach(deepFreeze);
        Object.freeze(o);
    }
    return o;
}

