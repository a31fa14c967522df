// The registration request the SDK sends the engine carries what Pulumi's mock API does
// not pass on to `newResource`: parent, dependencies, resource options. Both the unit
// tier's mocks and the lab's SSH engine read them here, from one tap on the mock monitor.
import * as pulumi from "@pulumi/pulumi";
import { engineUrn } from "../../host/urn";

/** What one registration told the engine, beyond the mock's `MockResourceArgs`. */
export interface Registration {
    readonly type: string;
    readonly name: string;
    /** The URN the real engine gives it: stack, project, the parents' full type chain, name. */
    readonly urn: string;
    /** The URNs its `aliases` stand for: an old URN in here is this resource, moved. */
    readonly aliasUrns: readonly string[];
    /** URN of the parent ("" for none). */
    readonly parent: string;
    /** URNs of every direct dependency: explicit `dependsOn` and resources inputs came from. */
    readonly dependencies: readonly string[];
    readonly additionalSecretOutputs: readonly string[];
    /** Property paths whose change replaces the resource, e.g. `triggers[*]`. */
    readonly replaceOnChanges: readonly string[];
    readonly deleteBeforeReplace: boolean;
    /** Input paths whose old value the engine puts back before it diffs, e.g. `*`. */
    readonly ignoreChanges: readonly string[];
    /** The engine drops the resource on delete without calling its provider. */
    readonly retainOnDelete: boolean;
}

let current: Registration | undefined;

/**
 * The registration the mock monitor is handing to `newResource` right now: the mock
 * calls `newResource` synchronously inside `registerResource`, so this is exact even
 * when two resources share a name under different parents.
 */
export function currentRegistration(): Registration | undefined {
    return current;
}

/** The URNs a registration's aliases name, as the engine resolves them. */
function aliasUrns(req: any, stack: string, project: string): string[] {
    return (req.getAliasesList() as any[]).map((a) => {
        if (a.hasUrn()) {
            return a.getUrn() as string;
        }
        const s = a.getSpec();
        const parent = s.getNoparent() ? "" : s.hasParenturn() ? s.getParenturn() : req.getParent();
        return engineUrn(s.getStack() || stack, s.getProject() || project, parent, s.getType() || req.getType(), s.getName() || req.getName());
    });
}

/**
 * Calls `onRequest` with every registration before the mock monitor sees it, and
 * `onResponse` with the URN it answered. Call after `pulumi.runtime.setMocks`. The mock
 * monitor is also made to answer the engine's URNs: its own keep only the parent's last
 * type (pulumi/runtime/mocks.js newUrn), where the engine keeps the whole chain.
 */
export function tapRegistrations(
    onRequest: (r: Registration) => void,
    onResponse: (r: Registration, urn: string) => void = () => undefined,
): void {
    const monitor = pulumi.runtime.getMonitor() as any;
    const stack = pulumi.getStack();
    const project = pulumi.getProject();
    monitor.newUrn = (parent: string, type: string, name: string) => engineUrn(stack, project, parent ?? "", type, name);
    const registerResource = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req: any, callback: (err: unknown, resp: any) => void) => {
        const r: Registration = {
            type: req.getType(),
            name: req.getName(),
            urn: engineUrn(stack, project, req.getParent(), req.getType(), req.getName()),
            aliasUrns: aliasUrns(req, stack, project),
            parent: req.getParent(),
            dependencies: req.getDependenciesList(),
            additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
            replaceOnChanges: req.getReplaceonchangesList(),
            deleteBeforeReplace: req.getDeletebeforereplace(),
            ignoreChanges: req.getIgnorechangesList(),
            retainOnDelete: req.hasRetainondelete() ? req.getRetainondelete() : false,
        };
        onRequest(r);
        current = r;
        try {
            return registerResource(req, (err: unknown, resp: any) => {
                if (resp) {
                    onResponse(r, resp.getUrn());
                }
                callback(err, resp);
            });
        } finally {
            current = undefined;
        }
    };
}
