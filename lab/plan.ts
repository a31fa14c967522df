// The lab's address plan as the tests see it, read from where it is defined: the stack's
// own facts from Pulumi.lab.yaml (the config the program deploys), the lab's wiring from
// lab/lib.sh (namespaces, MACs, the addresses the lab sets). Nothing is repeated here; the
// unit tier checks that the two agree (test/unit/lab-plan.test.ts).
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { DDNS_DEFAULT_LABEL } from "../config/ddns";
import { CONFIG_SCHEMA } from "../config/schema";
import { stackFileRawConfig } from "../config/stackFile";

const REPO = path.resolve(__dirname, "..");

/** A `lab/lib.sh` array, one row of words per entry. */
export function labRows(name: string): string[][] {
    const r = spawnSync("bash", ["-c", `. lab/lib.sh && printf '%s\\n' "\${${name}[@]}"`], { cwd: REPO, encoding: "utf8" });
    if (r.status !== 0) {
        throw new Error(`reading ${name} from lab/lib.sh: ${r.stderr}`);
    }
    return r.stdout.trim().split("\n").map((l) => l.split(" "));
}

interface Host { readonly name: string; readonly mac: string; readonly ip: string }

export interface LabPlan {
    readonly domain: string;
    /** Where pool clients' names go (the stack's ddnsSuffix, or the default under the domain). */
    readonly ddnsSuffix: string;
    readonly gwLan: string;
    /** The gateway's WAN address and its peer's (the lab's uplink host). */
    readonly gwWan: string;
    readonly uplink: string;
    readonly vip: string;
    /** The VIP's API port (the stack's, or the schema's default). */
    readonly apiPort: number;
    readonly lanCidr: string;
    readonly ingressIp: string;
    readonly pool: { readonly start: string; readonly end: string };
    readonly nodes: readonly Host[];
    /** The lab's DHCP client and its reservation. */
    readonly client: Host;
}

/** The lab's facts from the lab stack (`file`: Pulumi.lab.yaml, or a copy the CLI rewrote), read as `up` reads it. */
export function labPlan(file = path.join(REPO, "Pulumi.lab.yaml")): LabPlan {
    const c = stackFileRawConfig(fs.readFileSync(file, "utf8"));
    const get = (k: string): any => c[k];
    const addr = (host: string, iface: string): string => {
        const row = labRows("LAB_ADDRS").find(([h, i]) => h === host && i === iface);
        if (!row) {
            throw new Error(`lab/lib.sh LAB_ADDRS has no address for ${host} ${iface}`);
        }
        return row[2].split("/")[0];
    };
    const [start, end] = String(get("dhcpPool")).split("-");
    const client = (get("reservations") as Host[]).find((r) => r.name === "client");
    if (!client) {
        throw new Error("Pulumi.lab.yaml has no reservation named client");
    }
    return {
        domain: get("domain"),
        ddnsSuffix: get("ddnsSuffix") || `${DDNS_DEFAULT_LABEL}.${get("domain")}`,
        gwLan: get("gatewayLanAddress"),
        gwWan: addr("gw", "wan0"),
        uplink: addr("uplink", "eth0"),
        vip: get("vip"),
        apiPort: get("apiPort") ?? CONFIG_SCHEMA.apiPort.default,
        lanCidr: get("lanCidr"),
        ingressIp: get("ingressIp"),
        pool: { start, end },
        nodes: (get("nodes") as Host[]).map((n) => ({ name: n.name, mac: n.mac, ip: n.ip })),
        client: { name: client.name, mac: client.mac, ip: client.ip },
    };
}
