// /etc/rancher/k3s/registries.yaml: the registry mirrors K3s hands to its containerd, read
// once at start (K3s' Registry type, github.com/rancher/wharfie pkg/registries: `mirrors`
// by registry name, each with its `endpoint` list; `configs` by endpoint host for auth and
// TLS). No `configs` here: an https mirror is verified against the host's trust store
// (the TLS config then keeps Go's system pool), which holds the home CA on every host the
// program gives it (pki/trust.sh), so a mirror with a certificate from the gateway's CA is
// trusted as it is. Pure: no Pulumi import.
import * as YAML from "yaml";
import type { RegistryMirror } from "../config/cluster";
import { HostFileSpec } from "../host/hostFile";
import { NodeRole } from "../config/plan";
import { k3sService } from "./k3sConfig";

export const K3S_REGISTRIES_PATH = "/etc/rancher/k3s/registries.yaml";

/** registries.yaml for `mirrors` (validated by config/cluster.ts), registries in the given order. */
export function renderRegistries(mirrors: readonly RegistryMirror[]): string {
    if (mirrors.length === 0) {
        throw new RangeError("registries.yaml needs at least one mirror");
    }
    const body = {
        mirrors: Object.fromEntries(mirrors.map((m) => [m.registry, { endpoint: [...m.endpoints] }])),
    };
    return "# Written by homecloud (homecloud:registryMirrors); K3s reads it when it starts.\n" + YAML.stringify(body);
}

/** registries.yaml on a node: a change restarts its K3s (k3s-config.sh, bounded), as config.yaml's does. */
export function registriesFile(node: string, role: NodeRole): HostFileSpec {
    return { path: K3S_REGISTRIES_PATH, mode: "0600", hooks: "cluster/k3s-config.sh", env: { HC_UNIT: k3sService(role), HC_NODE: node } };
}
