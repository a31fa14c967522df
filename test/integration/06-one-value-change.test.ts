// Phase 7c: one changed value touches only what names it; no secret in the engine's state.
import * as assert from "assert";
import * as fs from "fs";
import { checkDhcp, clientBack, digShort, figure, poolLease, waitName } from "./gateway-checks";
import { changes, CLIENT_LINE, CLIENT_MAC, DDNS, DOMAIN, engine, execOk, GW_LAN, KEY, labPhase, PLAN, stackReplacing, STATE_FILE } from "./lab-helpers";

labPhase("7c: one-value change and secrets in the engine's state", () => {
    /** One more reservation. */
    const PRINTER = { name: "printer", mac: CLIENT_MAC.replace(/..$/, "60"), ip: PLAN.client.ip.replace(/\d+$/, "60") };

    it("adding a DHCP reservation touches only the Kea config and the zones that name it", () => {
        const f = stackReplacing("extra-reservation",
            [CLIENT_LINE, `${CLIENT_LINE}\n    - { name: ${PRINTER.name}, mac: "${PRINTER.mac}", ip: ${PRINTER.ip} }`]);
        const fourUpdates = [
            "updated gateway-dhcp-config [diff: ~stdin]",
            "updated gateway-dns-dynamic-forward-zone [diff: ~stdin]",
            "updated gateway-dns-dynamic-reverse-zone [diff: ~stdin]",
            "updated gateway-dns-local [diff: ~stdin]",
        ];
        // A pool client's name is in the zone before the change; it must still be after.
        const laptop = poolLease("laptop");
        waitName(`laptop.${DDNS}`, laptop, 5_000);
        engine("up", "reservation-up", { SSH_ENGINE_STACK_FILE: f });
        assert.deepStrictEqual(changes("reservation-up"), fourUpdates, "4 updates, no replacement, no delete");
        assert.ok(execOk("gw", "cat", "/etc/kea/kea-dhcp4.conf").includes(`"hw-address": "${PRINTER.mac}"`));
        // What the replacement broke with the real engine: Kea stopped on Debian's stock
        // file, the zone directory deleted (named answered from memory until a restart).
        execOk("gw", "systemctl", "is-active", "kea-dhcp4-server");
        execOk("gw", "systemctl", "restart", "named");
        execOk("gw", "rndc", "status");
        assert.strictEqual(digShort("client", `@${GW_LAN}`, `${PRINTER.name}.${DOMAIN}`, "A"), PRINTER.ip);
        assert.strictEqual(digShort("client", `@${GW_LAN}`, "-x", PRINTER.ip), `${PRINTER.name}.${DOMAIN}.`);
        // The pool client's records went through the `up` and the restart (named's journal).
        assert.strictEqual(digShort("client", `@${GW_LAN}`, `laptop.${DDNS}`, "A"), laptop);
        assert.strictEqual(digShort("client", `@${GW_LAN}`, "-x", laptop), `laptop.${DDNS}.`);
        figure(`DDNS: a dynamic record present through an \`up\` adding a reservation and a named restart: laptop.${DDNS} → ${laptop} kept`);
        clientBack();
        checkDhcp();
        engine("up", "reservation-back");
        assert.deepStrictEqual(changes("reservation-back"), fourUpdates);
    });

    it("keeps no SSH key in its state file", () => {
        const keyBody = fs.readFileSync(KEY, "utf8").split("\n").filter((l) => l && !l.startsWith("-----"));
        const state = fs.readFileSync(STATE_FILE, "utf8");
        assert.ok(keyBody.length > 0);
        for (const line of keyBody) {
            assert.ok(!state.includes(line), "a line of the private key is in the engine's state");
        }
    });
});
