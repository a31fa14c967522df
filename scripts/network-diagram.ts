// `make diagram STACK=<stack>`: the picture of Pulumi.<stack>.yaml's address plan, drawn
// by Graphviz's `dot` into Pulumi.<stack>.svg next to the stack file, before any `up`.
// The plan is validated as `pulumi up` would; an invalid one is reported, not drawn.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { AddressPlan, ConfigError } from "../config/plan";
import { RawConfig } from "../config/schema";
import { stackFileRawConfig } from "../config/stackFile";
import { parseAddressPlan } from "../config/validate";
import { renderNetworkDot } from "../network/diagram";

/** A stack file's configuration as `pulumi up` hands it to the program, however the CLI last wrote the file. */
export function stackFileConfig(file: string): RawConfig {
    return stackFileRawConfig(fs.readFileSync(file, "utf8"));
}

/** Runs Graphviz's `dot` on the DOT source; `format` is its -T (svg, png). */
export function drawDot(dot: string, format: "svg" | "png" = "svg"): Buffer {
    const r = spawnSync("dot", [`-T${format}`], { input: dot, maxBuffer: 64 * 1024 * 1024 });
    if (r.error && (r.error as NodeJS.ErrnoException).code === "ENOENT") {
        throw new Error("dot (Graphviz) is not installed: run `make checkers` as root, or `apt-get install graphviz`");
    }
    if (r.error || r.status !== 0) {
        throw new Error(`dot -T${format} failed (${r.error?.message ?? `exit ${r.status}`}): ${r.stderr.toString().trim()}`);
    }
    return r.stdout;
}

export function diagramOfPlan(plan: AddressPlan, title: string, format: "svg" | "png" = "svg"): Buffer {
    return drawDot(renderNetworkDot(plan, { title }), format);
}

/**
 * Draws `<dir>/Pulumi.<stack>.yaml`'s plan as `<dir>/Pulumi.<stack>.svg` (and each other
 * format asked for); returns the files written. Throws ConfigError for an invalid plan.
 */
export function writeStackDiagram(dir: string, stack: string, formats: readonly ("svg" | "png")[] = ["svg"]): string[] {
    if (!/^[A-Za-z0-9_.-]+$/.test(stack)) {
        throw new Error(`${JSON.stringify(stack)} is not a stack name: STACK names a stack file of this directory, e.g. STACK=lab`);
    }
    const file = path.join(dir, `Pulumi.${stack}.yaml`);
    if (!fs.existsSync(file)) {
        throw new Error(`${path.basename(file)} not found: STACK names a stack file of this directory, e.g. STACK=lab`);
    }
    const { plan, warnings } = parseAddressPlan(stackFileConfig(file));
    warnings.forEach((w) => console.error(`warning: ${w}`));
    return formats.map((format) => {
        const out = path.join(dir, `Pulumi.${stack}.${format}`);
        fs.writeFileSync(out, diagramOfPlan(plan, `stack ${stack}`, format));
        return out;
    });
}

function main(argv: string[]): void {
    const [stack, ...formats] = argv;
    if (!stack || formats.some((f) => f !== "png")) {
        throw new Error("usage: network-diagram.ts <stack> [png]   (make diagram STACK=<stack>)");
    }
    for (const out of writeStackDiagram(process.cwd(), stack, ["svg", ...formats as "png"[]])) {
        console.log(`diagram: ${path.relative(process.cwd(), out)}`);
    }
}

if (require.main === module) {
    try {
        main(process.argv.slice(2));
    } catch (e) {
        console.error(e instanceof ConfigError ? e.message : `diagram: ${(e as Error).message}`);
        process.exit(1);
    }
}
