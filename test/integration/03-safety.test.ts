// Phase 6: a configuration the daemon's checker rejects never replaces the working one.
import * as assert from "assert";
import { fileCommand } from "../../host/hostFile";
import { keaConfigFile } from "../../network/dhcpServer";
import { checkDhcp, checkDns } from "./gateway-checks";
import { bash, execOk, GW_LAN, KEY, labPhase, run } from "./lab-helpers";

labPhase("6: safety", () => {
    it("a broken Kea config is rejected by the checker and changes nothing", () => {
        const before = execOk("gw", "sha256sum", "/etc/kea/kea-dhcp4.conf");
        const script = fileCommand("install", keaConfigFile());
        const r = run("ssh", ["-F", "/dev/null", "-i", KEY, "-o", "IdentitiesOnly=yes", "-o", "StrictHostKeyChecking=no",
            "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR", "-o", "BatchMode=yes",
            `pi@${GW_LAN}`, script], { input: '{ "Dhcp4": { "subnet4": [ broken' });
        assert.strictEqual(r.code, 1, `expected exit 1, got ${r.code}: ${r.stderr}`);
        assert.match(r.stderr, /\/etc\/kea\/kea-dhcp4\.conf rejected by its checker; the running configuration is untouched/);
        assert.strictEqual(execOk("gw", "sha256sum", "/etc/kea/kea-dhcp4.conf"), before);
        assert.strictEqual(bash("gw", "ls /etc/kea/kea-dhcp4.conf.homecloud.* 2>/dev/null").stdout, "", "candidate left behind");
        execOk("gw", "systemctl", "is-active", "kea-dhcp4-server");
        checkDhcp();
        checkDns();
    });
});
