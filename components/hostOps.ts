// The one host-operation helper: every change the program makes on a host is a
// remote.Command built here, from the pure scripts in hostScripts.ts.
import * as crypto from "crypto";
import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import { installFileScript, ManagedFileSpec, removeFileScript, sudoScript } from "./hostScripts";

/** How to reach a host over SSH as a sudo-capable user. */
export interface HostConnection {
    readonly host: pulumi.Input<string>;
    readonly port: number;
    readonly user: string;
    /** OpenSSH private key; always a Pulumi secret. */
    readonly privateKey: pulumi.Input<string>;
    /** How many failed dials before giving up (default 60, about five minutes). */
    readonly dialErrorLimit?: number;
}

function connectionArgs(c: HostConnection): command.types.input.remote.ConnectionArgs {
    return {
        host: c.host,
        port: c.port,
        user: c.user,
        privateKey: pulumi.secret(c.privateKey),
        // A rebooting Pi takes a while to answer again; keep dialling for ~5 minutes.
        dialErrorLimit: c.dialErrorLimit ?? 60,
        perDialTimeout: 5,
    };
}

export function sha256(text: string): string {
    return crypto.createHash("sha256").update(text).digest("hex");
}

export interface HostFileArgs {
    readonly connection: HostConnection;
    readonly file: ManagedFileSpec;
    /** The file's content; sent through stdin, never into the script text. */
    readonly content: pulumi.Input<string>;
    /** Content is secret (a token, a key): kept secret in state and not logged. */
    readonly secret?: boolean;
}

/**
 * Installs one file on a host: checked by its daemon's checker, moved into place
 * atomically, activated; re-run only when the content changes (triggers on its hash);
 * on delete the host's original file comes back.
 */
export function hostFile(name: string, args: HostFileArgs, opts: pulumi.CustomResourceOptions): command.remote.Command {
    const install = sudoScript(installFileScript(args.file));
    const content = args.secret ? pulumi.secret(args.content) : pulumi.output(args.content);
    return new command.remote.Command(name, {
        connection: connectionArgs(args.connection),
        create: install,
        // With `update` set, a content change updates the resource in place instead of
        // replacing it (a replace would run the old resource's delete after the new create).
        update: install,
        delete: sudoScript(removeFileScript(args.file)),
        stdin: content,
        triggers: [content.apply(sha256)],
        logging: args.secret ? "none" : "stdoutAndStderr",
        addPreviousOutputInEnv: false,
    }, opts);
}

export interface HostScriptArgs {
    readonly connection: HostConnection;
    /** Runs as root on create and whenever `triggers` change. Starts with `set -eu`. */
    readonly create: string;
    /** Runs as root on delete; undoes `create`. */
    readonly delete?: string;
    /** Data for the script (read from stdin), never spliced into its text. */
    readonly stdin?: pulumi.Input<string>;
    readonly secretStdin?: boolean;
    /** The script prints a secret (a kubeconfig): stdout is kept secret and nothing is logged. */
    readonly secretStdout?: boolean;
    readonly triggers?: pulumi.Input<unknown>[];
}

/** A step that is not a file: package installs, runtime sysctls, joins, drains. */
export function hostScript(name: string, args: HostScriptArgs, opts: pulumi.CustomResourceOptions): command.remote.Command {
    const create = sudoScript(args.create);
    return new command.remote.Command(name, {
        connection: connectionArgs(args.connection),
        create,
        update: create,
        delete: args.delete === undefined ? undefined : sudoScript(args.delete),
        stdin: args.stdin === undefined ? undefined : args.secretStdin ? pulumi.secret(args.stdin) : args.stdin,
        triggers: args.triggers,
        logging: args.secretStdin || args.secretStdout ? "none" : "stdoutAndStderr",
        addPreviousOutputInEnv: false,
    }, args.secretStdout
        ? { ...opts, additionalSecretOutputs: [...(opts.additionalSecretOutputs ?? []), "stdout"] }
        : opts);
}
