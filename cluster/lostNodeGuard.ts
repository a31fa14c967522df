// LostNodeGuard: the cluster refuses a Node named in homecloud:lostNodes (lostNodes.ts says
// why). Declared only while the list is not empty; taking a name out lets it join again.
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { LOST_NODES_POLICY, lostNodesBindingSpec, lostNodesPolicySpec } from "./lostNodes";

export interface LostNodeGuardArgs {
    /** The plan's lost nodes (`plan.lostNodes`), at least one. */
    readonly lostNodes: readonly string[];
    /** What must exist first: the cluster's kubeconfig read (its API up). */
    readonly waitFor?: pulumi.Input<pulumi.Resource>[];
}

export class LostNodeGuard extends pulumi.ComponentResource {
    public readonly policy: k8s.admissionregistration.v1.ValidatingAdmissionPolicy;
    public readonly binding: k8s.admissionregistration.v1.ValidatingAdmissionPolicyBinding;

    constructor(name: string, args: LostNodeGuardArgs, opts?: pulumi.ComponentResourceOptions) {
        super("homecloud:k8s:LostNodeGuard", name, {}, opts);
        this.policy = new k8s.admissionregistration.v1.ValidatingAdmissionPolicy(`${name}-policy`, {
            metadata: { name: LOST_NODES_POLICY },
            spec: lostNodesPolicySpec(args.lostNodes),
        }, { parent: this, dependsOn: args.waitFor });
        this.binding = new k8s.admissionregistration.v1.ValidatingAdmissionPolicyBinding(`${name}-binding`, {
            metadata: { name: LOST_NODES_POLICY },
            spec: lostNodesBindingSpec(),
        }, { parent: this, dependsOn: [this.policy] });
        this.registerOutputs({});
    }
}
