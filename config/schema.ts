// Every configuration key, defined once: its type, default, description and an example.
// Pulumi.yaml's `config:` block and the README's table are rendered from this (the unit
// tier fails when they differ; UPDATE_FIXTURES=1 rewrites them, for review), the loader
// applies these defaults, and the validators check the values. Pure: no Pulumi import.

/** A key as Pulumi's project schema types it (`string`, `integer`, `boolean`, `array`). */
export interface KeySpec {
    readonly type: "string" | "integer" | "boolean" | "array";
    /** Element type of an array. */
    readonly items?: "string" | "object";
    /**
     * Applied by the CLI when a stack does not set the key, and by the loader under the
     * mocks and the lab engine. A key without a default is required by the CLI.
     */
    readonly default?: string | number | boolean | readonly never[];
    /** Must be set with `pulumi config set --secret`. */
    readonly secret?: true;
    readonly description: string;
    /** What the README's table shows in its example column. */
    readonly example: string;
}

export const CONFIG_SCHEMA = {
    domain: {
        type: "string", default: "home.arpa", example: "`home.arpa`",
        description: "Cluster DNS domain served by BIND (prefer home.arpa, RFC 8375; a .local domain gets a warning: it collides with mDNS).",
    },
    gatewayHostname: {
        type: "string", default: "gateway", example: "`gateway`",
        description: "Host name of the gateway Pi (its A record and the NS of the zone).",
    },
    gatewayLanAddress: {
        type: "string", example: "`10.0.0.1`",
        description: "The gateway's static address on the cluster LAN: router and DNS server that DHCP hands out.",
    },
    gatewaySshHost: {
        type: "string", default: "", example: "`10.0.0.1`",
        description: "Where the program reaches the gateway over SSH; empty (the default) means gatewayLanAddress.",
    },
    gateway2Hostname: {
        type: "string", default: "", example: "`gateway2`",
        description: "Host name of an optional second gateway Pi that takes over the VIP, DHCP and DNS when the first fails (keepalived VRRP, Kea hot-standby, BIND secondary); empty (the default) means one gateway.",
    },
    gateway2LanAddress: {
        type: "string", default: "", example: "`10.0.0.2`",
        description: "The second gateway's own static address on the cluster LAN (outside every pool); required with gateway2Hostname.",
    },
    gateway2WanAddress: {
        type: "string", default: "", example: "`192.168.1.3`",
        description: "The second gateway's own static address on the home network; required with gateway2Hostname.",
    },
    gateway2SshHost: {
        type: "string", default: "", example: "`10.0.0.2`",
        description: "Where the program reaches the second gateway over SSH; empty (the default) means gateway2LanAddress.",
    },
    gateway2LanInterface: {
        type: "string", default: "", example: "`eth0`",
        description: "The second gateway's interface on the cluster LAN; empty (the default) means lanInterface.",
    },
    gateway2WanInterface: {
        type: "string", default: "", example: "`eth1`",
        description: "The second gateway's interface on the home network; empty (the default) means wanInterface.",
    },
    lanFloatingAddress: {
        type: "string", default: "", example: "`10.0.0.3`",
        description: "With a second gateway: the LAN address that moves with the VIP to the gateway in charge, handed out by DHCP as router and DNS server; required with gateway2Hostname, outside every pool.",
    },
    lanInterface: {
        type: "string", example: "`eth0`",
        description: "Gateway interface on the cluster LAN, the only one Kea serves DHCP on.",
    },
    wanInterface: {
        type: "string", example: "`eth1`",
        description: "Gateway interface on the home network (NAT out, VIP in), e.g. eth1 or enx<mac>.",
    },
    lanCidr: {
        type: "string", example: "`10.0.0.0/24`",
        description: "Cluster LAN as network/prefix, /16 to /29.",
    },
    dhcpPool: {
        type: "string", example: "`10.0.0.100-10.0.0.149`",
        description: "Dynamic DHCP pool as first-last inside the LAN; reservations must lie outside it.",
    },
    leaseSeconds: {
        type: "integer", default: 3600, example: "`3600`",
        description: "DHCP lease lifetime in seconds, 60 to 604800.",
    },
    ddnsEnabled: {
        type: "boolean", default: true, example: "`true`",
        description: "Names for pool clients: Kea DHCP-DDNS adds <client hostname>.<ddnsSuffix> and its PTR to BIND (TSIG-signed, loopback only) and removes them when the lease ends.",
    },
    ddnsSuffix: {
        type: "string", default: "", example: "`dhcp.home.arpa`",
        description: "Domain pool clients' names go in, inside the domain; empty (the default) means dhcp.<domain>. The domain itself is an opt-in with a warning: a client could then take a name the *.<domain> wildcard gives an app.",
    },
    dnsTtlSeconds: {
        type: "integer", default: 300, example: "`300`",
        description: "TTL of the program's own DNS records (and of negative answers), 30 to 86400 seconds; short, so a changed address reaches clients quickly. Pool clients' records get Kea's TTL.",
    },
    wanCidr: {
        type: "string", example: "`192.168.1.0/24`",
        description: "The home network the WAN interface is on.",
    },
    vip: {
        type: "string", example: "`192.168.1.240`",
        description: "Free address of the home network the gateway takes as the cluster VIP (API and ingress).",
    },
    dnsForwarders: {
        type: "array", items: "string", default: [], example: "`[192.168.1.1]`",
        description: "Upstream DNS servers BIND forwards to; an empty list (the default) means BIND resolves by itself.",
    },
    metallbPool: {
        type: "string", example: "`10.0.0.200-10.0.0.220`",
        description: "LAN addresses MetalLB hands to LoadBalancer services, as first-last, outside the DHCP pool.",
    },
    ingressIp: {
        type: "string", example: "`10.0.0.200`",
        description: "Traefik's fixed address, inside metallbPool; the DNS wildcard points at it.",
    },
    apiName: {
        type: "string", default: "api", example: "`api`",
        description: "DNS label of the API VIP inside the domain (api -> api.home.arpa), also in the K3s TLS SANs.",
    },
    apiPort: {
        type: "integer", default: 6443, example: "`6443`",
        description: "Kubernetes API port on the VIP, balanced by the gateway's HAProxy over the servers' 6443.",
    },
    httpPort: {
        type: "integer", default: 80, example: "`80`",
        description: "HTTP port on the VIP, passed by HAProxy to the ingress's 80.",
    },
    httpsPort: {
        type: "integer", default: 443, example: "`443`",
        description: "HTTPS port on the VIP, passed by HAProxy to the ingress's 443.",
    },
    apiHealthCheck: {
        type: "string", default: "https", example: "`https`",
        description: "How the gateway's HAProxy checks each server's API: https (TLS handshake and GET /readyz with a client certificate K3s's client CA signs on the first server: only 200 passes, so a server whose etcd lost quorum (500) or whose apiserver is not up (503) is taken out; before K3s runs there, without a certificate: 200 or 401) or tcp (connect only, as in K3s's own load-balancer guide).",
    },
    healthCheckIntervalMs: {
        type: "integer", default: 1000, example: "`1000`",
        description: "Milliseconds between health checks of each backend, 200 to 60000; after a failure the next check comes after half of it.",
    },
    healthCheckFall: {
        type: "integer", default: 2, example: "`2`",
        description: "Failed checks in a row that take a backend out of rotation, 1 to 10.",
    },
    healthCheckRise: {
        type: "integer", default: 2, example: "`2`",
        description: "Passed checks in a row that put a backend back in rotation, 1 to 10.",
    },
    certificateLifetimeDays: {
        type: "integer", default: 90, example: "`90`",
        description: "Lifetime of every certificate the gateway's CA signs (hosts, services, the cluster's intermediate), 7 to 397 days; `up` re-signs each one, same key, once a third of it is left.",
    },
    certificateRenewal: {
        type: "integer", default: 0, example: "`0`",
        description: "Raise it by one to have the next `up` re-sign every certificate now, keeping every key (e.g. after a host's clock was wrong).",
    },
    certificates: {
        type: "array", items: "object", default: [], example: "list",
        description: "Extra service certificates from the gateway's CA, the key made on the host that serves it: { name, host, sans }; name.<domain> is always a SAN, sans adds names inside the domain or LAN addresses.",
    },
    certificateExclude: {
        type: "array", items: "string", default: [], example: "`[pi-new]`",
        description: "Nodes that get no key, certificate or CA trust from the program, e.g. one listed before it is plugged in; never the gateway, nor the first server when K3s is on.",
    },
    caDestroy: {
        type: "boolean", default: false, example: "`false`",
        description: "Let `destroy` remove the gateway's CA (key and certificate). Off, destroy keeps it so a new deployment can reuse it; set it, run up, then destroy.",
    },
    sshUser: {
        type: "string", default: "pi", example: "`pi`",
        description: "Login on every host, with passwordless sudo (the program runs sudo -n).",
    },
    sshPort: {
        type: "integer", default: 22, example: "`22`",
        description: "SSH port of every host.",
    },
    sshPrivateKey: {
        type: "string", secret: true, example: "secret",
        description: "OpenSSH private key of sshUser; set it with `pulumi config set --secret homecloud:sshPrivateKey < key`.",
    },
    hostKeys: {
        type: "array", items: "object", default: [], example: "list",
        description: "SSH host keys to pin, one { host, key } per host: the gateway's host name or a node's name, and the key as /etc/ssh/ssh_host_ed25519_key.pub holds it. A host without one has its key learned on the first up (trust on first use, with a warning) and pinned from then on; stack output hostKeys lists them all.",
    },
    nodes: {
        type: "array", items: "object", example: "list",
        description: "The cluster's Pis, servers first, an odd number of servers: { name, mac, ip, role: server | agent }.",
    },
    lostNodes: {
        type: "array", items: "string", default: [], example: "`[node3]`",
        description: "Nodes gone for good (dead SD card, no network) that you took out of nodes: their steps on the host itself are dropped from the stack without running (nothing dials it), their DNS, DHCP, VIP backend, certificate signing and cluster membership are removed as usual, and with K3s on the cluster refuses a Node of that name.",
    },
    reservations: {
        type: "array", items: "object", default: [], example: "list",
        description: "Other fixed DHCP clients (a NAS, a printer): { name, mac, ip }.",
    },
    k3sEnabled: {
        type: "boolean", default: true, example: "`true`",
        description: "Install K3s on the nodes and deploy the cluster half (MetalLB, Traefik, cert-manager) on it. Off, the cluster half goes on your own cluster when kubeconfig is set, and nowhere otherwise.",
    },
    k3sVersion: {
        type: "string", default: "v1.36.4+k3s1", example: "`v1.36.4+k3s1`",
        description: "Pinned K3s release (the default is the stable channel's of August 2026). An upgrade goes one minor at a time and never down: the install step refuses anything else before touching the node.",
    },
    k3sInstall: {
        type: "string", default: "script", example: "`script`",
        description: "script: the official install script; airgap: binary, images and install.sh already in k3sAirgapDir on each host.",
    },
    k3sAirgapDir: {
        type: "string", default: "/opt/k3s-airgap", example: "`/opt/k3s-airgap`",
        description: "Directory on each host holding the air-gap K3s binary, images and install script.",
    },
    kubeconfigServer: {
        type: "string", default: "vip", example: "`vip`",
        description: "Server of the exported kubeconfig: vip (https://<vip>:<apiPort>, works from the first up without DNS) or name (https://<apiName>.<domain>:<apiPort>, once your resolver answers for the domain).",
    },
    kubeconfigRenewDays: {
        type: "integer", default: 30, example: "`30`",
        description: "Days before the exported kubeconfig's client certificate expires that pulumi up renews it, 1 to 90; run pulumi up at least this often.",
    },
    kubeconfig: {
        type: "string", default: "", example: "secret",
        description: "Your own cluster instead of the program's K3s (with k3sEnabled false): its admin kubeconfig, set as a secret (`kubectl config view --minify --flatten --raw | pulumi config set --secret homecloud:kubeconfig`; a plain value is refused). MetalLB, Traefik and cert-manager go on it; the first server in nodes runs the cluster steps with kubectl. Empty (the default): none.",
    },
    chartRepository: {
        type: "string", default: "", example: "`https://charts.home.arpa`",
        description: "Helm chart repository (http or https) every chart is installed from, e.g. a mirror on the LAN holding metallb, traefik, traefik-crds and cert-manager at their pinned versions; empty (the default) means each chart's own repository.",
    },
    registryMirrors: {
        type: "array", items: "object", default: [], example: "list",
        description: "Container registry mirrors K3s pulls through, written to /etc/rancher/k3s/registries.yaml on every node: { registry, endpoints }, e.g. { registry: docker.io, endpoints: [https://registry.home.arpa:5000] }; registry * covers every registry. Empty (the default): no registries.yaml.",
    },
} as const satisfies Record<string, KeySpec>;

export type ConfigKey = keyof typeof CONFIG_SCHEMA;

export const CONFIG_KEYS = Object.keys(CONFIG_SCHEMA) as ConfigKey[];

/** Raw stack configuration by key, values not yet trusted (YAML/JSON shapes). */
export type RawConfig = Partial<Record<ConfigKey, unknown>> & Record<string, unknown>;

/** The raw configuration with every unset key that has a default given its default. */
export function withDefaults(raw: RawConfig): RawConfig {
    const out: RawConfig = { ...raw };
    for (const key of CONFIG_KEYS) {
        const spec: KeySpec = CONFIG_SCHEMA[key];
        if (out[key] === undefined && spec.default !== undefined) {
            out[key] = Array.isArray(spec.default) ? [] : spec.default;
        }
    }
    return out;
}

/** Pulumi.yaml's `config:` block, as its YAML parses. */
export function projectConfigBlock(): Record<string, Record<string, unknown>> {
    return Object.fromEntries(CONFIG_KEYS.map((key) => {
        const spec: KeySpec = CONFIG_SCHEMA[key];
        return [key, {
            type: spec.type,
            ...spec.items ? { items: { type: spec.items } } : {},
            ...spec.default !== undefined ? { default: spec.default } : {},
            ...spec.secret ? { secret: true } : {},
            description: spec.description,
        }];
    }));
}

/** The README's configuration table (markdown). */
export function readmeConfigTable(): string {
    const rows = CONFIG_KEYS.map((key) => {
        const spec: KeySpec = CONFIG_SCHEMA[key];
        const dflt = spec.default === undefined ? (spec.secret ? "required, secret" : "required")
            : Array.isArray(spec.default) ? "`[]`" : spec.default === "" ? "(empty)" : `\`${String(spec.default)}\``;
        return `| \`${key}\` | ${spec.type}${spec.items ? ` of ${spec.items}` : ""} | ${dflt} | ${spec.example} | ${spec.description.replace(/\|/g, "\\|")} |`;
    });
    return ["| key | type | default | example | meaning |", "|---|---|---|---|---|", ...rows].join("\n");
}
