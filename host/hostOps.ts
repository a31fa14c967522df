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
 * atomically, activated; on delete the host's original file comes back.
 *
 * No `triggers`: in @pulumi/command 1.x a changed trigger REPLACES the command (the new
 * one is created, then the old one's delete restores the original file). The content
 * travels as `stdin`, and a changed stdin is an in-place update that runs `update`.
 */
export function hostFile(name: string, args: HostFileArgs, opts: pulumi.CustomResourceOptions): command.remote.Command {
    const install = sudoScript(installFileScript(args.file));
    const content = args.secret ? pulumi.secret(args.content) : pulumi.output(args.content);
    return new command.remote.Command(name, {
        connection: connectionArgs(args.connection),
        create: install,
        update: install,
        delete: sudoScript(removeFileScript(args.file)),
        stdin: content,
        logging: args.secret ? "none" : "stdoutAndStderr",
        addPreviousOutputInEnv: false,
    }, opts);
}

export interface HostScriptArgs {
    readonly connection: HostConnection;
    /** Runs as root on create and again whenever its text or stdin changes. Starts with `set -eu`. */
    readonly create: string;
    /** Runs as root on delete; undoes `create`. */
    readonly delete?: string;
    /** Data for the script (read from stdin), never spliced into its text. */
    readonly stdin?: pulumi.Input<string>;
    readonly secretStdin?: boolean;
    /** The script prints a secret (a kubeconfig): stdout is kept secret and nothing is logged. */
    readonly secretStdout?: boolean;
    /**
     * Values whose change must re-run `create` as a NEW command (a replacement). Only for
     * steps without `delete`: a replacement runs the old command's delete right after the
     * new create, which would undo the step. Put versions and hashes in the script text
     * instead, where a change is an in-place update.
     */
    readonly triggers?: pulumi.Input<unknown>[];
}

/** A step that is not a file: package installs, runtime sysctls, joins, drains. */
export function hostScript(name: string, args: HostScriptArgs, opts: pulumi.CustomResourceOptions): command.remote.Command {
    if (args.triggers !== undefined && args.delete !== undefined) {
        throw new Error(`${name}: a step with a delete cannot have triggers; a changed trigger replaces the command and its delete undoes the step`);
    }
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
