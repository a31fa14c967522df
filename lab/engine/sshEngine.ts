// The lab's "SSH engine": runs the REAL program (index.ts) under pulumi.runtime.setMocks and
// plays the Pulumi engine with the command provider: every `command:remote:Command` the
// components build runs for real over SSH. What runs when follows the real engine and
// provider rule by rule (commandSemantics.ts, each rule citing its source): a new command
// runs `create`; a changed input runs `update` (else `create`) with the new inputs; a
// changed replaceOnChanges input (`triggers`) REPLACES it: the new one's `create` runs, and
// after every create and update the OLD one's `delete`, with its old inputs; removed
// commands run their delete; deletes go in reverse dependency order. Resources are known
// by URN as the engine knows them (parent type chain and name): a command moved under
// another parent without an alias is a new resource, and the old one is deleted; an alias
// carries the old one's state over. Stdout loses one trailing newline, as the provider's.
//
//   npx ts-node --transpile-only lab/engine/sshEngine.ts up|destroy
//
// Env: SSH_ENGINE_STATE (state file), SSH_ENGINE_FORCE=1 (re-run every create),
// SSH_ENGINE_PROGRAM (module to import instead of ../../index), SSH_ENGINE_STACK_FILE,
// HOMECLOUD_CACHE (lab key location). Never prints stdin content or the key.
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { stackFileValues } from "../../config/stackFile";

import { CommandAction, deleteOrder, planCommand, printInputs, scriptFor, unwrapSecrets } from "./commandSemantics";
import { currentRegistration, Registration, tapRegistrations } from "./monitorTap";
import { Conn, removeKeyFiles, runRemote, sleep, sshStats } from "./ssh";
import { Entry, loadState, saveState } from "./state";
import { commandsWaitedFor } from "./waits";

const REPO = path.resolve(__dirname, "..", "..");
const STACK_FILE = process.env.SSH_ENGINE_STACK_FILE ?? path.join(REPO, "Pulumi.lab.yaml");
const KEY_FILE = path.join(process.env.HOMECLOUD_CACHE ?? "/var/cache/homecloud", "lab-ssh", "id_ed25519");
const FORCE = process.env.SSH_ENGINE_FORCE === "1";
const COMMAND_TYPE = "command:remote:Command";

const t0 = Date.now();
const counts = { created: 0, updated: 0, replaced: 0, unchanged: 0, deleted: 0, forced: 0, failed: 0 };
let failed = false;
const failures: string[] = [];

function log(line: string): void {
    process.stdout.write(`${line}\n`);
}

function labKey(): string {
    return fs.readFileSync(KEY_FILE, "utf8");
}

/**
 * A delete runs with what the OLD state holds [del]: its connection and its stdin
 * (commandOutputs.go run reads both from the state). The key must be the one the command
 * was created with; the state keeps only its hash.
 */
async function runDelete(label: string, e: Entry, key: string): Promise<boolean> {
    if (e.retainOnDelete) {
        counts.deleted++;
        log(`deleted ${label} (retainOnDelete: dropped, not run)`);
        return true;
    }
    if (e.delete !== undefined && e.delete !== null) {
        if (e.keySha256 !== undefined && e.keySha256 !== sha256(key)) {
            log(`FAILED delete ${label}: the lab's SSH key is not the one this command was created with`);
            failures.push(label);
            counts.failed++;
            return false;
        }
        const r = await runRemote(e.connection, key, e.delete, e.stdin);
        r.stdout.split("\n").filter(Boolean).forEach((l) => log(`  ${l}`));
        if (r.code !== 0) {
            log(`FAILED delete ${label} (exit ${r.code})`);
            process.stderr.write(r.stderr);
            failures.push(label);
            counts.failed++;
            return false;
        }
    }
    counts.deleted++;
    log(`deleted ${label}`);
    return true;
}

function sha256(text: string): string {
    return crypto.createHash("sha256").update(text).digest("hex");
}

/** Deletes, dependents before what they depended on, newest first otherwise [eng]; stops at a failure. */
async function deleteAll(items: { name: string; label: string; entry: Entry; done: () => void }[], key: string): Promise<boolean> {
    const ordered = deleteOrder([...items].sort((a, b) => a.entry.order - b.entry.order)
        .map((i) => ({ ...i, dependsOn: i.entry.dependsOn ?? [] })));
    for (const i of ordered) {
        if (!await runDelete(i.label, i.entry, key)) {
            return false;
        }
        i.done();
    }
    return true;
}

function summary(mode: string): void {
    const wall = ((Date.now() - t0) / 1000).toFixed(1);
    log(`summary ${mode}: created=${counts.created} updated=${counts.updated} replaced=${counts.replaced} unchanged=${counts.unchanged} ` +
        `deleted=${counts.deleted} forced=${counts.forced} failed=${counts.failed} ` +
        `remote-commands=${sshStats.runs} dials=${sshStats.dials} wall=${wall}s`);
}

function cleanup(): void {
    removeKeyFiles();
}

/** The stack file's values as the engine hands them to the program (config/stackFile.ts), and the lab's key. */
function configFromStack(): Record<string, string> {
    const { values } = stackFileValues(fs.readFileSync(STACK_FILE, "utf8"));
    return { ...values, "homecloud:sshPrivateKey": labKey() };
}

async function up(): Promise<void> {
    const state = loadState();
    const seen = new Set<string>();
    const pending = new Set<Promise<unknown>>();
    /** URNs whose registration has completed (the engine answered), for the order check. */
    const completed = new Set<string>();
    const sent = new Map<string, Registration>();
    /** Old versions of replaced commands, deleted after every create and update [eng]. */
    const replaced: { name: string; entry: Entry }[] = [];
    let order = state.nextOrder;
    const orderViolations: string[] = [];
    const doneCommands = new Set<string>();
    const effectiveCommandDeps = (urn: string): string[] => commandsWaitedFor(sent, COMMAND_TYPE, urn);
    const nameOf = (urn: string): string => urn.slice(urn.lastIndexOf("::") + 2);

    pulumi.runtime.setAllConfig(configFromStack(), ["homecloud:sshPrivateKey"]);
    pulumi.runtime.setMocks({
        newResource: async (args: pulumi.runtime.MockResourceArgs) => {
            const id = `${args.name}-id`;
            if (args.type !== COMMAND_TYPE) {
                return { id, state: args.inputs };
            }
            const reg = currentRegistration();
            if (!reg || reg.name !== args.name || reg.type !== args.type) {
                throw new Error(`${args.name}: registration not seen by the engine's tap`);
            }
            const urn = reg.urn;
            // An alias names the URN this command had before it moved: its state comes along.
            const moved = state.resources[urn] === undefined ? reg.aliasUrns.find((a) => state.resources[a] !== undefined) : undefined;
            if (moved !== undefined) {
                state.resources[urn] = state.resources[moved];
                delete state.resources[moved];
                log(`  ${args.name}: known before as ${moved} (alias)`);
            }
            const work = (async () => {
                const name = args.name;
                // Ordering check: what this command waits for is its own dependencies plus
                // those of every ancestor component (a component's dependsOn holds back its
                // children), expanded through components down to the commands they contain.
                const effective = effectiveCommandDeps(urn);
                const notDone = effective.filter((n) => !doneCommands.has(n));
                if (notDone.length > 0) {
                    orderViolations.push(`${name} started before ${notDone.map(nameOf).join(", ")} finished`);
                }
                log(`  start ${name}${effective.length ? ` (after ${effective.map(nameOf).join(",")})` : ""}`);
                seen.add(urn);
                const i = unwrapSecrets(args.inputs);
                const conn: Conn = {
                    host: i.connection.host, port: i.connection.port ?? 22, user: i.connection.user ?? "root",
                    dialErrorLimit: i.connection.dialErrorLimit, perDialTimeout: i.connection.perDialTimeout, hostKey: i.connection.hostKey,
                };
                const prints = printInputs(args.inputs);
                const prev = state.resources[urn];
                const plan = planCommand(prev?.prints, prints, reg.replaceOnChanges, reg.ignoreChanges);
                const labels: Record<CommandAction, "created" | "updated" | "replaced" | "unchanged"> = {
                    create: "created", update: "updated", replace: "replaced", same: "unchanged",
                };
                let action: "created" | "updated" | "replaced" | "unchanged" | "forced" = labels[plan.action];
                let script = scriptFor(plan.action, i);
                if (plan.action === "same" && FORCE && !(reg?.ignoreChanges ?? []).includes("*")) {
                    action = "forced";
                    script = i.create;
                }
                if (failed && action !== "unchanged") {
                    throw new Error(`${name}: not run, an earlier command failed`);
                }
                let stdout = plan.action === "same" ? prev?.stdout ?? "" : "";
                let stderr = plan.action === "same" ? prev?.stderr ?? "" : "";
                if (plan.action === "replace" && reg.deleteBeforeReplace) {
                    if (!await runDelete(`${name} (replaced, delete before replace)`, prev!, labKey())) {
                        failed = true;
                        throw new Error(`${name}: remote command exited (delete before replace)`);
                    }
                }
                if (script !== undefined && script !== null) {
                    const r = await runRemote(conn, i.connection.privateKey, script, i.stdin);
                    if (r.code !== 0) {
                        failed = true;
                        counts.failed++;
                        failures.push(name);
                        log(`FAILED ${name} (exit ${r.code})`);
                        // As the provider's error does (v1.2.1 remote/commandOutputs.go): stdout and stderr, whatever `logging` says.
                        process.stderr.write(r.stdout + r.stderr);
                        throw new Error(`${name}: remote command exited ${r.code}`);
                    }
                    // commandOutputs.go: strings.TrimSuffix(stdout, "\n"), the same for stderr.
                    stdout = r.stdout.replace(/\n$/, "");
                    stderr = r.stderr.replace(/\n$/, "");
                }
                if (plan.action === "replace" && !reg.deleteBeforeReplace) {
                    replaced.push({ name, entry: prev! });
                }
                // Left as it is, a resource keeps its old inputs, delete, connection and stdin [ign];
                // the registration's options go into the state either way [ret].
                const kept = plan.action === "same" ? prev! : undefined;
                state.resources[urn] = {
                    prints: kept?.prints ?? prints, delete: kept ? kept.delete : i.delete ?? undefined, connection: kept?.connection ?? conn,
                    // What the delete will read [del]; kept only where there is a delete.
                    stdin: kept ? kept.stdin : i.delete ? i.stdin ?? undefined : undefined,
                    keySha256: kept?.keySha256 ?? sha256(i.connection.privateKey),
                    retainOnDelete: reg.retainOnDelete === true,
                    dependsOn: effective, order: order++, stdout, stderr,
                };
                state.nextOrder = order;
                saveState(state);
                counts[action]++;
                doneCommands.add(urn);
                log(`${action} ${name}${plan.changed.length ? ` [diff: ~${plan.changed.join(",")}]` : ""}`);
                return { id, state: { ...args.inputs, stdout, stderr } };
            })();
            pending.add(work);
            work.catch(() => undefined).finally(() => pending.delete(work));
            return work;
        },
        call: (args: pulumi.runtime.MockCallArgs) => {
            throw new Error(`unexpected provider call ${args.token}`);
        },
    }, "homecloud", "lab", false);

    // Record what each registration waits on, and which URNs have been answered.
    tapRegistrations((r) => sent.set(r.urn, r), (_r, urn) => completed.add(urn));

    const errors: unknown[] = [];
    process.on("unhandledRejection", (e) => { errors.push(e); });

    const program = process.env.SSH_ENGINE_PROGRAM ?? path.join(REPO, "index");
    const exported = await import(program);
    // Exported outputs resolve once what they derive from is registered.
    await Promise.all(Object.values(exported).map((v) =>
        pulumi.Output.isInstance(v) ? (v as any).promise().catch((e: unknown) => errors.push(e)) : undefined));
    // Then drain: every RPC the SDK queued, and every command still running.
    const settings = require("@pulumi/pulumi/runtime/settings");
    for (let quiet = 0; quiet < 3;) {
        const before = completed.size + seen.size;
        await settings.waitForRPCs().catch((e: unknown) => errors.push(e));
        await Promise.allSettled([...pending]);
        await sleep(50);
        quiet = pending.size === 0 && completed.size + seen.size === before ? quiet + 1 : 0;
    }

    if (orderViolations.length > 0) {
        log(`ORDER VIOLATIONS:\n  ${orderViolations.join("\n  ")}`);
        failed = true;
    }
    if (failed || errors.length > 0) {
        // One failed Output (a refused host key) fails every resource built from it, each
        // wrapping the message in the SDK's "error serializing property" chain: print it once.
        const shown = new Set<string>();
        for (const e of errors) {
            const msg = (e instanceof Error ? e.message : String(e)).replace(/^(error serializing property "[^"]*": )+/, "");
            if (!/remote command exited|not run, an earlier command failed/.test(msg) && !shown.has(msg)) {
                shown.add(msg);
                process.stderr.write(`error: ${msg}\n`);
            }
        }
        summary("up");
        log(`up FAILED${failures.length ? `: ${failures.join(", ")}` : ""}`);
        cleanup();
        process.exit(1);
    }
    // After every create and update: the old versions of replaced commands, and the
    // commands the program no longer declares, dependents first [eng].
    const orphans = Object.keys(state.resources).filter((u) => !seen.has(u));
    const ok = await deleteAll([
        ...replaced.map(({ name, entry }) => ({ name: `${name} (replaced)`, label: `${name} (replaced)`, entry, done: () => undefined })),
        ...orphans.map((u) => ({ name: u, label: orphanLabel(u), entry: state.resources[u], done: () => { delete state.resources[u]; saveState(state); } })),
    ], labKey());
    saveState(state);
    if (!ok) {
        summary("up");
        log(`up FAILED: ${failures.join(", ")}`);
        cleanup();
        process.exit(1);
    }
    summary("up");
    log(`outputs: ${JSON.stringify(await stackOutputs(exported), null, 2)}`);
    cleanup();
    process.exit(counts.failed > 0 ? 1 : 0);
}

function nameOfUrn(urn: string): string {
    return urn.slice(urn.lastIndexOf("::") + 2);
}

/** A deleted command is logged by name; its URN on the line before (a moved command's old URN differs only there). */
function orphanLabel(urn: string): string {
    log(`  delete ${urn}`);
    return nameOfUrn(urn);
}

/** The program's exports as `pulumi stack output --json` would show them (secrets masked). */
async function stackOutputs(exported: Record<string, unknown>): Promise<Record<string, unknown>> {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(exported)) {
        if (v === undefined || k === "default") {
            continue;
        }
        out[k] = !pulumi.Output.isInstance(v) ? v
            : await pulumi.isSecret(v) ? "[secret]" : await (v as any).promise();
    }
    return out;
}

async function destroy(): Promise<void> {
    const state = loadState();
    await deleteAll(Object.keys(state.resources).map((u) => ({
        name: u, label: nameOfUrn(u), entry: state.resources[u], done: () => { delete state.resources[u]; saveState(state); },
    })), labKey());
    if (Object.keys(state.resources).length === 0) {
        state.nextOrder = 1;
    }
    saveState(state);
    summary("destroy");
    cleanup();
    process.exit(counts.failed > 0 ? 1 : 0);
}

const mode = process.argv[2];
if (mode === "up") {
    up().catch((e) => { process.stderr.write(`ssh engine: ${e?.stack ?? e}\n`); cleanup(); process.exit(1); });
} else if (mode === "destroy") {
    destroy().catch((e) => { process.stderr.write(`ssh engine: ${e?.stack ?? e}\n`); cleanup(); process.exit(1); });
} else {
    process.stderr.write("usage: sshEngine.ts up|destroy\n");
    process.exit(2);
}
