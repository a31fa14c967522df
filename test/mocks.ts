// Pulumi mocks shared by the component tests: records every resource registration so
// tests can assert inputs and parentage, and fails on any provider call it does not know.
import * as assert from "assert";
import * as crypto from "crypto";
import * as pulumi from "@pulumi/pulumi";
import { HOST_KEY_FILE } from "../config/sshKey";
import { HostKeyScanner, ScanResult, useHostKeyScanner } from "../host/keyscan";
import { unwrapSecrets } from "../lab/engine/commandSemantics";
import { engineUrn } from "../host/urn";
import { currentRegistration, tapRegistrations } from "../lab/engine/monitorTap";

export interface RecordedResource {
    readonly type: string;
    readonly name: string;
    readonly inputs: Record<string, any>;
    /** The URN the real engine gives it (the whole parent type chain), as the monitor answers it. */
    readonly urn: string;
    /**
     * What the SDK sent the engine with this registration, which the mock API does not
     * pass on: the parent's URN ("" for none), every direct dependency's URN (explicit
     * `dependsOn` and resources the inputs came from), and the URNs its aliases stand for.
     */
    parent: string;
    dependencies: string[];
    aliasUrns: string[];
    /** Same as `urn` (kept for the tests that name it so). */
    registeredUrn: string;
    /** Provider reference (`<provider URN>::<id>`) the resource was registered with, "" for the default. */
    provider: string;
    /** Outputs the registration asked the engine to keep secret (`additionalSecretOutputs`). */
    additionalSecretOutputs: string[];
    /** Inputs whose change replaces the resource (`replaceOnChanges`, e.g. `triggers[*]`). */
    replaceOnChanges: string[];
    /** Inputs whose old value the engine keeps (`ignoreChanges`). */
    ignoreChanges: string[];
    /** `retainOnDelete`: dropped on delete without its provider. */
    retainOnDelete: boolean;
}

/**
 * Stand-ins for what a remote command prints, for components that parse a command's
 * stdout (e.g. a kubeconfig read): the first hook returning a string wins, else
 * `defaultStdout`.
 */
export const stdoutHooks: ((r: { name: string; inputs: Record<string, any> }) => string | undefined)[] = [];

export const recorded: RecordedResource[] = [];

/** A well-formed ed25519 public key line made from `seed` (a host's address, say): `ssh-ed25519 AAAA…`. */
export function testHostKey(seed: string): string {
    const part = (b: Buffer): Buffer => Buffer.concat([Buffer.from([0, 0, 0, b.length]), b]);
    const blob = Buffer.concat([part(Buffer.from("ssh-ed25519")), part(crypto.createHash("sha256").update(seed).digest())]);
    return `ssh-ed25519 ${blob.toString("base64")}`;
}

/** Test keys for these hosts, by name (what HostKeys.byHost gives the components). */
export function testHostKeys(hosts: readonly string[]): Record<string, string> {
    return Object.fromEntries(hosts.map((h) => [h, testHostKey(h)]));
}

/**
 * The host key scanner under the mocks: nothing is dialled. Every scan is recorded; a host
 * answers what `scanAnswers` holds for its address, else as a host that is down.
 */
export const scans: { address: string; port: number; type: string }[] = [];
export const scanAnswers = new Map<string, ScanResult>();
export const mockScanner: HostKeyScanner = async (address, port, type) => {
    scans.push({ address, port, type });
    return scanAnswers.get(address) ?? { kind: "unreachable", detail: "not dialled under the mocks" };
};
useHostKeyScanner(mockScanner);

/** A learn step (host/hostKeys.ts) prints the host's key: one made from the address it dials. */
function learnedKeyStdout(inputs: Record<string, any>): string | undefined {
    return typeof inputs.create === "string" && inputs.create.includes(HOST_KEY_FILE)
        ? testHostKey(String(unwrapSecrets(inputs.connection).host)) : undefined;
}

/** The gateway's snapshot key step (network/etcd-snapshots.sh key) prints an ed25519 public key, one per host. */
function snapshotKeyStdout(inputs: Record<string, any>): string | undefined {
    return typeof inputs.create === "string" && /\/network\/etcd-snapshots\.sh key$/.test(inputs.create)
        ? testHostKey(`snapshot-key@${String(unwrapSecrets(inputs.connection).host)}`) : undefined;
}

/**
 * What a command prints when no hook says otherwise: a line derived from what it runs
 * (`create`) and what it reads (`stdin`), so that a change upstream travels through stdout
 * to the commands that read it (key → CSR → signature → certificate), as on a host. No
 * trailing newline: the provider trims one (pulumi-command v1.2.1
 * provider/pkg/provider/remote/commandOutputs.go, strings.TrimSuffix(stdout, "\n")).
 */
export function defaultStdout(name: string, inputs: Record<string, any>): string {
    const { create, stdin } = unwrapSecrets(inputs) as { create?: string; stdin?: string };
    const digest = crypto.createHash("sha256").update(JSON.stringify({ create, stdin })).digest("hex");
    return `mock stdout of ${name}: ${digest}`;
}

/**
 * Stacks a `pulumi.StackReference` may read, by stack name: what the engine would give
 * back (`outputs`, and `secretOutputNames`, the outputs the referenced stack keeps secret).
 * A reference to a stack not in here fails, as the engine fails on an unknown stack.
 */
export const referencedStacks = new Map<string, { outputs: Record<string, unknown>; secretOutputNames: string[] }>();

pulumi.runtime.setMocks({
    newResource(args: pulumi.runtime.MockResourceArgs) {
        // A read (a StackReference) is no registration: top level, no options.
        const seen = currentRegistration();
        const sent = seen && seen.type === args.type && seen.name === args.name ? seen : {
            urn: engineUrn(pulumi.getStack(), pulumi.getProject(), "", args.type, args.name), parent: "", dependencies: [],
            aliasUrns: [], replaceOnChanges: [], additionalSecretOutputs: [], ignoreChanges: [], retainOnDelete: false,
        };
        recorded.push({
            type: args.type,
            name: args.name,
            inputs: args.inputs,
            urn: sent.urn,
            parent: sent.parent,
            dependencies: [...sent.dependencies],
            aliasUrns: [...sent.aliasUrns],
            replaceOnChanges: [...sent.replaceOnChanges],
            registeredUrn: sent.urn,
            ignoreChanges: [...sent.ignoreChanges],
            retainOnDelete: sent.retainOnDelete,
            provider: args.provider ?? "",
            additionalSecretOutputs: [...sent.additionalSecretOutputs],
        });
        const state: Record<string, unknown> = { ...args.inputs };
        if (args.type === "random:index/randomPassword:RandomPassword") {
            state.result = "mock-random-password";
        }
        if (args.type === "pulumi:pulumi:StackReference") {
            const stack = referencedStacks.get(args.inputs.name);
            if (!stack) {
                throw new Error(`unknown stack "${args.inputs.name}" (mocked stacks: ${[...referencedStacks.keys()].join(", ")})`);
            }
            Object.assign(state, stack);
        }
        if (args.type === "command:remote:Command") {
            state.stdout = args.inputs.__mockStdout ?? learnedKeyStdout(args.inputs) ?? snapshotKeyStdout(args.inputs)
                ?? stdoutHooks.map((h) => h({ name: args.name, inputs: args.inputs })).find((o) => o !== undefined)
                ?? defaultStdout(args.name, args.inputs);
            state.stderr = "";
        }
        return { id: `${args.name}-id`, state };
    },
    call(args: pulumi.runtime.MockCallArgs) {
        throw new Error(`unexpected provider call ${args.token}`);
    },
}, "homecloud", "test", false);

// The registration request carries parent, dependencies and options, which newResource
// reads through currentRegistration(); the monitor answers the engine's URNs.
tapRegistrations(() => undefined);

/** Resolves an Output for assertions (mocks run with preview=false, so apply fires). */
export function resolve<T>(o: pulumi.Input<T> | undefined): Promise<pulumi.Unwrap<T>> {
    return new Promise((r) => pulumi.output(o as pulumi.Input<T>).apply((v) => { r(v); return v; }));
}

/** Whether an Output is marked secret. */
export function isSecret(o: pulumi.Input<unknown>): Promise<boolean> {
    return pulumi.isSecret(pulumi.output(o));
}

/** Resources of one type whose name starts with the prefix, in registration order. */
export function find(type: string, prefix = ""): RecordedResource[] {
    return recorded.filter((r) => r.type === type && r.name.startsWith(prefix));
}

/** The recorded resource the monitor gave this URN (a parent or a dependency). */
export function byUrn(urn: string): RecordedResource | undefined {
    return recorded.find((r) => r.registeredUrn === urn);
}

export function reset(): void {
    recorded.length = 0;
}

/** Name of the resource a registration was parented to. */
export function parentName(r: RecordedResource): string {
    const p = byUrn(r.parent);
    assert.ok(p, `${r.name}: parent ${r.parent} is a recorded resource`);
    return p.name;
}

/** Names of the resources a registration told the engine it depends on, sorted. */
export function dependsOn(r: RecordedResource): string[] {
    return r.dependencies.map((u) => {
        const d = byUrn(u);
        assert.ok(d, `${r.name}: dependency ${u} is a recorded resource`);
        return d.name;
    }).sort();
}
