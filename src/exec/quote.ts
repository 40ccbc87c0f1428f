// The one place where argv becomes a string: SSH's exec request carries a single
// command line that the remote login shell splits again.

/** POSIX sh quoting: every argument single-quoted unless it is plainly safe. */
export function shellQuote(argv: readonly string[]): string {
  if (argv.length === 0) throw new Error('shellQuote: empty argv');
  return argv.map(quoteArg).join(' ');
}

function quoteArg(arg: string): string {
  if (arg.includes('\0')) throw new Error('shellQuote: NUL byte in argument');
  if (arg !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(arg)) return arg;
  return `'${arg.replaceAll("'", `'\\''`)}'`;
}
