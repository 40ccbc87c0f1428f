// The one place where argv becomes a string: SSH's exec request carries a single command
// line that the remote login shell splits again. A POSIX host's shell gets POSIX quoting;
// a Windows host's (Windows OpenSSH starts cmd.exe or PowerShell, whichever DefaultShell
// says) gets only `powershell -NoProfile -NonInteractive -EncodedCommand <base64>`, whose
// words both shells pass on unchanged, with every value inside as a PowerShell literal.
// Exit codes arrive exactly under cmd.exe (OpenSSH's default shell); a DefaultShell of
// PowerShell reports any non-zero code of the inner powershell as 1.

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

/**
 * A PowerShell single-quoted string literal. Inside one, only the quote characters mean
 * anything, and PowerShell counts the typographic ones (U+2018..U+201B) as quotes too:
 * each is doubled, the way PowerShell escapes them.
 */
export function psQuote(value: string): string {
  if (value.includes('\0')) throw new Error('a PowerShell argument cannot contain NUL');
  return `'${value.replace(/['\u2018\u2019\u201A\u201B]/g, (q) => q + q)}'`;
}

const ENCODED_FLAGS = ['-NoProfile', '-NonInteractive', '-EncodedCommand'] as const;

/** The argv that runs a script: powershell -NoProfile -NonInteractive -EncodedCommand base64(UTF-16LE). */
export function powershellArgv(script: string, shell: readonly string[] = ['powershell']): string[] {
  return [...shell, ...ENCODED_FLAGS, Buffer.from(script, 'utf16le').toString('base64')];
}

/** Decodes what powershellArgv sends (for tests and stand-ins). */
export function decodeEncodedCommand(base64: string): string {
  return Buffer.from(base64, 'base64').toString('utf16le');
}

/**
 * A native command run by PowerShell, its exit code passed on: `$LASTEXITCODE` for a
 * program, 0 or 1 from `$?` for a cmdlet or a command not found (whose `$LASTEXITCODE` stays
 * unset, and `exit $null` would say 0). Arguments are literals, so a cmdlet's `-Name` given
 * this way is a value, not a parameter: cmdlets go in scripts (powershellArgv).
 */
export function nativeCommandScript(argv: readonly string[]): string {
  const [program, ...args] = argv;
  if (program === undefined) throw new Error('nativeCommandScript: empty argv');
  // Windows PowerShell 5.1 rebuilds a program's command line without escaping: an empty
  // argument vanishes, a double quote splits one, a trailing backslash eats the closing quote.
  const unsafe = args.find((a) => a === '' || a.includes('"') || a.endsWith('\\'));
  if (unsafe !== undefined)
    throw new Error(`an argument for a Windows host cannot be empty, hold a double quote or end in a backslash (PowerShell 5.1 passes it on unescaped): ${JSON.stringify(unsafe)}`);
  return [`& ${[program, ...args].map(psQuote).join(' ')}`, '$ok = $?', 'if ($null -ne $LASTEXITCODE) { exit $LASTEXITCODE } elseif ($ok) { exit 0 } else { exit 1 }'].join('\n');
}

/**
 * PowerShell without a console writes its errors to stderr as CLIXML (`#< CLIXML` and
 * <S S="Error"> elements, newlines as _x000D__x000A_): the text, for messages.
 */
export function clixmlText(stderr: string): string {
  const at = stderr.indexOf('#< CLIXML');
  if (at < 0) return stderr;
  const parts = [...stderr.slice(at).matchAll(/<S S="Error">([\s\S]*?)<\/S>/g)].map((m) => m[1]!);
  const text = parts
    .join('')
    .replace(/_x([0-9A-Fa-f]{4})_/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)))
    .replace(/&(lt|gt|quot|apos|amp);/g, (_, e: string) => ({ lt: '<', gt: '>', quot: '"', apos: "'", amp: '&' })[e]!);
  return stderr.slice(0, at) + text;
}

/** Is argv already a PowerShell script sent as EncodedCommand, by a shell named in plain words? */
function isEncodedPowershell(argv: readonly string[]): boolean {
  const flagsAt = argv.length - 4;
  return (
    flagsAt >= 1 &&
    ENCODED_FLAGS.every((flag, i) => argv[flagsAt + i] === flag) &&
    /^[A-Za-z0-9+/]+=*$/.test(argv[argv.length - 1]!) &&
    argv.slice(0, flagsAt).every((word) => /^[A-Za-z0-9_.:\\/-]+$/.test(word))
  );
}

/**
 * The command line for a Windows OpenSSH server. A script already in EncodedCommand form
 * goes as it is; any other argv becomes the script that runs it (nativeCommandScript), so
 * nothing of a value ever meets cmd.exe's or PowerShell's parser.
 */
export function windowsCommandLine(argv: readonly string[]): string {
  return (isEncodedPowershell(argv) ? argv : powershellArgv(nativeCommandScript(argv))).join(' ');
}
