// One run of the whole program as `pulumi preview` runs it on a new stack: Pulumi's mocks
// with preview=true, so every command's stdout is unknown (the provider prints nothing in
// a preview) and every `apply` on it waits. Its own process, because the mock runtime's
// preview flag is global. Prints one JSON line: what registered, and every error.
//
//   npx ts-node test/preview/previewRun.ts <stack config as JSON, without the homecloud: prefix>
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";

const registered: string[] = [];
const errors: string[] = [];
const stack = JSON.parse(process.argv[2] ?? "{}") as Record<string, unknown>;

pulumi.runtime.setMocks({
    newResource(args: pulumi.runtime.MockResourceArgs) {
        registered.push(`${args.type}::${args.name}`);
        // No stdout or stderr: unknown in a preview, as the command provider's preview gives none.
        return { id: `${args.name}-id`, state: { ...args.inputs } };
    },
    call(args: pulumi.runtime.MockCallArgs) {
        throw new Error(`unexpected provider call ${args.token}`);
    },
}, "homecloud", "preview", true);

const config: Record<string, string> = { "homecloud:sshPrivateKey": "-----BEGIN OPENSSH PRIVATE KEY-----\npreview\n-----END OPENSSH PRIVATE KEY-----\n" };
for (const [k, v] of Object.entries(stack)) {
    config[`homecloud:${k}`] = typeof v === "string" ? v : JSON.stringify(v);
}
pulumi.runtime.setAllConfig(config, ["homecloud:sshPrivateKey"]);
process.on("unhandledRejection", (e) => errors.push(String((e as Error)?.message ?? e)));

async function main(): Promise<void> {
    try {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const outputs = require(path.resolve(__dirname, "..", "..", "index.ts")) as Record<string, unknown>;
        const settings = require("@pulumi/pulumi/runtime/settings");
        for (let quiet = 0, last = -1; quiet < 3; quiet = registered.length === last ? quiet + 1 : 0) {
            last = registered.length;
            await settings.waitForRPCs().catch((e: unknown) => errors.push(String(e)));
            await new Promise((r) => setTimeout(r, 100));
        }
        const known: Record<string, boolean> = {};
        for (const [k, v] of Object.entries(outputs)) {
            if (pulumi.Output.isInstance(v)) {
                known[k] = await (v as any).isKnown;
            }
        }
        process.stdout.write(`${JSON.stringify({ registered, errors, known })}\n`);
    } catch (e) {
        process.stdout.write(`${JSON.stringify({ registered, errors: [...errors, String((e as Error)?.stack ?? e)], known: {} })}\n`);
    }
}

void main();
