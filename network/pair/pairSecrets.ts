// The secrets the two gateways share: the VRRP password, the zone-transfer key and the Kea
// Control Agent's password (the HA partners' basic HTTP authentication). Derived
// from the SSH private key (HMAC-SHA256 with a label per use), so both gateways get the
// same ones in every engine with nothing to store or generate, they stay Pulumi secrets end
// to end, and a new SSH key gives new ones at the next `up` (both gateways updated together).
import * as crypto from "crypto";
import * as pulumi from "@pulumi/pulumi";
import { VRRP_AUTH_LENGTH } from "./keepalived";

export interface PairSecrets {
    /** keepalived's PASS authentication: 8 letters and digits. */
    readonly vrrpPass: pulumi.Output<string>;
    /** The TSIG key of zone transfers: base64 of 32 bytes. */
    readonly xferSecret: pulumi.Output<string>;
    /** The Kea Control Agent's basic-auth password, which each HA partner sends the other: 64 hex digits. */
    readonly keaApiPassword: pulumi.Output<string>;
}

function derive(key: string, label: string): Buffer {
    return crypto.createHmac("sha256", key).update(`homecloud gateway pair: ${label}`).digest();
}

/** The pair's secrets from the SSH private key (pure, for tests). */
export function deriveSecrets(sshPrivateKey: string): { vrrpPass: string; xferSecret: string; keaApiPassword: string } {
    const alnum = (label: string): string => derive(sshPrivateKey, label).toString("base64").replace(/[^A-Za-z0-9]/g, "");
    return {
        vrrpPass: alnum("vrrp").slice(0, VRRP_AUTH_LENGTH),
        xferSecret: derive(sshPrivateKey, "zone transfers").toString("base64"),
        keaApiPassword: derive(sshPrivateKey, "kea control agent").toString("hex"),
    };
}

export function pairSecrets(sshPrivateKey: pulumi.Input<string>): PairSecrets {
    const d = pulumi.secret(pulumi.output(sshPrivateKey).apply(deriveSecrets));
    return {
        vrrpPass: pulumi.secret(d.apply((x) => x.vrrpPass)),
        xferSecret: pulumi.secret(d.apply((x) => x.xferSecret)),
        keaApiPassword: pulumi.secret(d.apply((x) => x.keaApiPassword)),
    };
}
