// Pulumi mocks shared by the component tests: records every resource registration so
// tests can assert inputs and parentage, and fails on any provider call it does not know.
import * as pulumi from "@pulumi/pulumi";

export interface RecordedResource {
    readonly type: string;
    readonly name: string;
    readonly inputs: Record<string, any>;
    readonly urn: string;
}

export const recorded: RecordedResource[] = [];

pulumi.runtime.setMocks({
    newResource(args: pulumi.runtime.MockResourceArgs) {
        recorded.push({
            type: args.type,
            name: args.name,
            inputs: args.inputs,
            urn: `urn:pulumi:test::homecloud::${args.type}::${args.name}`,
        });
        const state: Record<string, unknown> = { ...args.inputs };
        if (args.type === "random:index/randomPassword:RandomPassword") {
            state.result = "mock-random-password";
        }
        if (args.type === "command:remote:Command") {
            state.stdout = args.inputs.__mockStdout ?? "";
            state.stderr = "";
        }
        return { id: `${args.name}-id`, state };
    },
    call(args: pulumi.runtime.MockCallArgs) {
        throw new Error(`unexpected provider call ${args.token}`);
    },
}, "homecloud", "test", false);

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

export function reset(): void {
    recorded.length = 0;
}
