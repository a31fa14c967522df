// URNs as the Pulumi engine makes them: the engine knows a resource by its URN (stack,
// project, the full type chain of its parents, name), not by its name. Moving a command
// under another component, or renaming a component's type, gives it a new URN: the engine
// creates the new resource and DELETES the old one, unless the move carries an alias.
// Pure: no Pulumi import (pulumi v3.259 sdk/go/common/resource/urn/urn.go New, and
// pkg/resource/deploy/deployment.go generateURN, which leaves the root stack out).

/** The root stack's type, never part of a child's type chain. */
export const ROOT_STACK_TYPE = "pulumi:pulumi:Stack";

/** The command provider's type: every host change is one. */
export const COMMAND_TYPE = "command:remote:Command";

/** The URN the engine gives `name` of `type` under `parentUrn` ("" for none). */
export function engineUrn(stack: string, project: string, parentUrn: string, type: string, name: string): string {
    const parentType = parentUrn === "" ? "" : qualifiedType(parentUrn);
    const typ = parentType === "" || parentType === ROOT_STACK_TYPE ? type : `${parentType}$${type}`;
    return `urn:pulumi:${stack}::${project}::${typ}::${name}`;
}

/** The URN of a child of `parentUrn`, in the same stack and project. */
export function childUrn(parentUrn: string, type: string, name: string): string {
    const [stack, project] = urnParts(parentUrn);
    return engineUrn(stack, project, parentUrn, type, name);
}

/** The type chain of a URN: `homecloud:network:Gateway$command:remote:Command`. */
export function qualifiedType(urn: string): string {
    return urnParts(urn)[2];
}

/** The URN without `urn:pulumi:<stack>::<project>::`: what stays the same across stacks. */
export function stackFreeUrn(urn: string): string {
    const [, , typ, name] = urnParts(urn);
    return `${typ}::${name}`;
}

function urnParts(urn: string): [string, string, string, string] {
    const m = /^urn:pulumi:([^:]*)::([^:]*)::(.+?)::(.*)$/s.exec(urn);
    if (!m) {
        throw new RangeError(`not a Pulumi URN: ${JSON.stringify(urn)}`);
    }
    return [m[1], m[2], m[3], m[4]];
}
