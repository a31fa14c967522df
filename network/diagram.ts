// The picture of the network, from the validated address plan alone: a Graphviz DOT graph
// (`dot -Tsvg` draws it; scripts/network-diagram.ts writes Pulumi.<stack>.svg). Pure.
//
// Three boxes, left to right: the home network, the gateway (its WAN interface with the VIP
// and the VIP's ports, its LAN interface, its services; a second gateway below it), and the cluster LAN as one table,
// every address and range in address order. Edges only where traffic is forwarded, so a
// LAN of a hundred hosts is a longer table, not a hairball.
import { AddressPlan, apiFqdn, ipToNumber, servers } from "../config/plan";
import { INGRESS_HTTP_PORT, INGRESS_HTTPS_PORT, K3S_SERVER_PORT } from "../config/ports";

export interface DiagramOptions {
    /** Shown in the title, e.g. the stack's name. */
    readonly title?: string;
}

// Colours: one per kind of traffic and of LAN entry, named for what they mark.
const COLOR = {
    wanHeader: "#dbe7f5",
    gatewayHeader: "#fbe3c8",
    lanHeader: "#dcefdc",
    vip: "#fff4cc",
    server: "#e6f0ff",
    agent: "#f2f2f2",
    range: "#fdf0e6",
    ingress: "#e9f7e9",
    apiEdge: "#1f5fbf",
    ingressEdge: "#2e8b3a",
    linkEdge: "#555555",
} as const;

/** HTML-label text: escaped, since every value here reaches the graph as markup. */
function esc(s: string | number): string {
    return String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

const mono = (s: string) => `<FONT FACE="Courier">${esc(s)}</FONT>`;

function cell(content: string, attrs: Record<string, string | number> = {}): string {
    const a = Object.entries(attrs).map(([k, v]) => ` ${k}="${esc(v)}"`).join("");
    return `<TD${a}>${content}</TD>`;
}

function table(rows: readonly string[], attrs = 'BORDER="1" CELLBORDER="1" CELLSPACING="0" CELLPADDING="5"'): string {
    return `<<TABLE ${attrs}>\n${rows.map((r) => `    ${r}`).join("\n")}\n  </TABLE>>`;
}

/** DOT port name of a LAN entry (node and reservation names are RFC 1123 labels). */
function portOf(name: string): string {
    return `h_${name.replace(/-/g, "_")}`;
}

/** Addresses in first-last, counted. */
function rangeSize(r: { start: string; end: string }): number {
    return ipToNumber(r.end) - ipToNumber(r.start) + 1;
}

interface LanRow {
    /** Sort key: the first address, then the order given here (a pool before what lies in it). */
    readonly at: number;
    readonly order: number;
    readonly html: string;
}

function lanRow(at: string, order: number, addr: string, name: string, what: string, bg: string, port?: string): LanRow {
    return {
        at: ipToNumber(at),
        order,
        html: `<TR>${cell(mono(addr), { ALIGN: "LEFT", BGCOLOR: bg, ...port ? { PORT: port } : {} })}` +
            `${cell(name, { ALIGN: "LEFT", BGCOLOR: bg })}${cell(what, { ALIGN: "LEFT", BGCOLOR: bg })}</TR>`,
    };
}

function lanTable(header: string, rows: LanRow[]): string {
    rows.sort((a, b) => a.at - b.at || a.order - b.order);
    return table([`<TR>${cell(header, { COLSPAN: 3, BGCOLOR: COLOR.lanHeader })}</TR>`, ...rows.map((r) => r.html)],
        'BORDER="1" CELLBORDER="1" CELLSPACING="0" CELLPADDING="4"');
}

/** The machines on the LAN, by address: the gateway, the nodes with their roles, the reservations. */
function hostsTable(plan: AddressPlan): string {
    const k3s = plan.k3s.enabled ? `K3s ${esc(plan.k3s.version)}` : "K3s off (k3sEnabled: false)";
    return lanTable(`<B>hosts</B> · ${k3s}`, [
        lanRow(plan.gateway.lanAddress, 0, plan.gateway.lanAddress, `<B>${esc(plan.gateway.hostname)}</B>`,
            `gateway (${esc(plan.gateway.lanInterface)}): router, DNS, DHCP`, COLOR.gatewayHeader, "gw"),
        ...plan.nodes.map((n) => lanRow(n.ip, 0, n.ip, `<B>${esc(n.name)}</B>`, n.role === "server" ? "K3s server" : "K3s agent",
            n.role === "server" ? COLOR.server : COLOR.agent, portOf(n.name))),
        ...plan.reservations.map((r) => lanRow(r.ip, 0, r.ip, esc(r.name), "DHCP reservation", "white", portOf(r.name))),
        ...plan.gateway2 ? [
            lanRow(plan.gateway2.lanAddress, 0, plan.gateway2.lanAddress, `<B>${esc(plan.gateway2.hostname)}</B>`,
                `second gateway (${esc(plan.gateway2.lanInterface)}): standby`, COLOR.gatewayHeader, "gw2"),
            lanRow(plan.gateway2.floatingLanAddress, 0, plan.gateway2.floatingLanAddress, "<I>floating</I>",
                "router and DNS handed out, on the gateway in charge", COLOR.vip),
        ] : [],
    ]);
}

/**
 * The LAN's ranges: the DHCP pool, MetalLB's pool and the ingress IP inside it. A table of
 * its own, below the hosts, so the VIP's HTTP(S) edges never run past a long host list.
 */
function rangesTable(plan: AddressPlan): string {
    const pool = plan.lan.dhcpPool;
    const lb = plan.metallbPool;
    return lanTable("<B>ranges</B>", [
        lanRow(pool.start, 0, `${pool.start} – ${pool.end}`, "<I>DHCP pool</I>",
            `${rangeSize(pool)} addresses, lease ${esc(plan.lan.leaseSeconds)} s`, COLOR.range),
        lanRow(lb.start, 0, `${lb.start} – ${lb.end}`, "<I>MetalLB pool</I>", `${rangeSize(lb)} LoadBalancer addresses`, COLOR.range),
        lanRow(plan.ingressIp, 1, plan.ingressIp, "<B>ingress IP</B>",
            `Traefik :${INGRESS_HTTP_PORT} :${INGRESS_HTTPS_PORT}, *.${esc(plan.domain)}`, COLOR.ingress, "ingress"),
    ]);
}

function gatewayTable(plan: AddressPlan): string {
    const gw = plan.gateway;
    const p = plan.ports;
    const wanAddress = gw.sshHost !== gw.lanAddress ? ` · ${mono(gw.sshHost)} (SSH)` : "";
    // The LAN interface first: its link runs to the gateway's own row at the top of the LAN
    // table, above the VIP's forwards, so no edge crosses another.
    return table([
        `<TR>${cell(`<B>${esc(gw.hostname)}</B> · gateway`, { COLSPAN: 3, BGCOLOR: COLOR.gatewayHeader })}</TR>`,
        `<TR>${cell(`<B>${esc(gw.lanInterface)}</B>`)}${cell(`LAN ${mono(`${gw.lanAddress}/${plan.lan.prefixLength}`)}`, { COLSPAN: 2, ALIGN: "LEFT", PORT: "lan" })}</TR>`,
        `<TR>${cell(`<B>${esc(gw.wanInterface)}</B>`, { PORT: "wan" })}${cell(`WAN ${mono(plan.wan.cidr)}${wanAddress}`, { COLSPAN: 2, ALIGN: "LEFT" })}</TR>`,
        `<TR>${cell(`<B>VIP</B> on ${esc(gw.wanInterface)}<BR/>${mono(plan.wan.vip)}<BR/>${esc(apiFqdn(plan))}<BR/>HAProxy, ${esc(plan.loadBalancer.apiCheck)} checks`, { ROWSPAN: 3, BGCOLOR: COLOR.vip })}` +
            `${cell(mono(`:${p.api}`), { BGCOLOR: COLOR.vip })}${cell(`API → servers :${K3S_SERVER_PORT}`, { ALIGN: "LEFT", PORT: "api", BGCOLOR: COLOR.vip })}</TR>`,
        `<TR>${cell(mono(`:${p.http}`), { BGCOLOR: COLOR.vip })}${cell(`HTTP → ingress :${INGRESS_HTTP_PORT}`, { ALIGN: "LEFT", PORT: "http", BGCOLOR: COLOR.vip })}</TR>`,
        `<TR>${cell(mono(`:${p.https}`), { BGCOLOR: COLOR.vip })}${cell(`HTTPS → ingress :${INGRESS_HTTPS_PORT}`, { ALIGN: "LEFT", PORT: "https", BGCOLOR: COLOR.vip })}</TR>`,
        `<TR>${cell(`NAT out ${esc(gw.wanInterface)} · Kea DHCP on ${esc(gw.lanInterface)}<BR/>BIND9 ${esc(plan.domain)} + reverse`, { COLSPAN: 3 })}</TR>`,
    ]);
}

/** The second gateway: its interfaces and what it keeps ready to take over. */
function gateway2Table(plan: AddressPlan): string {
    const g2 = plan.gateway2!;
    return table([
        `<TR>${cell(`<B>${esc(g2.hostname)}</B> · second gateway (standby)`, { COLSPAN: 2, BGCOLOR: COLOR.gatewayHeader })}</TR>`,
        `<TR>${cell(`<B>${esc(g2.lanInterface)}</B>`)}${cell(`LAN ${mono(`${g2.lanAddress}/${plan.lan.prefixLength}`)}`, { ALIGN: "LEFT", PORT: "lan" })}</TR>`,
        `<TR>${cell(`<B>${esc(g2.wanInterface)}</B>`, { PORT: "wan" })}${cell(`WAN ${mono(g2.wanAddress)}`, { ALIGN: "LEFT" })}</TR>`,
        `<TR>${cell(`keepalived: VIP ${mono(plan.wan.vip)} and ${mono(g2.floatingLanAddress)} move here<BR/>` +
            "Kea HA standby · BIND secondary · HAProxy · NAT", { COLSPAN: 2, BGCOLOR: COLOR.vip })}</TR>`,
    ]);
}

function homeTable(plan: AddressPlan): string {
    const forwarders = plan.dnsForwarders.length > 0
        ? plan.dnsForwarders.map((f) => mono(f)).join(" ")
        : "none (BIND resolves itself)";
    return table([
        `<TR>${cell("<B>home network</B> (WAN)", { BGCOLOR: COLOR.wanHeader })}</TR>`,
        `<TR>${cell(mono(plan.wan.cidr))}</TR>`,
        `<TR>${cell(`DNS forwarders:<BR/>${forwarders}`)}</TR>`,
    ]);
}

/** Continuation lines of a label two more spaces in, for a node inside the LAN's subgraph. */
const indent = (label: string) => label.replace(/\n/g, "\n  ");

/** The DOT source of the plan's picture. */
export function renderNetworkDot(plan: AddressPlan, opts: DiagramOptions = {}): string {
    const title = `homecloud${opts.title ? ` · ${esc(opts.title)}` : ""} · ${esc(plan.domain)}`;
    const edge = (from: string, to: string, attrs: string) => `  ${from} -> ${to} [${attrs}];`;
    const api = `color="${COLOR.apiEdge}", penwidth=1.4`;
    const ingress = `color="${COLOR.ingressEdge}", penwidth=1.4`;
    return [
        "digraph homecloud {",
        `  graph [rankdir=LR, fontname="Helvetica", fontsize=14, labelloc=t, label=<<B>${title}</B>>, nodesep=0.4, ranksep=1.1, bgcolor="white"];`,
        '  node [shape=plaintext, fontname="Helvetica", fontsize=11];',
        '  edge [fontname="Helvetica", fontsize=10, arrowsize=0.7];',
        `  home [label=${homeTable(plan)}];`,
        `  gateway [label=${gatewayTable(plan)}];`,
        ...plan.gateway2 ? [`  gateway2 [label=${gateway2Table(plan)}];`, "  { rank=same; gateway; gateway2; }"] : [],
        "  subgraph cluster_lan {",
        `    label=<<B>cluster LAN</B> ${mono(plan.lan.cidr)} · domain ${esc(plan.domain)}>; labeljust=l; style="rounded"; color="#7a9a7a"; margin=12;`,
        `    hosts [label=${indent(hostsTable(plan))}];`,
        `    ranges [label=${indent(rangesTable(plan))}];`,
        "    { rank=same; hosts; ranges; }",
        "  }",
        edge("home:e", "gateway:wan:w", `color="${COLOR.linkEdge}", dir=none, penwidth=1.4`),
        edge("gateway:lan:e", "hosts:gw:w", `color="${COLOR.linkEdge}", dir=none, penwidth=1.4`),
        ...servers(plan).map((s) => edge("gateway:api:e", `hosts:${portOf(s.name)}:w`, api)),
        edge("gateway:http:e", "ranges:ingress:w", ingress),
        edge("gateway:https:e", "ranges:ingress:w", ingress),
        ...plan.gateway2 ? [
            edge("home:e", "gateway2:wan:w", `color="${COLOR.linkEdge}", dir=none, penwidth=1.4`),
            edge("gateway2:lan:e", "hosts:gw2:w", `color="${COLOR.linkEdge}", dir=none, penwidth=1.4`),
            edge("gateway", "gateway2", `color="${COLOR.linkEdge}", dir=both, style=dashed, label="VRRP, Kea HA, zone transfers"`),
        ] : [],
        "}",
        "",
    ].join("\n");
}
