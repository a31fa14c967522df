// Runs the whole program (index.ts) under the mocks with a given stack configuration, as
// often as a test needs: each run re-imports index.ts and records afresh.
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { RecordedResource, recorded, resolve } from "./mocks";
import type { StackOutputs } from "../outputs";
import { stackFileRawConfig } from "../config/stackFile";

const REPO = path.resolve(__dirname, "..");
const INDEX = path.join(REPO, "index.ts");

/** Stack configuration without the `homecloud:` prefix, values as the program reads them. */
export type StackConfig = Record<string, unknown>;

/** A stack file's configuration as `pulumi up` hands it to the program, e.g. `stackFile("Pulumi.dev.yaml")` (relative to the repository). */
export function stackFile(file: string): StackConfig {
    return stackFileRawConfig(fs.readFileSync(path.resolve(REPO, file), "utf8"));
}

export const TEST_SSH_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nprogram-test\n-----END OPENSSH PRIVATE KEY-----\n";

export interface ProgramRun {
    readonly outputs: StackOutputs;
    /** Every resource the run registered, in order. */
    readonly resources: readonly RecordedResource[];
}

/**
 * Runs index.ts with this configuration (plus a test SSH key, and `secrets`, set as with
 * `pulumi config set --secret`) and waits for its outputs.
 */
export async function runProgram(stack: StackConfig, secrets: Readonly<Record<string, string>> = {}): Promise<ProgramRun> {
    const config: Record<string, string> = {};
    for (const [k, v] of Object.entries(stack)) {
        config[`homecloud:${k}`] = typeof v === "string" ? v : JSON.stringify(v);
    }
    config["homecloud:sshPrivateKey"] = TEST_SSH_KEY;
    for (const [k, v] of Object.entries(secrets)) {
        config[`homecloud:${k}`] = v;
    }
    pulumi.runtime.setAllConfig(config, ["homecloud:sshPrivateKey", ...Object.keys(secrets).map((k) => `homecloud:${k}`)]);
    recorded.length = 0;
    delete require.cache[INDEX];
    // A throw inside an `apply` (a step's stdout the program cannot parse, say) fails the
    // registration that waited on it, which the SDK re-raises as an unhandled rejection and
    // nothing else: the outputs then never resolve. Under the engine that fails the run;
    // here the run fails with the first such error instead of waiting forever.
    let onRejection: (reason: unknown) => void = () => undefined;
    const rejected = new Promise<never>((_, reject) => {
        onRejection = (reason: unknown) => reject(reason instanceof Error ? reason : new Error(String(reason)));
    });
    process.on("unhandledRejection", onRejection);
    try {
        // As Pulumi's Node.js runtime loads a CommonJS program: require, module.exports as is.
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const outputs = require(INDEX) as StackOutputs;
        await Promise.race([rejected, Promise.all(Object.values(outputs).map((v) => resolve(v as pulumi.Input<unknown>)))]);
        // Let registrations that hang off the outputs finish.
        await Promise.race([rejected, new Promise((r) => setTimeout(r, 100))]);
        return { outputs, resources: recorded.map((r) => ({ ...r })) };
    } finally {
        process.off("unhandledRejection", onRejection);
    }
}
