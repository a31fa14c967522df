// The network picture drawn by Graphviz (Debian's `dot`): for the lab stack (the committed
// Pulumi.lab.svg must be what `make diagram STACK=lab` draws today), the large fixture plan,
// a /16 with 45 nodes, and generated plans — each SVG names every host, address and range.
import * as assert from "assert";
import * as fc from "fast-check";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { AddressPlan } from "../../config/plan";
import { RawConfig } from "../../config/schema";
import { parseAddressPlan } from "../../config/validate";
import { diagramOfPlan, stackFileConfig, writeStackDiagram } from "../../scripts/network-diagram";
import { loadPlan } from "../fixtures/network/plans";
import { validPlan } from "../fixtures/network/generated";

const REPO = path.resolve(__dirname, "..", "..");

/** Every `<text>` element's content, entities decoded (dot writes `-` as `&#45;`). */
function svgTexts(svg: string): Set<string> {
    return new Set([...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]
        .replace(/&#(\d+);/g, (_, n) => String.fromCharCode(Number(n)))
        .replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, "\"").replace(/&amp;/g, "&")));
}

/** The exact text pieces a reader needs to find in the picture of this plan. */
function expectedTexts(plan: AddressPlan): string[] {
    const range = (r: { start: string; end: string }) => `${r.start} – ${r.end}`;
    return [
        plan.gateway.hostname, plan.gateway.lanInterface, plan.gateway.wanInterface,
        `${plan.gateway.lanAddress}/${plan.lan.prefixLength}`, plan.gateway.lanAddress,
        plan.wan.cidr, plan.wan.vip, `${plan.apiName}.${plan.domain}`,
        `:${plan.ports.api}`, `:${plan.ports.http}`, `:${plan.ports.https}`,
        plan.lan.cidr, range(plan.lan.dhcpPool), range(plan.metallbPool), plan.ingressIp,
        "DHCP pool", "MetalLB pool", "ingress IP",
        ...plan.nodes.flatMap((n) => [n.name, n.ip]),
        ...plan.nodes.map((n) => n.role === "server" ? "K3s server" : "K3s agent"),
        ...plan.reservations.flatMap((r) => [r.name, r.ip]),
        ...plan.dnsForwarders,
    ];
}

function assertNamesEverything(svg: string, plan: AddressPlan, what: string): void {
    assert.match(svg, /^<\?xml version="1\.0" encoding="UTF-8" standalone="no"\?>\n/, `${what}: an SVG document`);
    assert.match(svg, /<\/svg>\n$/, `${what}: a complete SVG document`);
    const texts = svgTexts(svg);
    const missing = expectedTexts(plan).filter((t) => !texts.has(t));
    assert.deepStrictEqual(missing, [], `${what}: the picture lacks these texts`);
}

/** A /16 with 5 servers, 40 agents spread over four /24s and 8 reservations. */
function sixteenRaw(): RawConfig {
    const hex = (i: number) => i.toString(16).padStart(2, "0");
    return {
        domain: "big.home.arpa", gatewayLanAddress: "10.20.0.1", lanInterface: "eth0", wanInterface: "eth1",
        lanCidr: "10.20.0.0/16", dhcpPool: "10.20.100.0-10.20.199.255", wanCidr: "192.168.1.0/24", vip: "192.168.1.240",
        dnsForwarders: ["192.168.1.1", "192.0.2.53"], metallbPool: "10.20.200.0-10.20.200.255", ingressIp: "10.20.200.10",
        nodes: [
            ...Array.from({ length: 5 }, (_, i) => ({ name: `server-${i + 1}`, mac: `02:00:00:00:01:${hex(i + 1)}`, ip: `10.20.0.${11 + i}`, role: "server" })),
            ...Array.from({ length: 40 }, (_, i) => ({ name: `agent-${i + 1}`, mac: `02:00:00:00:02:${hex(i + 1)}`, ip: `10.20.${1 + (i % 4)}.${i + 1}`, role: "agent" })),
        ],
        reservations: Array.from({ length: 8 }, (_, i) => ({ name: `nas-${i + 1}`, mac: `02:00:00:00:03:${hex(i + 1)}`, ip: `10.20.9.${i + 1}` })),
    };
}

describe("network diagram drawn by Graphviz (dot -Tsvg)", () => {
    let dir: string;
    before(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), "hc-diagram-")); });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("draws the lab stack's plan next to its stack file, naming every host and range", () => {
        fs.copyFileSync(path.join(REPO, "Pulumi.lab.yaml"), path.join(dir, "Pulumi.lab.yaml"));
        assert.deepStrictEqual(writeStackDiagram(dir, "lab", ["svg", "png"]), [path.join(dir, "Pulumi.lab.svg"), path.join(dir, "Pulumi.lab.png")]);
        const svg = fs.readFileSync(path.join(dir, "Pulumi.lab.svg"), "utf8");
        const plan = parseAddressPlan(stackFileConfig(path.join(dir, "Pulumi.lab.yaml"))).plan;
        assertNamesEverything(svg, plan, "lab");
        for (const t of ["gw", "node1", "node2", "node3", "client", "10.77.0.100 – 10.77.0.149", "10.77.0.200 – 10.77.0.220", "192.168.77.10"]) {
            assert.ok(svgTexts(svg).has(t), `lab: ${t}`);
        }
        assert.deepStrictEqual([...fs.readFileSync(path.join(dir, "Pulumi.lab.png")).subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    });

    it("the committed Pulumi.lab.svg is what `make diagram STACK=lab` draws (rerun it after changing the lab plan or the renderer)", () => {
        const plan = parseAddressPlan(stackFileConfig(path.join(REPO, "Pulumi.lab.yaml"))).plan;
        const fresh = diagramOfPlan(plan, "stack lab").toString("utf8");
        assert.strictEqual(fs.readFileSync(path.join(REPO, "Pulumi.lab.svg"), "utf8"), fresh);
    });

    it("names every host and range of the large fixture plan (/22, WAN-side SSH, other ports)", () => {
        const plan = loadPlan("large");
        assertNamesEverything(diagramOfPlan(plan, "large").toString("utf8"), plan, "large");
    });

    it("names every host and range of a /16 with 45 nodes and 8 reservations", () => {
        const { plan, warnings } = parseAddressPlan(sixteenRaw());
        assert.deepStrictEqual(warnings, []);
        assert.strictEqual(plan.nodes.length + plan.reservations.length, 53);
        assertNamesEverything(diagramOfPlan(plan, "sixteen").toString("utf8"), plan, "/16");
    });

    it("names every host and range of generated plans over /16 to /29", () => {
        for (const [i, raw] of fc.sample(validPlan, { seed: 20261124, numRuns: 6 }).entries()) {
            const plan = parseAddressPlan(raw).plan;
            assertNamesEverything(diagramOfPlan(plan, `generated ${i}`).toString("utf8"), plan, `generated ${i} (${plan.lan.cidr})`);
        }
    });

    it("refuses an invalid plan with the config check's error, and a missing stack file by name", () => {
        fs.writeFileSync(path.join(dir, "Pulumi.bad.yaml"), "config:\n  homecloud:lanCidr: 10.0.0.0/33\n");
        assert.throws(() => writeStackDiagram(dir, "bad"), /homecloud:lanCidr/);
        assert.ok(!fs.existsSync(path.join(dir, "Pulumi.bad.svg")));
        assert.throws(() => writeStackDiagram(dir, "nope"), { message: "Pulumi.nope.yaml not found: STACK names a stack file of this directory, e.g. STACK=lab" });
        assert.throws(() => writeStackDiagram(dir, "../lab"), { message: "\"../lab\" is not a stack name: STACK names a stack file of this directory, e.g. STACK=lab" });
    });
});
