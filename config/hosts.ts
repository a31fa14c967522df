// The nodes and the extra DHCP reservations, entry by entry, and the servers' count.
// Pure: no Pulumi import.
import { Checker } from "./checker";
import { NodeRole, NodeSpec, ReservationSpec } from "./plan";
import { RawConfig } from "./schema";

export /** Nodes and extra reservations, entry by entry; the servers' count. */
function checkHosts(c: Checker, raw: RawConfig): Hosts {
    const nodes: NodeSpec[] = [];
    const reservations: ReservationSpec[] = [];
    const hosts = (key: string, v: unknown, withRole: boolean): void => {
        if (!Array.isArray(v)) {
            c.fail(key, "must be a list of { name, mac, ip" + (withRole ? ", role }" : " }"));
            return;
        }
        v.forEach((entry, i) => {
            const k = `${key}[${i}]`;
            const o = c.object(k, entry, true);
            if (!o) {
                return;
            }
            const name = c.hostname(`${k}.name`, o.name);
            const mac = c.mac(`${k}.mac`, o.mac);
            const ip = c.ip(`${k}.ip`, o.ip);
            let role: NodeRole | undefined;
            if (withRole) {
                const r = o.role === undefined ? "server" : o.role;
                role = r === "server" || r === "agent" ? r : c.fail(`${k}.role`, `${JSON.stringify(r)} must be "server" or "agent"`);
            }
            if (name && mac && ip && (!withRole || role)) {
                if (withRole) {
                    nodes.push({ name, mac, ip, role: role! });
                } else {
                    reservations.push({ name, mac, ip });
                }
            }
        });
    };
    hosts("nodes", raw.nodes, true);
    hosts("reservations", raw.reservations, false);
    const servers = nodes.filter((n) => n.role === "server");
    if (Array.isArray(raw.nodes) && raw.nodes.length === 0) {
        c.fail("nodes", "is empty; list at least one node with role server");
    } else if (nodes.length > 0 && servers.length === 0) {
        c.fail("nodes", "has no node with role server; K3s needs at least one server");
    } else if (servers.length > 0 && servers.length % 2 === 0) {
        c.warnings.push(`homecloud:nodes: ${servers.length} servers give etcd no better fault tolerance than ${servers.length - 1}; use an odd number of servers`);
    }
    return { nodes, reservations, lostNodes: checkLostNodes(c, raw, nodes) };
}

/** Lost nodes: names of nodes taken out of `nodes`, each once, none still there. */
function checkLostNodes(c: Checker, raw: RawConfig, nodes: readonly NodeSpec[]): string[] {
    const v = raw.lostNodes;
    if (!Array.isArray(v)) {
        c.fail("lostNodes", "must be a list of node names (an empty list means no node was lost)");
        return [];
    }
    const out: string[] = [];
    v.forEach((entry, i) => {
        const k = `lostNodes[${i}]`;
        const name = c.hostname(k, entry);
        if (name === undefined) {
            return;
        }
        if (nodes.some((n) => n.name === name)) {
            c.fail(k, `"${name}" is still in homecloud:nodes; take it out of nodes to remove it (a node that answers is removed by that alone)`);
        } else if (out.includes(name)) {
            c.fail(k, `"${name}" is listed twice; list each lost node once`);
        } else if (raw.gatewayHostname === name) {
            c.fail(k, `"${name}" is the gateway, which the program always needs; only nodes can be lost`);
        } else {
            out.push(name);
        }
    });
    return out;
}

export interface Hosts {
    readonly nodes: NodeSpec[];
    readonly reservations: ReservationSpec[];
    /** Nodes removed from `nodes` whose host-side steps are dropped without running. */
    readonly lostNodes: string[];
}
