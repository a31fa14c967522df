import * as assert from "assert";
import { apiFqdn, servers } from "../../config/plan";
import { RawConfig } from "../../config/schema";
import { parseAddressPlan } from "../../config/validate";
import { problems } from "../assertions";

/** A valid plan in the shape of the lab stack; every case below changes one thing. */
function base(): RawConfig {
    return {
        domain: "lab.home.arpa",
        gatewayHostname: "gw",
        gatewayLanAddress: "10.77.0.1",
        lanInterface: "lan0",
        wanInterface: "wan0",
        lanCidr: "10.77.0.0/24",
        dhcpPool: "10.77.0.100-10.77.0.149",
        wanCidr: "192.168.77.0/24",
        vip: "192.168.77.10",
        metallbPool: "10.77.0.200-10.77.0.220",
        ingressIp: "10.77.0.200",
        nodes: [
            { name: "node1", mac: "02:77:00:00:00:11", ip: "10.77.0.11", role: "server" },
            { name: "node2", mac: "02:77:00:00:00:12", ip: "10.77.0.12", role: "server" },
            { name: "node3", mac: "02:77:00:00:00:13", ip: "10.77.0.13", role: "server" },
        ],
        reservations: [{ name: "client", mac: "02:77:00:00:00:50", ip: "10.77.0.50" }],
    };
}

/** The base plan with one change made. */
function changed(change: (c: any) => void): RawConfig {
    const raw = base();
    change(raw);
    return raw;
}

describe("address plan", () => {
    it("accepts the lab plan and fills in defaults", () => {
        const { plan, warnings } = parseAddressPlan(base());
        assert.deepStrictEqual(warnings, []);
        assert.strictEqual(plan.gateway.sshHost, "10.77.0.1");
        assert.deepStrictEqual(plan.ports, { api: 6443, http: 80, https: 443, ssh: 22 });
        assert.strictEqual(plan.lan.leaseSeconds, 3600);
        assert.strictEqual(plan.lan.network, "10.77.0.0");
        assert.strictEqual(plan.lan.prefixLength, 24);
        assert.deepStrictEqual(plan.dnsForwarders, []);
        assert.strictEqual(plan.sshUser, "pi");
        assert.strictEqual(plan.k3s.version, "v1.36.4+k3s1");
        assert.strictEqual(apiFqdn(plan), "api.lab.home.arpa");
        assert.deepStrictEqual(servers(plan).map((n) => n.name), ["node1", "node2", "node3"]);
        assert.ok(Object.isFrozen(plan) && Object.isFrozen(plan.nodes[0]), "the plan is frozen");
    });

    it("normalises MAC addresses to lower case with colons", () => {
        const raw = base();
        (raw.nodes as any)[0].mac = "02-77-00-00-00-AB";
        assert.strictEqual(parseAddressPlan(raw).plan.nodes[0].mac, "02:77:00:00:00:ab");
    });

    it("reports every problem at once, in one error naming each key", () => {
        const raw = base();
        raw.vip = "300.1.1.1";
        raw.apiPort = 0;
        assert.throws(() => parseAddressPlan(raw), {
            name: "ConfigError",
            message: "Invalid homecloud configuration (2 problems):\n" +
                "  - homecloud:vip: \"300.1.1.1\" is not an IPv4 address; write four decimal numbers 0-255, e.g. 10.0.0.1\n" +
                "  - homecloud:apiPort: 0 is not a TCP port; use a whole number from 1 to 65535",
        });
    });

    const cases: [string, (c: any) => void, string[]][] = [
        ["malformed IPv4 address", (c) => { c.gatewayLanAddress = "10.77.0"; },
            ["homecloud:gatewayLanAddress: \"10.77.0\" is not an IPv4 address; write four decimal numbers 0-255, e.g. 10.0.0.1"]],
        ["malformed node address", (c) => { c.nodes[1].ip = "10.77.0.256"; },
            ["homecloud:nodes[1].ip: \"10.77.0.256\" is not an IPv4 address; write four decimal numbers 0-255, e.g. 10.0.0.1"]],
        ["malformed CIDR", (c) => { c.lanCidr = "10.77.0.0/33"; },
            ["homecloud:lanCidr: \"10.77.0.0/33\" is not an IPv4 CIDR; write network/prefix, e.g. 10.0.0.0/24"]],
        ["CIDR with host bits", (c) => { c.lanCidr = "10.77.0.5/24"; },
            ["homecloud:lanCidr: \"10.77.0.5/24\" has host bits set; the network is 10.77.0.0/24"]],
        ["LAN prefix too wide", (c) => { c.wanCidr = "192.168.77.0/24"; c.lanCidr = "10.0.0.0/8"; c.gatewayLanAddress = "10.77.0.1"; },
            ["homecloud:lanCidr: /8 is not supported; use a prefix from /16 to /29, e.g. 10.0.0.0/24"]],
        ["malformed MAC", (c) => { c.nodes[0].mac = "02:77:00:00:11"; },
            ["homecloud:nodes[0].mac: \"02:77:00:00:11\" is not a MAC address; write six hex pairs, e.g. dc:a6:32:01:02:03"]],
        ["bad hostname", (c) => { c.nodes[2].name = "Node_3"; },
            ["homecloud:nodes[2].name: \"Node_3\" is not a valid host name; use 1-63 lower-case letters, digits and inner hyphens (RFC 1123)"]],
        ["hostname with trailing hyphen", (c) => { c.gatewayHostname = "gw-"; },
            ["homecloud:gatewayHostname: \"gw-\" is not a valid host name; use 1-63 lower-case letters, digits and inner hyphens (RFC 1123)"]],
        ["bad domain", (c) => { c.domain = "home..arpa"; },
            ["homecloud:domain: \"home..arpa\" is not a valid domain; use lower-case dot-separated labels, e.g. home.arpa"]],
        ["single-label domain", (c) => { c.domain = "lan"; },
            ["homecloud:domain: \"lan\" is not a valid domain; use lower-case dot-separated labels, e.g. home.arpa"]],
        ["duplicate MAC", (c) => { c.nodes[1].mac = "02:77:00:00:00:11"; },
            ["homecloud:nodes[1].mac: \"02:77:00:00:00:11\" is already used by homecloud:nodes[0].mac; every host needs its own mac"]],
        ["duplicate address", (c) => { c.reservations[0].ip = "10.77.0.12"; },
            ["homecloud:reservations[0].ip: \"10.77.0.12\" is already used by homecloud:nodes[1].ip; every host needs its own ip"]],
        ["duplicate hostname", (c) => { c.reservations[0].name = "node2"; },
            ["homecloud:reservations[0].name: \"node2\" is already used by homecloud:nodes[1].name; every host needs its own name"]],
        ["node named like the gateway", (c) => { c.nodes[0].name = "gw"; },
            ["homecloud:nodes[0].name: \"gw\" is already used by homecloud:gatewayHostname; every host needs its own name"]],
        ["reservation on the gateway address", (c) => { c.reservations[0].ip = "10.77.0.1"; },
            ["homecloud:reservations[0].ip: \"10.77.0.1\" is already used by homecloud:gatewayLanAddress; every host needs its own ip"]],
        ["reservation outside the subnet", (c) => { c.reservations[0].ip = "10.78.0.50"; },
            ["homecloud:reservations[0].ip: 10.78.0.50 is outside the LAN 10.77.0.0/24; reserve an address inside it"]],
        ["reservation inside the dynamic pool", (c) => { c.nodes[0].ip = "10.77.0.120"; },
            ["homecloud:nodes[0].ip: 10.77.0.120 is inside the dynamic pool 10.77.0.100-10.77.0.149; reserve an address outside the pool"]],
        ["reservation inside the MetalLB pool", (c) => { c.nodes[0].ip = "10.77.0.210"; },
            ["homecloud:nodes[0].ip: 10.77.0.210 is inside the MetalLB pool 10.77.0.200-10.77.0.220; reserve an address outside it"]],
        ["pool outside the subnet", (c) => { c.dhcpPool = "10.77.0.100-10.77.1.10"; },
            ["homecloud:dhcpPool: 10.77.0.100-10.77.1.10 is not inside the LAN 10.77.0.0/24; use host addresses of the LAN",
                "homecloud:metallbPool: 10.77.0.200-10.77.0.220 overlaps the DHCP pool 10.77.0.100-10.77.1.10; MetalLB and DHCP would hand out the same address"]],
        ["pool reversed", (c) => { c.dhcpPool = "10.77.0.149-10.77.0.100"; },
            ["homecloud:dhcpPool: \"10.77.0.149-10.77.0.100\" is reversed; put the lower address first"]],
        ["pool malformed", (c) => { c.dhcpPool = "10.77.0.100"; },
            ["homecloud:dhcpPool: \"10.77.0.100\" is not an address range; write first-last, e.g. 10.0.0.100-10.0.0.149"]],
        ["pool including the broadcast address", (c) => { c.dhcpPool = "10.77.0.100-10.77.0.255"; c.metallbPool = "10.77.0.60-10.77.0.70"; c.ingressIp = "10.77.0.60"; },
            ["homecloud:dhcpPool: 10.77.0.100-10.77.0.255 includes 10.77.0.255, the broadcast address of 10.77.0.0/24; keep the range to host addresses"]],
        ["pool outside the LAN", (c) => { c.dhcpPool = "10.77.1.100-10.77.1.149"; },
            ["homecloud:dhcpPool: 10.77.1.100-10.77.1.149 is not inside the LAN 10.77.0.0/24; use host addresses of the LAN"]],
        ["MetalLB range from the network address", (c) => { c.metallbPool = "10.77.0.0-10.77.0.9"; c.ingressIp = "10.77.0.5"; c.gatewayLanAddress = "10.77.0.254"; },
            ["homecloud:metallbPool: 10.77.0.0-10.77.0.9 includes 10.77.0.0, the network address of 10.77.0.0/24; keep the range to host addresses"]],
        ["node on the broadcast address", (c) => { c.nodes[0].ip = "10.77.0.255"; },
            ["homecloud:nodes[0].ip: 10.77.0.255 is the broadcast address of 10.77.0.0/24; reserve a host address"]],
        ["reservation on the network address", (c) => { c.reservations[0].ip = "10.77.0.0"; },
            ["homecloud:reservations[0].ip: 10.77.0.0 is the network address of 10.77.0.0/24; reserve a host address"]],
        ["VIP equal to a node's address", (c) => { c.vip = "10.77.0.12"; },
            ["homecloud:vip: 10.77.0.12 is already homecloud:nodes[1].ip; the VIP needs a free address of the home network"]],
        ["VIP on the home network's broadcast address", (c) => { c.vip = "192.168.77.255"; },
            ["homecloud:vip: 192.168.77.255 is the broadcast address of the home network 192.168.77.0/24; pick a free host address"]],
        ["forwarder that is the gateway", (c) => { c.dnsForwarders = ["192.0.2.53", "10.77.0.1"]; },
            ["homecloud:dnsForwarders[1]: 10.77.0.1 is the gateway itself (homecloud:gatewayLanAddress); BIND would forward to itself: name your home router or an upstream resolver, or use []"]],
        ["forwarder that is the VIP", (c) => { c.dnsForwarders = ["192.168.77.10"]; },
            ["homecloud:dnsForwarders[0]: 192.168.77.10 is the gateway itself (homecloud:vip); BIND would forward to itself: name your home router or an upstream resolver, or use []"]],
        ["forwarder on loopback", (c) => { c.dnsForwarders = ["127.0.0.1"]; },
            ["homecloud:dnsForwarders[0]: 127.0.0.1 is the gateway itself (a loopback address); BIND would forward to itself: name your home router or an upstream resolver, or use []"]],
        ["host name that makes a DNS name over 253 characters", (c) => {
            c.domain = ["a".repeat(63), "b".repeat(63), "c".repeat(63), "d".repeat(50), "arpa"].join(".");
        }, [`homecloud:reservations[0].name: makes the DNS name client.${"a".repeat(13)}… 254 characters long; a name has at most 253: shorten it or homecloud:domain`]],
        ["MetalLB pool overlapping the DHCP pool", (c) => { c.metallbPool = "10.77.0.140-10.77.0.160"; c.ingressIp = "10.77.0.150"; },
            ["homecloud:metallbPool: 10.77.0.140-10.77.0.160 overlaps the DHCP pool 10.77.0.100-10.77.0.149; MetalLB and DHCP would hand out the same address"]],
        ["gateway inside the DHCP pool", (c) => { c.gatewayLanAddress = "10.77.0.100"; },
            ["homecloud:gatewayLanAddress: 10.77.0.100 is inside the DHCP pool 10.77.0.100-10.77.0.149; move the pool or the gateway"]],
        ["gateway inside the MetalLB pool", (c) => { c.gatewayLanAddress = "10.77.0.201"; },
            ["homecloud:gatewayLanAddress: 10.77.0.201 is inside the MetalLB pool 10.77.0.200-10.77.0.220; move the pool or the gateway"]],
        ["gateway outside the LAN", (c) => { c.gatewayLanAddress = "10.77.1.1"; },
            ["homecloud:gatewayLanAddress: 10.77.1.1 is not a host address of the LAN 10.77.0.0/24; use one inside it, e.g. its first address"]],
        ["gateway on the network address", (c) => { c.gatewayLanAddress = "10.77.0.0"; },
            ["homecloud:gatewayLanAddress: 10.77.0.0 is the network address of 10.77.0.0/24; use a host address, e.g. its first one"]],
        ["gateway outside the LAN", (c) => { c.gatewayLanAddress = "10.78.0.1"; },
            ["homecloud:gatewayLanAddress: 10.78.0.1 is not a host address of the LAN 10.77.0.0/24; use one inside it, e.g. its first address"]],
        ["ingress outside the MetalLB pool", (c) => { c.ingressIp = "10.77.0.199"; },
            ["homecloud:ingressIp: 10.77.0.199 is outside the MetalLB pool 10.77.0.200-10.77.0.220; pick an address from the pool"]],
        ["VIP inside the LAN", (c) => { c.vip = "10.77.0.10"; },
            ["homecloud:vip: 10.77.0.10 is outside the home network 192.168.77.0/24; pick a free address of the WAN side",
                "homecloud:vip: 10.77.0.10 is inside the LAN 10.77.0.0/24; the VIP lives on the WAN side"]],
        ["VIP outside the home network", (c) => { c.vip = "192.168.78.10"; },
            ["homecloud:vip: 192.168.78.10 is outside the home network 192.168.77.0/24; pick a free address of the WAN side"]],
        ["WAN overlapping the LAN", (c) => { c.wanCidr = "10.77.0.0/16"; c.vip = "10.77.5.5"; },
            ["homecloud:wanCidr: 10.77.0.0/16 overlaps the LAN 10.77.0.0/24; the cluster LAN must be a separate network"]],
        ["port zero", (c) => { c.httpPort = 0; },
            ["homecloud:httpPort: 0 is not a TCP port; use a whole number from 1 to 65535"]],
        ["port too large", (c) => { c.httpsPort = 70000; },
            ["homecloud:httpsPort: 70000 is not a TCP port; use a whole number from 1 to 65535"]],
        ["port not a number", (c) => { c.sshPort = "ssh"; },
            ["homecloud:sshPort: \"ssh\" is not a TCP port; use a whole number from 1 to 65535"]],
        ["two forwards on one port", (c) => { c.httpsPort = 80; },
            ["homecloud:httpsPort: 80 is already used by httpPort; each forwarded port must differ"]],
        ["empty server list", (c) => { c.nodes = []; },
            ["homecloud:nodes: is empty; list at least one node with role server"]],
        ["only agents", (c) => { c.nodes.forEach((n: any) => { n.role = "agent"; }); },
            ["homecloud:nodes: has no node with role server; K3s needs at least one server"]],
        ["unknown role", (c) => { c.nodes[2].role = "master"; },
            ["homecloud:nodes[2].role: \"master\" must be \"server\" or \"agent\""]],
        ["nodes not a list", (c) => { c.nodes = "node1"; },
            ["homecloud:nodes: must be a list of { name, mac, ip, role }"]],
        ["missing required key", (c) => { delete c.lanCidr; },
            ["homecloud:lanCidr: is required"]],
        ["same interface for LAN and WAN", (c) => { c.wanInterface = "lan0"; },
            ["homecloud:wanInterface: \"lan0\" is also lanInterface; the gateway needs two different interfaces"]],
        ["bad interface name", (c) => { c.lanInterface = "eth0; reboot"; },
            ["homecloud:lanInterface: \"eth0; reboot\" is not an interface name; use the name `ip link` shows on the gateway, e.g. eth0"]],
        ["bad forwarder", (c) => { c.dnsForwarders = ["192.0.2.53", "dns.example"]; },
            ["homecloud:dnsForwarders[1]: \"dns.example\" is not an IPv4 address; write four decimal numbers 0-255, e.g. 10.0.0.1"]],
        ["lease time out of range", (c) => { c.leaseSeconds = 10; },
            ["homecloud:leaseSeconds: 10 is out of range; use whole seconds from 60 to 604800"]],
        ["unpinned K3s version", (c) => { c.k3sVersion = "latest"; },
            ["homecloud:k3sVersion: \"latest\" is not a K3s release; pin one such as v1.36.4+k3s1"]],
        ["unknown install method", (c) => { c.k3sInstall = "curl"; },
            ["homecloud:k3sInstall: \"curl\" must be \"script\" or \"airgap\""]],
        ["unknown API health check", (c) => { c.apiHealthCheck = "http"; },
            ["homecloud:apiHealthCheck: \"http\" must be \"https\" (TLS and /readyz) or \"tcp\" (connect only)"]],
        ["health checks too frequent, never taking a server out, fractional rise", (c) => {
            c.healthCheckIntervalMs = 50; c.healthCheckFall = 0; c.healthCheckRise = 1.5;
        }, [
            "homecloud:healthCheckIntervalMs: 50 is out of range; use a whole number of milliseconds from 200 to 60000",
            "homecloud:healthCheckFall: 0 is out of range; use a whole number of checks from 1 to 10",
            "homecloud:healthCheckRise: 1.5 is out of range; use a whole number of checks from 1 to 10",
        ]],
        ["DDNS suffix outside the domain", (c) => { c.ddnsSuffix = "example.net"; },
            ["homecloud:ddnsSuffix: \"example.net\" is outside homecloud:domain lab.home.arpa; BIND here serves only that zone: use a name under it, e.g. dhcp.lab.home.arpa (the default, when empty)"]],
        ["API port on the SSH port", (c) => { c.apiPort = 22; },
            ["homecloud:apiPort: 22 is also homecloud:sshPort; the gateway's sshd listens on it on every address, so HAProxy could not bind it on the VIP: pick another port"]],
        ["HTTP and HTTPS ports on a moved SSH port", (c) => { c.sshPort = 8443; c.httpsPort = 8443; c.httpPort = 8443; },
            [
                "homecloud:httpPort: 8443 is also homecloud:sshPort; the gateway's sshd listens on it on every address, so HAProxy could not bind it on the VIP: pick another port",
                "homecloud:httpsPort: 8443 is already used by httpPort; each forwarded port must differ",
            ]],
        ["air-gap directory climbing out with ..", (c) => { c.k3sAirgapDir = "/opt/k3s/../../etc"; },
            ["homecloud:k3sAirgapDir: \"/opt/k3s/../../etc\" contains \"..\"; give the directory's own absolute path, e.g. /opt/k3s-airgap"]],
        ["relative air-gap directory", (c) => { c.k3sAirgapDir = "opt/k3s"; },
            ["homecloud:k3sAirgapDir: \"opt/k3s\" is not an absolute path; e.g. /opt/k3s-airgap"]],
        ["DNS TTL too short", (c) => { c.dnsTtlSeconds = 5; },
            ["homecloud:dnsTtlSeconds: 5 is out of range; use whole seconds from 30 to 86400"]],
        ["DDNS switch not a boolean", (c) => { c.ddnsEnabled = "yes"; },
            ["homecloud:ddnsEnabled: \"yes\" must be true or false"]],
        ["unknown kubeconfig server", (c) => { c.kubeconfigServer = "api.home.arpa"; },
            ["homecloud:kubeconfigServer: \"api.home.arpa\" must be \"vip\" (https://<vip>:<apiPort>, needs no DNS) " +
                "or \"name\" (https://<apiName>.<domain>:<apiPort>, needs a resolver that answers for the domain)"]],
        ["renewal window out of range", (c) => { c.kubeconfigRenewDays = 120; },
            ["homecloud:kubeconfigRenewDays: 120 is out of range; use whole days from 1 to 90 (the admin certificate lasts a year)"]],
        ["renewal window not whole days", (c) => { c.kubeconfigRenewDays = "30d"; },
            ["homecloud:kubeconfigRenewDays: \"30d\" is out of range; use whole days from 1 to 90 (the admin certificate lasts a year)"]],
        ["shell-unsafe user name", (c) => { c.sshUser = "pi;id"; },
            ["homecloud:sshUser: \"pi;id\" is not a valid user name; use a lower-case Unix login such as pi"]],
        ["API named like the gateway", (c) => { c.apiName = "gw"; },
            ["homecloud:apiName: \"gw\" is also gatewayHostname; the API name points at the VIP, so pick another one"]],
        ["host named like the API", (c) => { c.reservations[0].name = "api"; },
            ["homecloud:reservations[0].name: \"api\" is the API name (homecloud:apiName); pick another host name"]],
    ];

    for (const [what, change, expected] of cases) {
        it(`rejects ${what}`, () => {
            assert.deepStrictEqual(problems(changed(change)), expected);
        });
    }

    it("checks the wildcard's whole name too", () => {
        const domain = ["a".repeat(63), "b".repeat(63), "c".repeat(63), "d".repeat(55), "arpa"].join(".");
        assert.strictEqual(domain.length, 252);
        assert.deepStrictEqual(problems(changed((c) => { c.domain = domain; })).filter((p) => p.startsWith("homecloud:domain")),
            [`homecloud:domain: makes the DNS name *.${"a".repeat(18)}… 254 characters long; a name has at most 253: shorten it or homecloud:domain`]);
    });

    it(`covers at least 25 distinct bad-config cases (has ${cases.length})`, () => {
        assert.ok(cases.length >= 25);
    });

    it("puts pool clients under dhcp.<domain> by default, and warns when the domain itself is chosen", () => {
        assert.deepStrictEqual(parseAddressPlan(base()).plan.ddns, { suffix: "dhcp.lab.home.arpa" });
        const raw = base();
        raw.ddnsSuffix = "lab.home.arpa";
        const { plan, warnings } = parseAddressPlan(raw);
        assert.deepStrictEqual(plan.ddns, { suffix: "lab.home.arpa" });
        assert.deepStrictEqual(warnings, [
            "homecloud:ddnsSuffix: \"lab.home.arpa\" puts pool clients' names beside your apps: a DHCP client calling itself grafana " +
            "takes grafana.lab.home.arpa, which the *.lab.home.arpa wildcard gave the ingress; only names the program knows " +
            "(hosts, apiName, certificates) stay out of reach. Leave ddnsSuffix empty for dhcp.lab.home.arpa",
        ]);
        assert.deepStrictEqual(parseAddressPlan({ ...base(), ddnsSuffix: "lab.home.arpa", ddnsEnabled: false }).warnings, [], "no warning with DDNS off");
        assert.deepStrictEqual(parseAddressPlan({ ...base(), ddnsSuffix: "pool.lab.home.arpa" }).plan.ddns, { suffix: "pool.lab.home.arpa" });
    });

    it("warns on a .local domain and suggests home.arpa", () => {
        const raw = base();
        raw.domain = "cluster.local";
        assert.deepStrictEqual(parseAddressPlan(raw).warnings, [
            "homecloud:domain: \"cluster.local\" ends in .local, which collides with mDNS (Avahi/Bonjour); prefer home.arpa (RFC 8375)",
        ]);
    });

    it("warns that a LAN smaller than a /24 gives PTR names to named hosts only", () => {
        const raw = base();
        Object.assign(raw, { lanCidr: "10.77.0.0/25", dhcpPool: "10.77.0.100-10.77.0.109", metallbPool: "10.77.0.110-10.77.0.120", ingressIp: "10.77.0.110" });
        assert.deepStrictEqual(parseAddressPlan(raw).warnings, [
            "homecloud:lanCidr: a /25 LAN does not fill a /24, so its reverse DNS is one zone per named host " +
            "(the gateway, nodes, reservations); addresses from the DHCP pool get no PTR name",
        ]);
    });

    it("warns on an even number of servers (etcd quorum)", () => {
        const raw = base();
        (raw.nodes as any[]).pop();
        assert.deepStrictEqual(parseAddressPlan(raw).warnings, [
            "homecloud:nodes: 2 servers give etcd no better fault tolerance than 1; use an odd number of servers",
        ]);
    });
});
