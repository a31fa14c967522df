// The one host-operation helper: every change the program makes on a host is a
// remote.Command built here. Each host first gets the toolkit (the program's scripts);
// every other command is a short line running one of them, waiting for the toolkit.
//
// No command with a delete has `triggers`: in @pulumi/command 1.x a changed trigger
// REPLACES the command (node_modules/@pulumi/command/remote/command.js: replaceOnChanges
// triggers[*]); the new one is created, then the OLD one's delete runs and undoes it.
// Content travels as stdin and data in the command line: a change of either is an
// in-place update that runs `update`.
//
// Every connection pins the host's SSH key (`hostKey`: the provider then accepts only that
// key, and offers only its type). The one exception is learnHostKey, which reads the key.
import * as crypto from "crypto";
import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import { fileCommand, HostFileSpec } from "./hostFile";
import { TOOLKIT_DIR, TOOLKIT_INSTALL, toolkitInstaller, toolkitRemove } from "./toolkit";
import { childUrn, COMMAND_TYPE, engineUrn } from "./urn";

/** How to reach a host over SSH as a sudo-capable user, before its key is known. */
export interface UnpinnedConnection {
    readonly host: pulumi.Input<string>;
    readonly port: number;
    readonly user: string;
    /** OpenSSH private key; always a Pulumi secret. */
    readonly privateKey: pulumi.Input<string>;
    /** How many failed dials before giving up (default 60, about five minutes). */
    readonly dialErrorLimit?: number;
}

/** How to reach a host over SSH: who, where, and the host key it must present. */
export interface HostConnection extends UnpinnedConnection {
    /** The host's public key, `<type> <base64>` (host/hostKeys.ts): any other key fails the dial. */
    readonly hostKey: pulumi.Input<string>;
}

function connectionArgs(c: UnpinnedConnection & { hostKey?: pulumi.Input<string> }): command.types.input.remote.ConnectionArgs {
    return {
        ...c.hostKey === undefined ? {} : { hostKey: c.hostKey },
        host: c.host,
        port: c.port,
        user: c.user,
        privateKey: pulumi.secret(c.privateKey),
        // A rebooting Pi takes a while to answer again; keep dialling for ~5 minutes.
        dialErrorLimit: c.dialErrorLimit ?? 60,
        perDialTimeout: 5,
    };
}

/** A host's pinned key from a by-name record; an error naming the host when it has none. */
export function pinnedKey(keys: Readonly<Record<string, pulumi.Input<string>>>, host: string, owner: pulumi.Resource): pulumi.Input<string> {
    const k = keys[host];
    if (k === undefined) {
        throw new pulumi.ResourceError(`no SSH host key for ${host} (hostKeys has ${Object.keys(keys).join(", ") || "none"}); every connection pins one`, owner);
    }
    return k;
}

export function sha256(text: string): string {
    return crypto.createHash("sha256").update(text).digest("hex");
}

/** A host that has its toolkit: where commands go, and the command they wait for. */
export interface Host {
    readonly connection: HostConnection;
    /** The toolkit's command: every other command on the host depends on it. */
    readonly toolkit: command.remote.Command;
    /** Where that toolkit lives on the host (default TOOLKIT_DIR). */
    readonly toolkitDir?: string;
}

/**
 * Installs the toolkit (the host layer's scripts plus `scripts`) on a host, in `dir`
 * (default TOOLKIT_DIR); removes it on delete.
 */
export function hostToolkit(name: string, connection: HostConnection, scripts: readonly string[],
    opts: pulumi.CustomResourceOptions, dir: string = TOOLKIT_DIR): Host {
    const toolkit = new command.remote.Command(name, {
        connection: connectionArgs(connection),
        create: TOOLKIT_INSTALL,
        update: TOOLKIT_INSTALL,
        delete: toolkitRemove(dir),
        stdin: toolkitInstaller(scripts, dir),
        logging: "stdoutAndStderr",
        addPreviousOutputInEnv: false,
    }, opts);
    return { connection, toolkit, toolkitDir: dir };
}

function onHost(host: Host, opts: pulumi.CustomResourceOptions): pulumi.CustomResourceOptions {
    // Callers pass dependsOn as a plain list or a single resource.
    const deps = opts.dependsOn === undefined ? []
        : Array.isArray(opts.dependsOn) ? opts.dependsOn : [opts.dependsOn as pulumi.Input<pulumi.Resource>];
    return { ...opts, dependsOn: [host.toolkit, ...deps] };
}

export interface HostFileArgs {
    readonly file: HostFileSpec;
    /** The file's content; sent through stdin, never into the command line. */
    readonly content: pulumi.Input<string>;
    /**
     * Content is secret (a token, a key): kept secret in state, and a successful run's output
     * is not logged. A failing run's stdout and stderr come back inside the error whatever
     * `logging` says (command v1.2.1, remote/commandOutputs.go), so the hooks never print it.
     */
    readonly secret?: boolean;
}

/**
 * The URN the engine will give the command `name` registered with `opts`: what host
 * scripts record as a file's owner, so that the delete of a command the engine sees as
 * another resource (moved to another parent without an alias) leaves its successor's
 * file alone.
 */
export function commandUrn(name: string, opts: pulumi.CustomResourceOptions): pulumi.Output<string> {
    const parent = opts.parent;
    if (!parent) {
        return pulumi.output(engineUrn(pulumi.getStack(), pulumi.getProject(), "", COMMAND_TYPE, name));
    }
    // The value only, not the parent as a dependency: depending on a component means
    // waiting for all its children, this command included (a cycle).
    return pulumi.output(new Promise<string>((resolve) => parent.urn.apply((u) => { resolve(childUrn(u, COMMAND_TYPE, name)); return u; })));
}

/**
 * Installs one file on a host: checked by its daemon's checker, moved into place
 * atomically, activated; on delete the host's original file comes back.
 */
export function hostFile(name: string, host: Host, args: HostFileArgs, opts: pulumi.CustomResourceOptions): command.remote.Command {
    const owner = commandUrn(name, opts);
    const install = owner.apply((u) => fileCommand("install", args.file, u, host.toolkitDir));
    return new command.remote.Command(name, {
        connection: connectionArgs(host.connection),
        create: install,
        update: install,
        delete: owner.apply((u) => fileCommand("remove", args.file, u, host.toolkitDir)),
        stdin: args.secret ? pulumi.secret(args.content) : args.content,
        logging: args.secret ? "none" : "stdoutAndStderr",
        addPreviousOutputInEnv: false,
    }, onHost(host, opts));
}

export interface HostStepArgs {
    /**
     * Command line run on create and whenever it or stdin changes (a toolkit command); may
     * come from another step's output (e.g. a count computed from what it read).
     */
    readonly create: pulumi.Input<string>;
    /** Command line run on delete; undoes `create`. */
    readonly delete?: pulumi.Input<string>;
    /** Data for the step (read from stdin), never spliced into its command line. */
    readonly stdin?: pulumi.Input<string>;
    readonly secretStdin?: boolean;
    /**
     * The step prints a secret (a kubeconfig): stdout is kept secret and a successful run's
     * output is not logged. A failing run's output comes back inside the error whatever
     * `logging` says (command v1.2.1, remote/commandOutputs.go), so such a script prints the
     * secret as its very last step, after everything that can fail.
     */
    readonly secretStdout?: boolean;
    /**
     * Values whose change must re-run `create` as a NEW command (a replacement). Only for
     * steps without `delete`: a replacement runs the old command's delete right after the
     * new create, which would undo the step. Versions and hashes go into the command line
     * instead, where a change is an in-place update.
     */
    readonly triggers?: pulumi.Input<unknown>[];
    /** Dials while the host reboots (default 60). */
    readonly dialErrorLimit?: number;
}

/** A step that is not a file: package installs, joins, drains. */
export function hostStep(name: string, host: Host, args: HostStepArgs, opts: pulumi.CustomResourceOptions): command.remote.Command {
    if (args.triggers !== undefined && args.delete !== undefined) {
        throw new Error(`${name}: a step with a delete cannot have triggers; a changed trigger replaces the command and its delete undoes the step`);
    }
    const o = onHost(host, opts);
    return new command.remote.Command(name, {
        connection: connectionArgs({ ...host.connection, dialErrorLimit: args.dialErrorLimit ?? host.connection.dialErrorLimit }),
        create: args.create,
        update: args.create,
        delete: args.delete,
        stdin: args.stdin === undefined ? undefined : args.secretStdin ? pulumi.secret(args.stdin) : args.stdin,
        triggers: args.triggers,
        logging: args.secretStdin || args.secretStdout ? "none" : "stdoutAndStderr",
        addPreviousOutputInEnv: false,
    }, args.secretStdout ? { ...o, additionalSecretOutputs: [...(o.additionalSecretOutputs ?? []), "stdout"] } : o);
}

/**
 * Reads a host's public key once, unpinned (trust on first use): the only command without
 * `hostKey`. It sends nothing but the login (public-key authentication gives the server no
 * secret). No delete and no triggers; every input is in ignoreChanges, so a changed SSH key,
 * port or address never reads the key again: only a replacement (`up --replace`) does.
 */
export function learnHostKey(name: string, connection: UnpinnedConnection, create: string,
    opts: pulumi.CustomResourceOptions): command.remote.Command {
    return new command.remote.Command(name, {
        connection: connectionArgs(connection),
        create,
        logging: "stdoutAndStderr",
        addPreviousOutputInEnv: false,
    }, { ...opts, ignoreChanges: ["connection", "create", "logging", "addPreviousOutputInEnv"] });
}
