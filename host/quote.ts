// Shell quoting, in one place. Pure.

/**
 * Shell-quotes one word, POSIX style: bare when made of safe characters, else in single
 * quotes (a `'` becomes `'\''`), which keep every character literal. Not shell-quote's
 * double quotes: its `\!` reaches a non-interactive bash as a backslash and a `!`, so
 * `if ! cmd` ran a command named `!` and ignored every failed check.
 */
export function sh(word: string): string {
    return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, "'\\''")}'`;
}
