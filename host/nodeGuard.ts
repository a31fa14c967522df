// A guard step per node, on the gateway, that depends on every step on the node itself. The
// engine deletes dependents first (pulumi pkg/resource/deploy/step_generator.go,
// ScheduleDeletes), so when a node is taken out of homecloud:nodes the guard's delete runs
// before any of the node's own deletes: if the node does not answer, the run fails at once
// with pki/reachable.sh's message naming homecloud:lostNodes, instead of each step dialling
// the dead Pi until its dial limit (minutes) and every later `up` doing the same. A lost
// node's guard is kept and never run, like its other steps (host/lostHost.ts).
import * as pulumi from "@pulumi/pulumi";
import { AddressPlan } from "../config/plan";
import { reachableCommand } from "../pki/pkiSteps";
import { Host, hostStep } from "./hostOps";
import { lostHostStep } from "./lostHost";

/** Whether the program runs anything on `node`: K3s on, or the node has PKI steps. */
export function hasNodeSteps(plan: AddressPlan, node: string): boolean {
    return plan.k3s.enabled || !plan.pki.excluded.includes(node);
}

/**
 * Declares `node-<name>-reachable` on `gateway` for every node with steps, depending on
 * `stepsOn(node)`; and the kept, never-run guard of every lost node that had steps.
 */
export function nodeGuards(plan: AddressPlan, gateway: Host, stepsOn: (node: string) => pulumi.Resource[]): void {
    for (const node of plan.nodes.filter((n) => hasNodeSteps(plan, n.name))) {
        hostStep(`node-${node.name}-reachable`, gateway, {
            create: reachableCommand(node.name, node.ip, plan.ports.ssh),
            delete: reachableCommand(node.name, node.ip, plan.ports.ssh),
        }, { dependsOn: stepsOn(node.name) });
    }
    for (const lost of plan.lostNodes.filter((n) => hasNodeSteps(plan, n))) {
        lostHostStep(`node-${lost}-reachable`, lost, {});
    }
}
