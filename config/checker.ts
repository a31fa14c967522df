// Collects configuration problems instead of stopping at the first, so one run shows every
// mistake, each naming its key and the fix. Pure: no Pulumi import.
import * as ipaddr from "ipaddr.js";
import { IpRange, ipToNumber, isIPv4 } from "./plan";

export const HOSTNAME = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
export const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;
export const IFNAME = /^[a-zA-Z0-9_.@-]{1,15}$/;
export const SSH_USER = /^[a-z_][a-z0-9_-]{0,31}$/;
export const K3S_VERSION = /^v\d+\.\d+\.\d+\+k3s\d+$/;
export const ABS_PATH = /^\/[A-Za-z0-9._/-]*$/;

export function inCidr(ip: string, cidr: [ipaddr.IPv4, number]): boolean {
    return ipaddr.IPv4.parse(ip).match(cidr);
}

export function inRange(ip: string, r: IpRange): boolean {
    const n = ipToNumber(ip);
    return n >= ipToNumber(r.start) && n <= ipToNumber(r.end);
}

export function rangesOverlap(a: IpRange, b: IpRange): boolean {
    return ipToNumber(a.start) <= ipToNumber(b.end) && ipToNumber(b.start) <= ipToNumber(a.end);
}

/** Collects problems instead of stopping at the first, so one run shows every mistake. */
export class Checker {
    readonly problems: string[] = [];
    readonly warnings: string[] = [];

    fail(key: string, message: string): undefined {
        this.problems.push(`homecloud:${key}: ${message}`);
        return undefined;
    }

    object(key: string, v: unknown, required: boolean): Record<string, unknown> | undefined {
        if (v === undefined) {
            return required ? this.fail(key, "is required") : {};
        }
        if (typeof v !== "object" || v === null || Array.isArray(v)) {
            return this.fail(key, `must be an object, got ${JSON.stringify(v)}`);
        }
        return v as Record<string, unknown>;
    }

    string(key: string, v: unknown): string | undefined {
        if (v === undefined) {
            return this.fail(key, "is required");
        }
        if (typeof v !== "string") {
            return this.fail(key, `must be a string, got ${JSON.stringify(v)}`);
        }
        return v;
    }

    ip(key: string, v: unknown): string | undefined {
        const s = this.string(key, v);
        if (s === undefined) {
            return undefined;
        }
        if (!isIPv4(s)) {
            return this.fail(key, `"${s}" is not an IPv4 address; write four decimal numbers 0-255, e.g. 10.0.0.1`);
        }
        return s;
    }

    cidr(key: string, v: unknown): [ipaddr.IPv4, number] | undefined {
        const s = this.string(key, v);
        if (s === undefined) {
            return undefined;
        }
        const m = /^(.+)\/(\d{1,2})$/.exec(s);
        if (!m || !isIPv4(m[1]) || Number(m[2]) > 32) {
            return this.fail(key, `"${s}" is not an IPv4 CIDR; write network/prefix, e.g. 10.0.0.0/24`);
        }
        const parsed = ipaddr.IPv4.parseCIDR(s);
        const network = ipaddr.IPv4.networkAddressFromCIDR(s).toString();
        if (network !== m[1]) {
            return this.fail(key, `"${s}" has host bits set; the network is ${network}/${m[2]}`);
        }
        return parsed;
    }

    hostname(key: string, v: unknown): string | undefined {
        const s = this.string(key, v);
        if (s !== undefined && !HOSTNAME.test(s)) {
            return this.fail(key, `"${s}" is not a valid host name; use 1-63 lower-case letters, digits and inner hyphens (RFC 1123)`);
        }
        return s;
    }

    mac(key: string, v: unknown): string | undefined {
        const s = this.string(key, v);
        if (s === undefined) {
            return undefined;
        }
        const normal = s.toLowerCase().replace(/-/g, ":");
        if (!MAC.test(normal)) {
            return this.fail(key, `"${s}" is not a MAC address; write six hex pairs, e.g. dc:a6:32:01:02:03`);
        }
        return normal;
    }

    /** A whole number from `min` to `max`; `use` says what to write instead, e.g. "whole seconds from 60 to 600". */
    wholeNumber(key: string, v: unknown, min: number, max: number, use: string): number | undefined {
        return typeof v === "number" && Number.isInteger(v) && v >= min && v <= max ? v
            : this.fail(key, `${JSON.stringify(v)} is out of range; use ${use}`);
    }

    port(key: string, v: unknown): number | undefined {
        const n = v;
        if (typeof n !== "number" || !Number.isInteger(n) || n < 1 || n > 65535) {
            return this.fail(key, `${JSON.stringify(n)} is not a TCP port; use a whole number from 1 to 65535`);
        }
        return n;
    }

    /** An absolute path without `..` (the host layer refuses those too), e.g. `example` = /opt/k3s-airgap. */
    absolutePath(key: string, v: unknown, example: string): string | undefined {
        const s = this.pattern(key, v, ABS_PATH, `is not an absolute path; e.g. ${example}`);
        if (s !== undefined && s.includes("..")) {
            return this.fail(key, `"${s}" contains ".."; give the directory's own absolute path, e.g. ${example}`);
        }
        return s;
    }

    pattern(key: string, v: unknown, re: RegExp, hint: string): string | undefined {
        const s = this.string(key, v);
        if (s !== undefined && !re.test(s)) {
            return this.fail(key, `"${s}" ${hint}`);
        }
        return s;
    }

    range(key: string, v: unknown): IpRange | undefined {
        const s = this.string(key, v);
        if (s === undefined) {
            return undefined;
        }
        const parts = s.split("-").map((p) => p.trim());
        if (parts.length !== 2 || !isIPv4(parts[0]) || !isIPv4(parts[1])) {
            return this.fail(key, `"${s}" is not an address range; write first-last, e.g. 10.0.0.100-10.0.0.149`);
        }
        const r = { start: parts[0], end: parts[1] };
        if (ipToNumber(r.start) > ipToNumber(r.end)) {
            return this.fail(key, `"${s}" is reversed; put the lower address first`);
        }
        return r;
    }
}

