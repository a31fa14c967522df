// Where scripts/setup-kube-checker.sh put the cluster half's checker: the built
// kube-apiserver and Helm, Debian's etcd, and the pinned releases' charts and CRDs.
import * as fs from "fs";
import * as path from "path";

export interface CheckerTools {
    readonly kubeApiserver: string;
    /** kubectl of the same release, standing in for K3s' `k3s kubectl`. */
    readonly kubectl: string;
    readonly etcd: string;
    readonly helm: string;
    readonly metallb: { readonly module: string; readonly chart: string };
    readonly certManager: { readonly module: string; readonly chart: string };
    readonly traefik: { readonly module: string; readonly crds: string };
}

export function checkerTools(): CheckerTools {
    const file = path.join(process.env.HOMECLOUD_CACHE ?? "/var/cache/homecloud", "kube-checker.json");
    if (!fs.existsSync(file)) {
        throw new Error(`${file} is missing: run \`make checkers\` (scripts/setup-kube-checker.sh builds kube-apiserver and Helm and fetches the charts)`);
    }
    return JSON.parse(fs.readFileSync(file, "utf8")) as CheckerTools;
}
