// A gateway pair's files, exact text for each gateway (approved fixtures), and what must
// hold between the two: the same VIP, floating address and HAProxy, mirrored peers, one
// primary. One-gateway plans render exactly as before (render-network.test.ts).
import * as assert from "assert";
import { renderKeaConfig } from "../../network/kea";
import { KEA_API_PASSWORD_PATH, renderKeaApiPassword, renderKeaCtrlAgentConfig, renderKeaHaConfig } from "../../network/pair/keaHa";
import { renderKeepalivedConfig } from "../../network/pair/keepalived";
import { renderXferKey } from "../../network/pair/bindPair";
import { assertFixture, assertNoOrphans } from "../approval";
import { renderNetworkDot } from "../../network/diagram";
import { PAIR_FIXTURES, pairPlan, renderPair, TEST_VRRP_PASS } from "../fixtures/pair/pair";
import * as path from "path";

describe("gateway pair renderers", () => {
    const plan = pairPlan();
    const rendered = renderPair(plan);

    for (const [file, text] of Object.entries(rendered)) {
        it(`${file}: exact text`, () => {
            assertFixture(path.join(PAIR_FIXTURES, file), text);
        });
    }

    it("the fixture directories hold only these files", () => {
        for (const role of ["first", "second"]) {
            assertNoOrphans(path.join(PAIR_FIXTURES, role), Object.keys(rendered).filter((f) => f.startsWith(`${role}/`)).map((f) => f.slice(role.length + 1)));
        }
        assertNoOrphans(PAIR_FIXTURES, ["first", "second", "pair.plan.json", "pair.ts", "diagram.dot"]);
    });

    it("diagram.dot: the picture shows both gateways, the floating address and the link between them (exact text)", () => {
        const dot = renderNetworkDot(plan, { title: "pair" });
        assertFixture(path.join(PAIR_FIXTURES, "diagram.dot"), dot);
        assert.match(dot, /gateway -> gateway2 \[.*label="VRRP, Kea HA, zone transfers"\]/);
        assert.match(dot, /home:e -> gateway2:wan:w/);
        assert.match(dot, /10\.20\.0\.3<\/FONT><\/TD><TD ALIGN="LEFT" BGCOLOR="#fff4cc"><I>floating<\/I>/);
    });

    it("the two gateways mirror each other: one primary, peers crossed, same addresses and balancer", () => {
        const ha = (role: "first" | "second") => JSON.parse(rendered[`${role}/kea-dhcp4.conf`]).Dhcp4["hooks-libraries"][1].parameters["high-availability"][0];
        assert.strictEqual(ha("first")["this-server-name"], "gw1");
        assert.strictEqual(ha("second")["this-server-name"], "gw2");
        assert.deepStrictEqual(ha("first").peers, ha("second").peers);
        assert.deepStrictEqual(ha("first").peers.map((p: { role: string; url: string }) => [p.role, p.url]),
            [["primary", "http://10.20.0.1:8000/"], ["standby", "http://10.20.0.2:8000/"]]);
        assert.strictEqual(rendered["first/haproxy.cfg"], rendered["second/haproxy.cfg"]);
        assert.match(rendered["first/keepalived.conf"], /unicast_src_ip 10\.20\.0\.1\n    unicast_peer \{\n        10\.20\.0\.2\n/);
        assert.match(rendered["second/keepalived.conf"], /unicast_src_ip 10\.20\.0\.2\n    unicast_peer \{\n        10\.20\.0\.1\n/);
        for (const role of ["first", "second"]) {
            assert.match(rendered[`${role}/keepalived.conf`], /    state BACKUP\n    nopreempt\n/);
            assert.match(rendered[`${role}/keepalived.conf`], /        10\.20\.0\.3\/24 dev p[l2]-lan\n        192\.168\.20\.240\/32 dev p[l2]-wan\n/);
            const options = JSON.parse(rendered[`${role}/kea-dhcp4.conf`]).Dhcp4.subnet4[0]["option-data"];
            assert.deepStrictEqual(options.slice(0, 2), [{ name: "routers", data: "10.20.0.3" }, { name: "domain-name-servers", data: "10.20.0.3" }]);
        }
        assert.ok("dhcp-ddns" in JSON.parse(rendered["first/kea-dhcp4.conf"]).Dhcp4, "names from the first gateway");
        assert.ok(!("dhcp-ddns" in JSON.parse(rendered["second/kea-dhcp4.conf"]).Dhcp4), "none from the second, whose BIND is a secondary");
    });

    it("the HA partners authenticate at each other's Control Agent with a password from a file that neither configuration holds", () => {
        for (const role of ["first", "second"] as const) {
            const peers = JSON.parse(rendered[`${role}/kea-dhcp4.conf`]).Dhcp4["hooks-libraries"][1].parameters["high-availability"][0].peers;
            for (const p of peers) {
                assert.strictEqual(p["basic-auth-user"], "homecloud-ha");
                assert.strictEqual(p["basic-auth-password-file"], "/etc/kea/homecloud-ha-password");
                assert.ok(!("basic-auth-password" in p), "no password in the configuration");
            }
            assert.deepStrictEqual(JSON.parse(rendered[`${role}/kea-ctrl-agent.conf`])["Control-agent"].authentication, {
                type: "basic", realm: "homecloud", clients: [{ user: "homecloud-ha", "password-file": KEA_API_PASSWORD_PATH }],
            });
        }
        assert.match(renderKeaCtrlAgentConfig(plan, "first", "/tmp/x/pw"), /"password-file": "\/tmp\/x\/pw"/);
        assert.match(renderKeaHaConfig(plan, "second", "/tmp/x/pw"), /"basic-auth-password-file": "\/tmp\/x\/pw"/);
    });

    it("the Control Agent's password file holds the password alone, no newline; anything but 16-128 letters or digits is refused", () => {
        const pw = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        assert.strictEqual(renderKeaApiPassword(pw), pw);
        for (const bad of ["0123456789abcde", `${pw}\n`, "0123456789abcdef:x", "a".repeat(129)]) {
            assert.throws(() => renderKeaApiPassword(bad), { name: "RangeError", message: "the Control Agent's password must be 16 to 128 letters or digits" });
        }
    });

    it("Kea's pair configuration is the one-gateway one plus the HA hook and the command socket", () => {
        const single = JSON.parse(renderKeaConfig(plan)).Dhcp4;
        const pair = JSON.parse(renderKeaHaConfig(plan, "first")).Dhcp4;
        assert.deepStrictEqual(Object.keys(pair).filter((k) => !(k in single)), ["control-socket", "hooks-libraries"]);
        for (const k of Object.keys(single)) {
            assert.deepStrictEqual(pair[k], single[k], k);
        }
    });

    it("refuses a VRRP password keepalived would truncate or misparse, and a key that is not 32 bytes", () => {
        assert.throws(() => renderKeepalivedConfig(plan, "first", "123456789"), { name: "RangeError", message: "the VRRP password must be 1 to 8 letters or digits" });
        assert.throws(() => renderKeepalivedConfig(plan, "first", "ab cd"), { name: "RangeError" });
        assert.ok(renderKeepalivedConfig(plan, "first", TEST_VRRP_PASS).includes(`auth_pass ${TEST_VRRP_PASS}\n`));
        assert.throws(() => renderXferKey("c2hvcnQ="), { name: "RangeError", message: "the transfer key's secret must be base64 of 32 bytes" });
    });

    it("a one-gateway plan has no pair files to render", () => {
        const { gateway2: _, ...single } = plan;
        assert.throws(() => renderKeepalivedConfig(single, "first", TEST_VRRP_PASS),
            { message: "this plan has one gateway (homecloud:gateway2Hostname is empty)" });
    });
});
