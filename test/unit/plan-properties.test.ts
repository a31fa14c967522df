// Property-based: generated valid plans (every LAN size from /16 to /29, 1-7 servers,
// agents, reservations, pools, forwarders) always validate; each kind of breakage applied
// to one of them is always rejected, by an error naming the key. Bounded and repeatable
// (fixed seed; HOMECLOUD_PROPERTY_RUNS and HOMECLOUD_PROPERTY_SEED to explore).
import * as assert from "assert";
import * as fc from "fast-check";
import { ConfigError } from "../../config/plan";
import { parseAddressPlan } from "../../config/validate";
import { breakages, propertyParams, validPlan } from "../fixtures/network/generated";

describe("address plan properties", () => {
    it("every generated valid plan validates", () => {
        fc.assert(fc.property(validPlan, (raw) => {
            const { plan } = parseAddressPlan(raw);
            assert.strictEqual(plan.lan.cidr, raw.lanCidr);
        }), propertyParams(300));
    });

    it("the generated plans cover every LAN size from /16 to /29", () => {
        const sizes = new Set(fc.sample(validPlan, { numRuns: 400, seed: 1 }).map((r) => String(r.lanCidr).split("/")[1]));
        assert.deepStrictEqual([...sizes].map(Number).sort((a, b) => a - b), Array.from({ length: 14 }, (_, i) => 16 + i));
    });

    for (const b of breakages) {
        it(`${b.what} is always rejected, naming ${b.key}`, () => {
            fc.assert(fc.property(validPlan, (raw) => {
                const broken = JSON.parse(JSON.stringify(raw));
                b.apply(broken);
                let error: unknown;
                try {
                    parseAddressPlan(broken);
                } catch (e) {
                    error = e;
                }
                assert.ok(error instanceof ConfigError, `accepted: ${JSON.stringify(broken)}`);
                assert.ok(error.problems.some((p) => p.startsWith(`${b.key}: `)), error.problems.join("\n"));
            }), propertyParams(60));
        });
    }
});
