// Steps on a host that is gone for good (homecloud:lostNodes). Taking a node out of the plan
// would delete its commands, and the command provider runs each delete over SSH (the old
// state's connection): against a dead Pi it dials until its dial limit and fails, and every
// later `up` fails the same way. So a lost host's commands are declared once more under
// their old names, with
//   - ignoreChanges ["*"]: the engine puts every old input back before it diffs (pulumi
//     pkg/resource/deploy/step_generator.go, processIgnoreChanges; sdk/go/common/resource/
//     properties_path.go, reset: "*" copies the old object whole), so nothing changes and
//     no provider call dials the host: a same step;
//   - retainOnDelete: a same step writes the new options into the state (step.go,
//     SameStep.Apply keeps s.new), and a delete of a resource whose state says
//     RetainOnDelete calls no provider (step.go, DeleteStep.Apply).
// So they stay in the stack, untouched, while the name is in lostNodes, and are dropped
// without running once it is taken out. Whatever those steps left on the host (K3s, keys,
// the toolkit) stays there: README, "A node that is gone".
import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";

/**
 * A lost host's command `name`, declared so that it stays as the state has it and is never
 * run again. A name the state does not hold would be created: its connection names an
 * address that cannot resolve (`<host>.lost.invalid`, RFC 6761) and gives up at the first
 * dial, so the `up` fails at once naming the host.
 */
export function lostHostStep(name: string, host: string, opts: pulumi.CustomResourceOptions): command.remote.Command {
    return new command.remote.Command(name, {
        connection: { host: `${host}.lost.invalid`, dialErrorLimit: 1 },
        create: "true",
    }, { ...opts, ignoreChanges: ["*"], retainOnDelete: true });
}
