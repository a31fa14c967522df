// The charts as the cluster will see them: rendered by Helm (built from the helm.sh/helm/v3
// module) from the chart directories the releases publish in their own Go modules, with
// the program's exact values. Helm itself validates the values against the chart's
// values.schema.json; valueKeysNotInChart() also holds them against the chart's values.yaml,
// since a schema need not forbid unknown keys (MetalLB's accepts any top-level key).
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { CheckerTools } from "./tools";
import { KubeObject, ReleaseDecl } from "./objects";

/** Kubernetes version Helm renders for (the built kube-apiserver's). */
export const KUBE_VERSION = "v1.34.4";

export interface ChartSource {
    readonly dir: string;
    /** The module the chart comes from, e.g. `go.universe.tf/metallb@v0.15.3`. */
    readonly module: string;
}

/**
 * Where the chart of a release is, or undefined for a chart no Go module publishes.
 * cert-manager's chart in its module says `version: v0.0.0` (its release tooling fills in
 * the version); it is copied to `work` with version and appVersion set to the release.
 */
export function chartSource(tools: CheckerTools, release: ReleaseDecl, work: string): ChartSource | undefined {
    if (release.chart === "metallb") {
        return { dir: tools.metallb.chart, module: tools.metallb.module };
    }
    if (release.chart === "cert-manager") {
        const dir = path.join(work, `cert-manager-${release.version}`);
        if (!fs.existsSync(dir)) {
            fs.cpSync(tools.certManager.chart, dir, { recursive: true });
            fs.chmodSync(path.join(dir, "Chart.yaml"), 0o644);
            const chart = fs.readFileSync(path.join(dir, "Chart.yaml"), "utf8");
            const filled = chart.replace(/^version: v0\.0\.0$/m, `version: ${release.version}`)
                .replace(/^appVersion: v0\.0\.0$/m, `appVersion: ${release.version}`);
            if (filled === chart) {
                throw new Error(`${tools.certManager.chart}/Chart.yaml has no v0.0.0 placeholders to fill in`);
            }
            fs.writeFileSync(path.join(dir, "Chart.yaml"), filled);
        }
        return { dir, module: tools.certManager.module };
    }
    return undefined;
}

/** A chart's Chart.yaml `version`. */
export function chartVersion(dir: string): string {
    return String(YAML.parse(fs.readFileSync(path.join(dir, "Chart.yaml"), "utf8")).version);
}

export interface Rendered {
    readonly status: number;
    readonly stderr: string;
    readonly objects: KubeObject[];
}

/**
 * `helm template` of the release's chart with exactly `values` (as the provider's Release
 * does: release name, namespace). With `kubeconfig`, Helm asks that cluster instead
 * (`--validate`): its version against the chart's kubeVersion, its API for the objects.
 */
export function renderChart(tools: CheckerTools, chartDir: string, release: ReleaseDecl, values: Record<string, unknown>,
    kubeconfig?: string): Rendered {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "homecloud-helm-"));
    try {
        const valuesFile = path.join(tmp, "values.json");
        fs.writeFileSync(valuesFile, JSON.stringify(values));
        // Helm and its Kubernetes client (discovery cache in $HOME/.kube, or the working
        // directory without a HOME) keep everything in the temporary directory.
        const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: tmp, HELM_CACHE_HOME: tmp, HELM_CONFIG_HOME: tmp, HELM_DATA_HOME: tmp };
        const target = kubeconfig === undefined ? ["--kube-version", KUBE_VERSION]
            : ["--validate", "--kubeconfig", path.join(tmp, "kubeconfig")];
        if (kubeconfig !== undefined) {
            fs.writeFileSync(path.join(tmp, "kubeconfig"), kubeconfig, { mode: 0o600 });
        }
        const r = spawnSync(tools.helm, ["template", release.name, chartDir, "--namespace", release.namespace,
            ...target, "--include-crds", "--values", valuesFile], { encoding: "utf8", env, maxBuffer: 64 << 20 });
        const objects = r.status === 0
            ? YAML.parseAllDocuments(r.stdout).map((d) => d.toJS() as KubeObject | null).filter((o): o is KubeObject => o !== null)
            : [];
        return { status: r.status ?? -1, stderr: r.stderr, objects };
    } finally {
        fs.rmSync(tmp, { recursive: true, force: true });
    }
}

function isMap(v: unknown): v is Record<string, unknown> {
    return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * The key paths of `values` that the chart's values.yaml does not have. Below a key whose
 * default is an empty map (annotations, labels, nodeSelector...) any key is the user's own.
 */
export function valueKeysNotInChart(values: Record<string, unknown>, defaults: unknown, prefix = ""): string[] {
    const out: string[] = [];
    for (const [k, v] of Object.entries(values)) {
        const keyPath = prefix === "" ? k : `${prefix}.${k}`;
        if (!isMap(defaults) || !(k in defaults)) {
            out.push(keyPath);
            continue;
        }
        const d = defaults[k];
        if (isMap(v) && isMap(d) && Object.keys(d).length > 0) {
            out.push(...valueKeysNotInChart(v, d, keyPath));
        }
    }
    return out;
}

/** A chart's values.yaml, parsed. */
export function chartDefaults(dir: string): Record<string, unknown> {
    return YAML.parse(fs.readFileSync(path.join(dir, "values.yaml"), "utf8")) as Record<string, unknown>;
}
