// The files only a gateway pair has, as host files: where each goes, who may read it, and
// the hooks that check and activate it. Pure: no Pulumi import.
import { HostFileSpec } from "../../host/hostFile";
import { KEY_DIR, keyFilePath, XFER_KEY } from "../bind";
import { KEA_API_PASSWORD_PATH, KEA_CTRL_AGENT_CONFIG_PATH } from "./keaHa";
import { KEA_CONFIG_PATH } from "../kea";
import { KEEPALIVED_CONFIG_PATH } from "./keepalived";
import { NAT_UNIT } from "../natUnit";

/**
 * keepalived.conf: holds the VRRP password, so root only; `keepalived -t`, then a reload. Its
 * removal restarts the NAT unit (HC_NAT_UNIT) if it runs: a keepalived that held the VIP takes
 * it along when it stops, and the one-gateway unit puts it back.
 */
export function keepalivedConfigFile(): HostFileSpec {
    return { path: KEEPALIVED_CONFIG_PATH, mode: "0600", hooks: "network/pair/keepalived-config.sh", env: { HC_NAT_UNIT: NAT_UNIT } };
}

/** Kea with the HA hook: hooks directory filled in on the host, `kea-dhcp4 -t`, SIGHUP. */
export function keaHaConfigFile(): HostFileSpec {
    return { path: KEA_CONFIG_PATH, hooks: "network/pair/kea-ha-config.sh" };
}

/** The Control Agent's configuration: `kea-ctrl-agent -t`, then a restart. */
export function keaCtrlAgentConfigFile(): HostFileSpec {
    return { path: KEA_CTRL_AGENT_CONFIG_PATH, hooks: "network/pair/kea-ctrl-agent-config.sh" };
}

/**
 * The Control Agent's password, which both Kea configurations name: root and Kea's user
 * only (0640 root:_kea); checked by `kea-ctrl-agent -t` reading it as a password file, and a
 * new password restarts the agent and reloads kea-dhcp4 where they use it.
 */
export function keaApiPasswordFile(): HostFileSpec {
    return {
        path: KEA_API_PASSWORD_PATH, mode: "0640", owner: "root:_kea", hooks: "network/pair/kea-api-password.sh",
        env: { HC_CTRL_AGENT_CONFIG: KEA_CTRL_AGENT_CONFIG_PATH, HC_KEA_CONFIG: KEA_CONFIG_PATH },
    };
}

/** The zone-transfer key: named's group may read it, nobody else; `named-checkconf`. */
export function xferKeyFile(dir: string = KEY_DIR): HostFileSpec {
    return { path: keyFilePath(XFER_KEY, dir), mode: "0640", owner: "root:bind", hooks: "network/pair/xfer-key.sh" };
}
