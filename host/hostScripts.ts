// Pure builders for the shell scripts every host change runs. No Pulumi import: the lab
// tests run these very scripts over SSH, and the unit tests check them by exact text and
// with shellcheck.

/** A file the program owns on a host: where it goes, how it is checked and activated. */
export interface ManagedFileSpec {
    /** Absolute destination path. */
    readonly path: string;
    /** Octal mode of the installed file (default 0644). */
    readonly mode?: string;
    /** `user:group` owning the installed file (default root:root). */
    readonly owner?: string;
    /**
     * The daemon's own checker, run on the candidate before it replaces anything.
     * The candidate's path is in `$CANDIDATE`, e.g. `kea-dhcp4 -t "$CANDIDATE"`.
     */
    readonly check?: string;
    /** Runs once the file is in place (and again after a rollback), e.g. a reload. */
    readonly activate?: string;
    /** Runs on delete, after the host's original file was put back (or the file removed). */
    readonly revert?: string;
    /**
     * DNS zone files: the content carries `SERIAL_TOKEN` on its `; serial` line; the host
     * fills in a serial greater than the installed one (and at least YYYYMMDD00), only
     * when something else in the zone changed.
     */
    readonly zoneSerial?: boolean;
}

/** Placeholder a zone renderer writes where the SOA serial goes: `<token> ; serial`. */
export const SERIAL_TOKEN = "@SERIAL@";

/** Where the program keeps what it needs to undo itself: originals and markers. */
export const STATE_DIR = "/var/lib/homecloud";

const SAFE_PATH = /^\/[A-Za-z0-9._/-]+$/;
const MODE = /^0?[0-7]{3}$/;
const OWNER = /^[a-z_][a-z0-9_-]*:[a-z_][a-z0-9_-]*$/;

/**
 * Shell-quotes one word, POSIX style: bare when made of safe characters, else in single
 * quotes (a `'` becomes `'\''`), which keep every character literal. Not shell-quote's
 * double quotes: its `\!` reaches a non-interactive bash as a backslash and a `!`, so
 * `if ! cmd` in a sudoScript ran a command named `!` and ignored every failed check.
 */
export function sh(word: string): string {
    return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, "'\\''")}'`;
}

function checkSpec(spec: ManagedFileSpec): void {
    if (!SAFE_PATH.test(spec.path) || spec.path.includes("..")) {
        throw new RangeError(`managed file path ${JSON.stringify(spec.path)} must be absolute and made of [A-Za-z0-9._/-]`);
    }
    if (spec.mode !== undefined && !MODE.test(spec.mode)) {
        throw new RangeError(`managed file mode ${JSON.stringify(spec.mode)} must be octal, e.g. 0644`);
    }
    if (spec.owner !== undefined && !OWNER.test(spec.owner)) {
        throw new RangeError(`managed file owner ${JSON.stringify(spec.owner)} must be user:group`);
    }
}

/** Indents a user-supplied command block so the script stays readable. */
function block(cmd: string | undefined, fallback = ":"): string {
    return (cmd ?? fallback).trim().split("\n").map((l) => `  ${l}`).join("\n");
}

/**
 * Script that installs the file content read from stdin: stage next to the destination,
 * check with the daemon's checker, keep the host's original once, move into place
 * atomically, activate, and roll back to the previous content if activation fails.
 * Unchanged content changes nothing and activates nothing.
 */
export function installFileScript(spec: ManagedFileSpec): string {
    checkSpec(spec);
    const dest = spec.path;
    const saved = `${STATE_DIR}/original${dest}`;
    return `set -eu
dest=${sh(dest)}
saved=${sh(saved)}
install -d -m 0755 "$(dirname "$dest")" "$(dirname "$saved")"
CANDIDATE=$(mktemp "$dest.homecloud.XXXXXX")
trap 'rm -f "$CANDIDATE" "$dest.homecloud-previous"' EXIT
cat > "$CANDIDATE"
chmod ${spec.mode ?? "0644"} "$CANDIDATE"
chown ${spec.owner ?? "root:root"} "$CANDIDATE"
export CANDIDATE
${spec.zoneSerial ? zoneSerialSnippet() : `if [ -f "$dest" ] && cmp -s "$CANDIDATE" "$dest"; then
  echo "homecloud: $dest unchanged"
  exit 0
fi`}
if ! check_output=$( (
${block(spec.check, "true")}
) 2>&1 ); then
  echo "homecloud: $dest rejected by its checker; the running configuration is untouched:" >&2
  echo "$check_output" >&2
  exit 1
fi
if [ ! -e "$saved" ] && [ ! -e "$saved.absent" ]; then
  if [ -e "$dest" ]; then cp -a "$dest" "$saved"; else touch "$saved.absent"; fi
fi
if [ -e "$dest" ]; then cp -a "$dest" "$dest.homecloud-previous"; fi
mv -f "$CANDIDATE" "$dest"
if ! activate_output=$( (
${block(spec.activate)}
) 2>&1 ); then
  echo "homecloud: activating $dest failed; putting the previous file back:" >&2
  echo "$activate_output" >&2
  if [ -e "$dest.homecloud-previous" ]; then mv -f "$dest.homecloud-previous" "$dest"; else rm -f "$dest"; fi
  (
${block(spec.activate)}
  ) >/dev/null 2>&1 || true
  exit 1
fi
echo "homecloud: $dest installed"
`;
}

function zoneSerialSnippet(): string {
    return `old=0
if [ -f "$dest" ]; then
  old=$(sed -n 's/^ *\\([0-9][0-9]*\\) *; serial$/\\1/p' "$dest" | head -n 1)
  if sed 's/^\\( *\\)[0-9][0-9]* *; serial$/\\1${SERIAL_TOKEN} ; serial/' "$dest" | cmp -s - "$CANDIDATE"; then
    echo "homecloud: $dest unchanged"
    exit 0
  fi
fi
serial=$(date -u +%Y%m%d00)
if [ "\${old:-0}" -ge "$serial" ]; then serial=$((old + 1)); fi
sed -i "s/${SERIAL_TOKEN} ; serial$/$serial ; serial/" "$CANDIDATE"`;
}

/** Script that puts the host's original file back (or removes ours) and runs `revert`. */
export function removeFileScript(spec: ManagedFileSpec): string {
    checkSpec(spec);
    const saved = `${STATE_DIR}/original${spec.path}`;
    return `set -eu
dest=${sh(spec.path)}
saved=${sh(saved)}
if [ -e "$saved" ]; then
  mv -f "$saved" "$dest"
elif [ -e "$saved.absent" ]; then
  rm -f "$dest" "$saved.absent"
fi
${spec.revert ?? ":"}
# Leave no empty bookkeeping directories behind.
find ${STATE_DIR} -depth -type d -empty -delete 2>/dev/null || true
echo "homecloud: $dest restored"
`;
}

/** The command line that runs a script as root through sudo, never needing a root login. */
export function sudoScript(script: string): string {
    return `sudo -n /bin/bash -c ${sh(script)}`;
}

/**
 * Activation snippet for a systemd service: enable it (remembering whether it was enabled
 * before, so destroy can leave it as found) and reload it, or start it if it is stopped.
 */
export function serviceActivate(unit: string, reload: "reload" | "restart" | "hup" = "reload"): string {
    const u = sh(unit);
    const marker = `${STATE_DIR}/units/${unit}.was-enabled`;
    const reloadCmd = reload === "reload" ? `systemctl reload ${u}`
        : reload === "hup" ? `systemctl kill --kill-whom=main -s HUP ${u}`
            : `systemctl restart ${u}`;
    return `install -d -m 0755 ${sh(`${STATE_DIR}/units`)}
if [ ! -e ${sh(marker)} ]; then systemctl is-enabled ${u} >${sh(marker)} 2>/dev/null || true; fi
systemctl enable -q ${u}
if systemctl is-active -q ${u}; then ${reloadCmd}; else systemctl start ${u}; fi
systemctl is-active -q ${u}`;
}

/** Revert snippet matching `serviceActivate`: stop and disable it if it was not enabled before. */
export function serviceRevert(unit: string): string {
    const u = sh(unit);
    const marker = `${STATE_DIR}/units/${unit}.was-enabled`;
    return `if [ -e ${sh(marker)} ] && [ "$(cat ${sh(marker)})" != enabled ]; then
  systemctl disable -q --now ${u} || true
elif systemctl is-active -q ${u}; then
  systemctl restart ${u}
fi
rm -f ${sh(marker)}`;
}
