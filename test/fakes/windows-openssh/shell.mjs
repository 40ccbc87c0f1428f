// A STAND-IN for a Windows host's OpenSSH login shell, for testing migbench's Windows mode
// over a real sshd (test/support/windows-sshd.ts runs it as the sshd's ForceCommand, so it
// gets the exact command line a client sent, as Windows OpenSSH hands it to cmd.exe or
// PowerShell). It is not PowerShell. It takes only what both of Windows' shells would run
// the same way, `powershell -NoProfile -NonInteractive -EncodedCommand <base64 UTF-16LE>`,
// and refuses anything POSIX-shaped (`timeout -k 2 …`, quoted words, `cat /proc/…`) as a
// Windows host would fail it. Inside, it knows:
// - the runner's native-command script: `& 'program' 'arg' …` of literals only, then the
//   lines that pass the exit code on (without them, PowerShell's own rule: 1 on failure);
// - `Start-Sleep -Seconds N`;
// - the Hyper-V driver's scripts, answered from fixtures/hyperv/answers.json (constructed
//   from Microsoft's documented properties, not recorded: see its README).
// Every command line and decoded script is appended to $STANDIN_LOG.
import { appendFileSync, readFileSync } from 'node:fs';

const ACCEPTED = /^(?:powershell|pwsh)(?:\.exe)? -NoProfile -NonInteractive -EncodedCommand ([A-Za-z0-9+/]+=*)$/;
const QUOTES = "'\u2018\u2019\u201A\u201B";
/** One PowerShell single-quoted literal: quote characters inside come doubled. */
const LITERAL = new RegExp(`^[${QUOTES}]((?:[^${QUOTES}]|[${QUOTES}]{2})*)[${QUOTES}]`);
const PASS_EXIT_CODE = ['$ok = $?', 'if ($null -ne $LASTEXITCODE) { exit $LASTEXITCODE } elseif ($ok) { exit 0 } else { exit 1 }'];

const line = process.env.SSH_ORIGINAL_COMMAND ?? '';
const log = process.env.STANDIN_LOG;
const answers = JSON.parse(readFileSync(process.env.STANDIN_ANSWERS, 'utf8'));

function record(text) {
  if (log) appendFileSync(log, `${text}\n--- end ---\n`);
}

function fail(message, code = 1) {
  process.stderr.write(`${message}\r\n`);
  process.exit(code);
}

/** The literals of `& 'a' 'b' …`, or null when the line holds anything else. */
function literals(text) {
  if (!text.startsWith('& ')) return null;
  const values = [];
  let rest = text.slice(2);
  while (rest.length) {
    const m = LITERAL.exec(rest);
    if (!m) return null;
    values.push(m[1].replace(new RegExp(`([${QUOTES}])[${QUOTES}]`, 'g'), '$1'));
    rest = rest.slice(m[0].length);
    if (rest.length && !rest.startsWith(' ')) return null;
    rest = rest.slice(1);
  }
  return values;
}

/** A native program's stdout and exit code, as far as the stand-in knows programs. */
function runNative([program, ...args]) {
  const known = answers.native[program];
  if (known && args.length === 0) return known;
  const cmdExit = program.toLowerCase() === 'cmd.exe' && args[0] === '/c' && /^exit (\d+)$/.exec(args[1] ?? '');
  if (cmdExit) return { stdout: '', exitCode: Number(cmdExit[1]) };
  return null;
}

function nativeCommand(lines) {
  const argv = literals(lines[0]);
  if (!argv) fail(`ParserError: the stand-in runs \`& 'program' 'arg' …\` of single-quoted literals only; got: ${lines[0]}`);
  record(`ARGV ${JSON.stringify(argv)}`);
  const result = runNative(argv);
  const passesExitCode = lines.slice(1).join('\n') === PASS_EXIT_CODE.join('\n');
  if (!result) {
    process.stderr.write(`& : The term '${argv[0]}' is not recognized as the name of a cmdlet, function, script file, or operable program.\r\n`);
    process.exit(1);
  }
  process.stdout.write(result.stdout);
  // Without an explicit exit, powershell -EncodedCommand says only whether the last command failed.
  process.exit(passesExitCode ? result.exitCode : result.exitCode === 0 ? 0 : 1);
}

/** The name the script asked about (its first -Name literal), for the counter instance. */
function vmName(script) {
  const at = script.indexOf('-Name ');
  const m = at < 0 ? null : LITERAL.exec(script.slice(at + 6));
  return m ? m[1].replace(new RegExp(`([${QUOTES}])[${QUOTES}]`, 'g'), '$1') : '';
}

function hypervScript(script) {
  for (const [cmdlet, answer] of Object.entries(answers.scripts)) {
    if (!script.includes(cmdlet)) continue;
    let out = answer.stdout;
    if (answer.alternate) {
      // Odd polls find the move running, even polls completed (state kept in the log).
      const polls = (readFileSync(log, 'utf8').match(new RegExp(`${cmdlet}`, 'g')) ?? []).length;
      out = answer.alternate[(polls - 1) % answer.alternate.length];
    }
    const vm = vmName(script);
    const json = JSON.stringify(out, (key, value) => (key === 'Name' && value === '$VM' ? vm : value));
    process.stdout.write(`${json}\r\n`);
    process.exit(0);
  }
  fail(`stand-in: no answer for this script:\n${script}`);
}

const accepted = ACCEPTED.exec(line);
if (!accepted) {
  record(`REJECTED ${line}`);
  fail(`windows stand-in: only "powershell -NoProfile -NonInteractive -EncodedCommand <base64>" runs here; got: ${line}`);
}
const script = Buffer.from(accepted[1], 'base64').toString('utf16le');
if (Buffer.from(script, 'utf16le').toString('base64') !== accepted[1]) fail('windows stand-in: -EncodedCommand is not base64 of UTF-16LE text');
record(script);
const lines = script.split('\n');
const sleep = /^Start-Sleep -Seconds (\d+)$/.exec(script);
if (sleep) setTimeout(() => process.exit(0), Number(sleep[1]) * 1000);
else if (lines[0].startsWith('& ')) nativeCommand(lines);
else hypervScript(script);
