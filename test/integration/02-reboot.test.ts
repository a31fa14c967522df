// Phase 5: the gateway reboots, and everything it served comes back by itself.
import * as assert from "assert";
import { spawnSync } from "child_process";
import { checkBalancer, checkDhcp, checkDns, checkNat, checkReloadKeepsConnections, checkVip } from "./gateway-checks";
import { bash, labPhase, run } from "./lab-helpers";

labPhase("5: after a gateway reboot", () => {
    before(function () {
        this.timeout(180_000);
        const r = run("bash", ["lab/reboot.sh", "gw"], { timeout: 180_000 });
        assert.strictEqual(r.code, 0, `reboot failed: ${r.stderr}`);
        // Services come up after sshd; give Kea and named a moment to bind.
        for (let i = 0; i < 60; i++) {
            const s = bash("gw", "systemctl is-active kea-dhcp4-server kea-dhcp-ddns-server named homecloud-nat haproxy");
            if (s.code === 0) {
                break;
            }
            spawnSync("sleep", ["0.5"]);
        }
    });
    it("1 DHCP again", checkDhcp);
    it("2 DNS again", checkDns);
    it("3 NAT again", checkNat);
    it("4 VIP again", checkVip);
    it("4b VIP health checks again", () => checkBalancer("after reboot"));
    it("4c reload without dropping a connection again", () => checkReloadKeepsConnections("after reboot"));
});
