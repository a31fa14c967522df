// The registration request the SDK sends the engine carries what Pulumi's mock API does
// not pass on to `newResource`: parent, dependencies, resource options. Both the unit
// tier's mocks and the lab's SSH engine read them here, from one tap on the mock monitor.
import * as pulumi from "@pulumi/pulumi";

/** What one registration told the engine, beyond the mock's `MockResourceArgs`. */
export interface Registration {
    readonly type: string;
    readonly name: string;
    /** URN of the parent ("" for none). */
    readonly parent: string;
    /** URNs of every direct dependency: explicit `dependsOn` and resources inputs came from. */
    readonly dependencies: readonly string[];
    readonly additionalSecretOutputs: readonly string[];
    /** Property paths whose change replaces the resource, e.g. `triggers[*]`. */
    readonly replaceOnChanges: readonly string[];
    /** Inputs whose change is ignored once the resource exists (`ignoreChanges`). */
    readonly ignoreChanges: readonly string[];
    readonly deleteBeforeReplace: boolean;
}

/**
 * Calls `onRequest` with every registration before the mock monitor sees it, and
 * `onResponse` with the URN it answered. Call after `pulumi.runtime.setMocks`.
 */
export function tapRegistrations(
    onRequest: (r: Registration) => void,
    onResponse: (r: Registration, urn: string) => void = () => undefined,
): void {
    const monitor = pulumi.runtime.getMonitor() as any;
    const registerResource = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req: any, callback: (err: unknown, resp: any) => void) => {
        const r: Registration = {
            type: req.getType(),
            name: req.getName(),
            parent: req.getParent(),
            dependencies: req.getDependenciesList(),
            additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
            replaceOnChanges: req.getReplaceonchangesList(),
            ignoreChanges: req.getIgnorechangesList(),
            deleteBeforeReplace: req.getDeletebeforereplace(),
        };
        onRequest(r);
        return registerResource(req, (err: unknown, resp: any) => {
            if (resp) {
                onResponse(r, resp.getUrn());
            }
            callback(err, resp);
        });
    };
}
