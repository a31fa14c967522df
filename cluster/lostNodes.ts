// What keeps a lost node out of the cluster if it comes back. Its Node was deleted (K3s then
// removed a server's etcd member, pkg/etcd/member_controller.go) but nothing on the Pi itself
// was touched. An agent would rejoin silently: K3s' node-password Secret is owned by the
// Node and garbage-collected with it (pkg/nodepassword/controller.go, onChangeNode), so the
// returning kubelet's registration makes a fresh one, and its join token is still valid. So
// the cluster refuses to create a Node of a lost name: a ValidatingAdmissionPolicy (GA in
// Kubernetes 1.30) on CREATE of nodes, whose CEL names the list. Pure: no Pulumi import.

/** Name of the policy and of its binding. */
export const LOST_NODES_POLICY = "homecloud-lost-nodes";

/** The policy's spec: deny creating a Node named in `lost` (validated host names). */
export function lostNodesPolicySpec(lost: readonly string[]) {
    if (lost.length === 0 || !lost.every((n) => /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(n))) {
        throw new RangeError(`lost node names ${JSON.stringify(lost)} must be one or more host names`);
    }
    return {
        failurePolicy: "Fail",
        matchConstraints: {
            resourceRules: [{ apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE"], resources: ["nodes"] }],
        },
        validations: [{
            expression: `!(object.metadata.name in [${lost.map((n) => `'${n}'`).join(", ")}])`,
            messageExpression: "'node ' + object.metadata.name + ' is in homecloud:lostNodes; uninstall K3s on it " +
                "(k3s-uninstall.sh or k3s-agent-uninstall.sh), take it out of lostNodes, then add it to nodes again'",
            reason: "Forbidden",
        }],
    };
}

/** The binding that puts the policy in force (deny, not only warn or audit). */
export function lostNodesBindingSpec() {
    return { policyName: LOST_NODES_POLICY, validationActions: ["Deny"] };
}
