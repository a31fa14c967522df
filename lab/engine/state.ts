// The lab engine's state file: per command (by URN), a hash per input, its delete with the
// connection and stdin that delete will run with, what it waited for, and its last
// output. Like Pulumi's state it holds what a delete needs; unlike it, nothing is
// encrypted: the file is 0600 in the lab's runtime directory and goes with the lab.
import * as fs from "fs";
import * as path from "path";
import { InputPrints } from "./commandSemantics";
import { Conn } from "./ssh";

const RUN_DIR = process.env.HOMECLOUD_LAB_RUN ?? "/run/homecloud-lab";
const STATE_FILE = process.env.SSH_ENGINE_STATE ?? path.join(RUN_DIR, "ssh-engine-state.json");

export interface Entry {
    /** A hash per input, never the values: the state file holds no secret. */
    prints: InputPrints;
    /** The delete script of this version of the command [del]. */
    delete?: string;
    connection: Conn;
    /** The stdin the delete runs with [del] (the create's: the provider keeps it in state). */
    stdin?: string;
    /** SHA-256 of the private key of the connection: a delete must run with that key. */
    keySha256?: string;
    /** Deleted without running `delete` (the engine drops it) [ret]. */
    retainOnDelete?: boolean;
    /** Commands this one waited for: it is deleted before them. */
    dependsOn: string[];
    order: number;
    stdout: string;
    stderr: string;
}
/** Commands by URN. */
export interface State { nextOrder: number; resources: Record<string, Entry> }


export function loadState(): State {
    try {
        return JSON.parse(fs.readFileSync(STATE_FILE, "utf8")) as State;
    } catch (e: any) {
        if (e.code === "ENOENT") {
            return { nextOrder: 1, resources: {} };
        }
        throw e;
    }
}

export function saveState(s: State): void {
    fs.mkdirSync(path.dirname(STATE_FILE), { recursive: true });
    const tmp = `${STATE_FILE}.tmp.${process.pid}`;
    fs.writeFileSync(tmp, JSON.stringify(s, null, 2), { mode: 0o600 });
    fs.renameSync(tmp, STATE_FILE);
}

