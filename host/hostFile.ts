// One declaration per file the program owns on a host: where it goes, its mode, and the
// hooks file (beside its component) that checks, activates and reverts it, with the data
// those hooks need. The toolkit's host-file.sh does the rest. Pure: no Pulumi import.
import { TOOLKIT_DIR, toolkitCommand } from "./toolkit";

export interface HostFileSpec {
    /** Absolute destination path. */
    readonly path: string;
    /** Octal mode of the installed file (default 0644). */
    readonly mode?: string;
    /** `user:group` owning the installed file (default root:root). */
    readonly owner?: string;
    /**
     * Toolkit script defining `check` (the daemon's checker, on "$CANDIDATE"), `activate`
     * (e.g. a reload) and `revert` (after the host's original is back); any may be absent.
     */
    readonly hooks?: string;
    /** Data for the hooks, by HC_* name. */
    readonly env?: Readonly<Record<string, string>>;
    /**
     * A DNS zone: the content carries `SERIAL_TOKEN ; serial`; the host fills in a serial
     * greater than the installed one, only when something else in the zone changed.
     */
    readonly zoneSerial?: boolean;
}

/** Placeholder a zone renderer writes where the SOA serial goes: `<token> ; serial`. */
export const SERIAL_TOKEN = "@SERIAL@";

/** Where the program keeps what it needs to undo itself on a host (host/scripts/lib.sh: HC_STATE). */
export const STATE_DIR = "/var/lib/homecloud";

/** The toolkit script that installs and removes host files. */
export const HOST_FILE_SCRIPT = "host/scripts/host-file.sh";

const SAFE_PATH = /^\/[A-Za-z0-9._/-]+$/;
const MODE = /^0?[0-7]{3}$/;
const OWNER = /^[a-z_][a-z0-9_-]*:[a-z_][a-z0-9_-]*$/;

function checkSpec(spec: HostFileSpec): void {
    if (!SAFE_PATH.test(spec.path) || spec.path.includes("..")) {
        throw new RangeError(`host file path ${JSON.stringify(spec.path)} must be absolute and made of [A-Za-z0-9._/-]`);
    }
    if (spec.mode !== undefined && !MODE.test(spec.mode)) {
        throw new RangeError(`host file mode ${JSON.stringify(spec.mode)} must be octal, e.g. 0644`);
    }
    if (spec.owner !== undefined && !OWNER.test(spec.owner)) {
        throw new RangeError(`host file owner ${JSON.stringify(spec.owner)} must be user:group`);
    }
}

/**
 * The command line that installs (content on stdin) or removes the file. `resource` (the
 * command's name) is recorded on install as the file's owner; a remove by another
 * resource leaves the file alone, so a renamed resource's delete never undoes its successor.
 * `toolkitDir` is the toolkit whose host-file.sh runs (and where `hooks` are found).
 */
export function fileCommand(op: "install" | "remove", spec: HostFileSpec, resource?: string, toolkitDir: string = TOOLKIT_DIR): string {
    checkSpec(spec);
    return toolkitCommand(HOST_FILE_SCRIPT, [op], {
        HC_DEST: spec.path,
        ...resource ? { HC_RESOURCE: resource } : {},
        ...spec.mode ? { HC_MODE: spec.mode } : {},
        ...spec.owner ? { HC_OWNER: spec.owner } : {},
        ...spec.hooks ? { HC_HOOKS: spec.hooks } : {},
        ...spec.zoneSerial ? { HC_ZONE_SERIAL: "1" } : {},
        ...spec.env,
    }, toolkitDir);
}
