// BIND on the second gateway: a secondary of every zone the first gateway serves, fed by
// TSIG-signed transfers the first gateway NOTIFYs it of (bind.ts adds that side). Pure:
// plan in, text out.
import { AddressPlan } from "../../config/plan";
import { forwardZoneName, KEY_DIR, keyFilePath, reverseZoneNames, XFER_KEY } from "../bind";
import { secondGateway } from "./keepalived";

/**
 * Where the second gateway's named keeps the transferred zones: its own cache directory,
 * which Debian's AppArmor profile and the `bind` user let it write, under names of the
 * program's own (named-conf.sh removes them when the configuration goes).
 */
export const SECONDARY_ZONE_DIR = "/var/cache/bind";
export const SECONDARY_ZONE_PREFIX = "homecloud-db.";

/** The transfer key file both gateways hold; the secret is base64 of 32 bytes (HMAC-SHA256). */
export function renderXferKey(secret: string): string {
    if (!/^[A-Za-z0-9+/]{43}=$/.test(secret)) {
        throw new RangeError("the transfer key's secret must be base64 of 32 bytes");
    }
    return [
        "// Managed by homecloud (Pulumi): the key zone transfers between the gateways are signed with.",
        `key "${XFER_KEY}" {`,
        "    algorithm hmac-sha256;",
        `    secret "${secret}";`,
        "};",
        "",
    ].join("\n");
}

/**
 * Renders the second gateway's `named.conf.local`: every zone of the plan as a secondary of
 * the first gateway's LAN address, transfers signed with the pair's key (a transfer or a
 * NOTIFY without it is refused), NOTIFYs accepted from the first gateway only. It transfers
 * nothing on; a secondary takes no updates (dynamic updates go to the first gateway).
 */
export function renderNamedLocalSecondary(plan: AddressPlan, keyDir: string = KEY_DIR, zoneDir: string = SECONDARY_ZONE_DIR): string {
    secondGateway(plan);
    const primary = plan.gateway.lanAddress;
    const zone = (name: string): string[] => [
        `zone "${name}" {`,
        "    type secondary;",
        `    primaries { ${primary} key ${XFER_KEY}; };`,
        `    allow-notify { ${primary}; };`,
        `    file "${zoneDir}/${SECONDARY_ZONE_PREFIX}${name}";`,
        "    allow-transfer { none; };",
        "};",
    ];
    return [
        "// Managed by homecloud (Pulumi): replaced on every update. Secondary of the first gateway.",
        `include "${keyFilePath(XFER_KEY, keyDir)}";`,
        "",
        ...[forwardZoneName(plan), ...reverseZoneNames(plan)].flatMap((z) => [...zone(z), ""]),
    ].join("\n");
}
