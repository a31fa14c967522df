// The gateway's HAProxy API health check, run for real: Debian's haproxy with the rendered
// `defaults` and `backend k3s-servers` sections, verbatim except that the servers' addresses
// become 127.0.0.1 ports (the first the real kube-apiserver, the second a port nothing
// listens on), read back through its stats socket.
import { spawn } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";

/** One section of a rendered haproxy.cfg (`defaults`, `backend k3s-servers`), up to the blank line. */
export function section(cfg: string, header: string): string[] {
    const lines = cfg.split("\n");
    const start = lines.indexOf(header);
    if (start < 0) {
        throw new Error(`no "${header}" in the rendered haproxy.cfg`);
    }
    const end = lines.indexOf("", start);
    return lines.slice(start, end < 0 ? undefined : end);
}

function stats(socket: string, command: string): Promise<string> {
    return new Promise((resolve, reject) => {
        const c = net.createConnection(socket);
        let out = "";
        c.on("data", (d) => { out += d.toString(); });
        c.on("end", () => resolve(out));
        c.on("error", reject);
        c.end(`${command}\n`);
    });
}

export interface CheckResult {
    /** Per server: status, check status and HTTP code, e.g. "UP L7OK 401". */
    readonly servers: Record<string, string>;
}

/** Runs haproxy until every server's state is settled (UP or DOWN) or `timeoutMs` passes; stops it by PID. */
export async function runApiCheck(cfg: string, ports: readonly number[], timeoutMs = 30_000): Promise<CheckResult> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "homecloud-haproxy-"));
    const socket = path.join(dir, "admin.sock");
    const backend = section(cfg, "backend k3s-servers");
    const servers = backend.filter((l) => l.startsWith("    server "));
    if (servers.length < ports.length) {
        throw new Error(`the backend has ${servers.length} servers, fewer than the ${ports.length} ports given`);
    }
    const kept = servers.slice(0, ports.length).map((l, i) => l.replace(/ \S+:\d+$/, ` 127.0.0.1:${ports[i]}`));
    const text = [
        "global", `    stats socket ${socket} mode 600 level admin`, "",
        ...section(cfg, "defaults").filter((l) => !l.includes("log")), "",
        ...backend.filter((l) => !l.startsWith("    server ")), ...kept, "",
    ].join("\n");
    fs.writeFileSync(path.join(dir, "haproxy.cfg"), text);
    const p = spawn("haproxy", ["-db", "-f", path.join(dir, "haproxy.cfg")], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    p.stderr.on("data", (d) => { stderr += d.toString(); });
    const exited = new Promise<void>((r) => p.once("exit", () => r()));
    try {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
            await new Promise((r) => setTimeout(r, 300));
            if (p.exitCode !== null) {
                throw new Error(`haproxy exited ${p.exitCode}: ${stderr}`);
            }
            const csv = fs.existsSync(socket) ? await stats(socket, "show stat").catch(() => "") : "";
            const rows = csv.split("\n").filter((l) => l.startsWith("k3s-servers,") && !l.startsWith("k3s-servers,BACKEND"));
            const header = csv.split("\n")[0]?.replace(/^# /, "").split(",") ?? [];
            const col = (row: string[], name: string) => row[header.indexOf(name)];
            const states = Object.fromEntries(rows.map((l) => l.split(",")).map((r) =>
                [col(r, "svname"), `${col(r, "status")} ${col(r, "check_status")} ${col(r, "check_code")}`.trim()]));
            // A server starts UP before any check ran (check status INI) and says "UP 1/2"
            // while going down: settled is UP or DOWN after a real check.
            const settled = rows.length === ports.length && Object.values(states).every((s) => /^(UP|DOWN) L[4-7]/.test(s));
            if (settled || Date.now() > deadline) {
                return { servers: states };
            }
        }
    } finally {
        if (p.pid !== undefined && p.exitCode === null) {
            process.kill(p.pid, "SIGTERM");
        }
        await exited;
        fs.rmSync(dir, { recursive: true, force: true });
    }
}
