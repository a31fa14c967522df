// K3s' config.yaml per node, and the addresses nodes and clients use. Pure: no Pulumi
// import; text in, text out. The token never appears here: it reaches the host through
// stdin (hostFile, secret) and K3s reads it from `token-file`. The VIP is in every server's
// tls-san, so the API can be reached by address before any resolver knows its name.
import * as YAML from "yaml";
import { AddressPlan, apiFqdn, NodeRole, NodeSpec, servers } from "../config/plan";
import { K3S_SERVER_PORT } from "../config/ports";

export const K3S_CONFIG_PATH = "/etc/rancher/k3s/config.yaml";
export const K3S_TOKEN_PATH = "/etc/rancher/k3s/token";
/** Where a server writes K3s' full token (`K10<CA hash>::server:<token>`) at every start. */
export const K3S_SERVER_TOKEN_PATH = "/var/lib/rancher/k3s/server/token";
export const K3S_KUBECONFIG_PATH = "/etc/rancher/k3s/k3s.yaml";
/** The API address in the kubeconfig K3s writes; never handed out as is. */
export const K3S_LOCAL_API = "https://127.0.0.1:6443";


const HEADER = "# Managed by homecloud (Pulumi). Edits here are overwritten on the next `pulumi up`.\n";

interface NodeIdentity {
    /** K3s node name (the host name from the plan). */
    readonly nodeName: string;
    /** The node's LAN address, K3s' `node-ip`. */
    readonly nodeIp: string;
}

/** The three kinds of node a K3s HA cluster with embedded etcd has. */
export type K3sConfigArgs =
    /** The first server: initialises etcd (`cluster-init`). */
    | NodeIdentity & { readonly kind: "init-server"; readonly tlsSan: readonly string[] }
    /** Another server: joins the first one's etcd. */
    | NodeIdentity & { readonly kind: "join-server"; readonly server: string; readonly tlsSan: readonly string[] }
    /** An agent: joins through the VIP; the K3s agent load balancer learns every server afterwards. */
    | NodeIdentity & { readonly kind: "agent"; readonly server: string };

/** Renders `/etc/rancher/k3s/config.yaml` for one node. */
export function renderK3sConfig(a: K3sConfigArgs): string {
    const config: Record<string, unknown> = { "node-name": a.nodeName, "node-ip": a.nodeIp };
    switch (a.kind) {
        case "init-server":
            config["cluster-init"] = true;
            break;
        case "join-server":
        case "agent":
            config.server = a.server;
            break;
        default:
            return unreachable(a);
    }
    config["token-file"] = K3S_TOKEN_PATH;
    if (a.kind !== "agent") {
        config["tls-san"] = [...a.tlsSan];
        config.disable = ["servicelb", "traefik"];
        config["write-kubeconfig-mode"] = "0600";
    }
    return HEADER + YAML.stringify(config);
}

function unreachable(x: never): never {
    throw new Error(`unexpected K3s node kind ${JSON.stringify(x)}`);
}

/** `https://<first server>:6443`: where joining servers find etcd. */
export function firstServerUrl(plan: AddressPlan): string {
    return `https://${firstServer(plan).ip}:${K3S_SERVER_PORT}`;
}

/** `https://<vip>:<apiPort>`: where agents join. */
export function vipApiUrl(plan: AddressPlan): string {
    return `https://${plan.wan.vip}:${plan.ports.api}`;
}

/** `https://<apiName>.<domain>:<apiPort>`: the API as clients outside the cluster name it. */
export function apiNameUrl(plan: AddressPlan): string {
    return `https://${apiFqdn(plan)}:${plan.ports.api}`;
}

/** The server that initialised etcd (the config check guarantees there is one). */
export function firstServer(plan: AddressPlan): NodeSpec {
    return servers(plan)[0];
}

/** What kind of node this is and what its config.yaml says, from the plan. */
export function k3sConfigFor(plan: AddressPlan, node: NodeSpec): K3sConfigArgs {
    if (!plan.nodes.some((n) => n.name === node.name)) {
        throw new RangeError(`node ${JSON.stringify(node.name)} is not in homecloud:nodes`);
    }
    const id = { nodeName: node.name, nodeIp: node.ip };
    const tlsSan = [plan.wan.vip, apiFqdn(plan)];
    if (node.role === "agent") {
        return { kind: "agent", ...id, server: vipApiUrl(plan) };
    }
    return node.name === firstServer(plan).name
        ? { kind: "init-server", ...id, tlsSan }
        : { kind: "join-server", ...id, server: firstServerUrl(plan), tlsSan };
}

const FULL_TOKEN = /^K10[0-9a-f]{64}::server:(.+)$/;

/**
 * K3s' full join token as the first server printed it, checked: `K10`, the SHA-256 of the
 * cluster CA (what a joining node compares the CA it is served against), `::server:` and the
 * cluster token itself. Never puts the token into an error message.
 */
export function fullJoinToken(printed: string, clusterToken: string): string {
    const token = printed.trim();
    const m = FULL_TOKEN.exec(token);
    if (!m) {
        throw new Error(`${K3S_SERVER_TOKEN_PATH} on the first server is not a full K3s token (K10<64 hex digits>::server:<token>)`);
    }
    if (m[1] !== clusterToken) {
        throw new Error(`${K3S_SERVER_TOKEN_PATH} on the first server holds another cluster token than this stack's; ` +
            "the first server was initialised with a different token");
    }
    return token;
}

/** The systemd unit the install script creates for a role. */
export function k3sService(role: NodeRole): string {
    return role === "server" ? "k3s" : "k3s-agent";
}


