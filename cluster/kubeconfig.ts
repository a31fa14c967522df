// Points K3s' admin kubeconfig at the cluster's stable address. Pure.
import * as YAML from "yaml";
import { K3S_KUBECONFIG_PATH, K3S_LOCAL_API } from "./k3sConfig";

const SERVER_URL = /^https:\/\/[A-Za-z0-9.-]+:\d{1,5}$/;

/**
 * Points K3s' admin kubeconfig at the cluster's stable address: every cluster entry whose
 * server is `https://127.0.0.1:6443` gets `server` instead. Throws when there is none, so
 * a kubeconfig that still says 127.0.0.1 can never be handed out.
 */
export function rewriteKubeconfig(kubeconfig: string, server: string): string {
    if (!SERVER_URL.test(server)) {
        throw new RangeError(`kubeconfig server ${JSON.stringify(server)} must look like https://<host>:<port>`);
    }
    const doc = YAML.parse(kubeconfig) as { clusters?: { cluster?: { server?: string } }[] } | null;
    if (!doc || typeof doc !== "object" || !Array.isArray(doc.clusters)) {
        throw new Error(`${K3S_KUBECONFIG_PATH} is not a kubeconfig: it has no clusters list`);
    }
    let replaced = 0;
    for (const c of doc.clusters) {
        if (c?.cluster?.server === K3S_LOCAL_API) {
            c.cluster.server = server;
            replaced += 1;
        }
    }
    if (replaced === 0) {
        throw new Error(`${K3S_KUBECONFIG_PATH} has no cluster at ${K3S_LOCAL_API}; refusing to guess which server to rewrite`);
    }
    return YAML.stringify(doc);
}

