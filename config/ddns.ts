// Dynamic DNS for pool clients: on or off, and the name space their names go in.
// Pure: no Pulumi import.
import { Checker } from "./checker";
import { checkDomain } from "./names";
import { RawConfig } from "./schema";

/**
 * The label pool clients' names go under by default: `<client>.dhcp.<domain>`. Under the
 * domain itself a client could take any name the *.<domain> wildcard gives an app.
 */
export const DDNS_DEFAULT_LABEL = "dhcp";

/** Dynamic DNS: on or off, and a suffix inside the domain (by default dhcp.<domain>). */
export function checkDdns(c: Checker, raw: RawConfig, domain: string | undefined): { suffix: string } | undefined {
    if (typeof raw.ddnsEnabled !== "boolean") {
        c.fail("ddnsEnabled", `${JSON.stringify(raw.ddnsEnabled)} must be true or false`);
        return undefined;
    }
    if (raw.ddnsSuffix === "") {
        return raw.ddnsEnabled && domain ? { suffix: `${DDNS_DEFAULT_LABEL}.${domain}` } : undefined;
    }
    const suffix = checkDomain(c, "ddnsSuffix", raw.ddnsSuffix);
    if (suffix && domain && suffix !== domain && !suffix.endsWith(`.${domain}`)) {
        c.fail("ddnsSuffix", `"${suffix}" is outside homecloud:domain ${domain}; BIND here serves only that zone: ` +
            `use a name under it, e.g. ${DDNS_DEFAULT_LABEL}.${domain} (the default, when empty)`);
        return undefined;
    }
    if (raw.ddnsEnabled && suffix && suffix === domain) {
        c.warnings.push(`homecloud:ddnsSuffix: "${suffix}" puts pool clients' names beside your apps: a DHCP client calling itself ` +
            `grafana takes grafana.${suffix}, which the *.${suffix} wildcard gave the ingress; only names the program knows ` +
            `(hosts, apiName, certificates) stay out of reach. Leave ddnsSuffix empty for ${DDNS_DEFAULT_LABEL}.${suffix}`);
    }
    return raw.ddnsEnabled && suffix ? { suffix } : undefined;
}
