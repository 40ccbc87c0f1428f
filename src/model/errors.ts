// migbench's errors: each carries a stable code and the context a user needs to act
// (host, command, QMP command, config file and JSON path) and chains its cause.

export type ErrorCode =
  | 'MB_USAGE'
  | 'MB_CONFIG_READ'
  | 'MB_CONFIG_INVALID'
  | 'MB_RESULTS_INVALID'
  | 'MB_COMMAND_FAILED'
  | 'MB_COMMAND_TIMEOUT'
  | 'MB_COMMAND_START'
  | 'MB_SSH_CONNECT'
  | 'MB_SSH_HOST_KEY'
  | 'MB_SSH_LOST'
  | 'MB_QMP_ERROR'
  | 'MB_QMP_PROTOCOL'
  | 'MB_QMP_CLOSED'
  | 'MB_QMP_TIMEOUT'
  | 'MB_LIBVIRT'
  | 'MB_XENAPI'
  | 'MB_VSPHERE'
  | 'MB_HYPERV'
  | 'MB_LAB'
  | 'MB_SETUP'
  | 'MB_GUEST'
  | 'MB_PROBE'
  | 'MB_MIGRATION'
  | 'MB_TIMEOUT'
  | 'MB_CLEANUP';

export type ErrorContext = Record<string, string | number | boolean | undefined>;

export class MigbenchError extends Error {
  readonly code: ErrorCode;
  readonly context: ErrorContext;
  /** Caused by the user's input (config, arguments): reported without a stack, exit code 2. */
  readonly userError: boolean;

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; context?: ErrorContext; userError?: boolean } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.context = options.context ?? {};
    this.userError = options.userError ?? false;
  }
}

export class UsageError extends MigbenchError {
  constructor(message: string) {
    super('MB_USAGE', message, { userError: true });
  }
}

/** A command ran and failed (non-zero exit, signal) or could not start. */
export class CommandError extends MigbenchError {
  readonly host: string;
  readonly argv: readonly string[];
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly stderr: string;

  constructor(
    code: 'MB_COMMAND_FAILED' | 'MB_COMMAND_TIMEOUT' | 'MB_COMMAND_START' | 'MB_SSH_LOST',
    details: { host: string; argv: readonly string[]; exitCode: number | null; signal: string | null; stderr: string; reason?: string },
    cause?: unknown,
  ) {
    const how = details.reason ?? (details.signal ? `killed by ${details.signal}` : `exited with status ${details.exitCode}`);
    const tail = lastLines(details.stderr, 5);
    super(code, `${details.host}: \`${displayArgv(details.argv)}\` ${how}${tail ? `: ${tail}` : ''}`, {
      cause,
      context: { host: details.host, command: displayArgv(details.argv) },
    });
    this.host = details.host;
    this.argv = details.argv;
    this.exitCode = details.exitCode;
    this.signal = details.signal;
    this.stderr = details.stderr;
  }
}

/** QEMU answered a QMP command with an error, or the QMP conversation broke. */
export class QmpError extends MigbenchError {
  readonly host: string;
  readonly command: string;
  readonly errorClass: string | undefined;

  constructor(
    code: 'MB_QMP_ERROR' | 'MB_QMP_PROTOCOL' | 'MB_QMP_CLOSED' | 'MB_QMP_TIMEOUT',
    details: { host: string; socket: string; command: string; errorClass?: string; desc: string },
    cause?: unknown,
  ) {
    const cls = details.errorClass ? ` (${details.errorClass})` : '';
    super(code, `${details.host}: QMP ${details.command}${cls}: ${details.desc}`, {
      cause,
      context: { host: details.host, socket: details.socket, qmpCommand: details.command, errorClass: details.errorClass },
    });
    this.host = details.host;
    this.command = details.command;
    this.errorClass = details.errorClass;
  }
}

/** A config or results file is unreadable or invalid; names the file and the JSON path. */
export class InputFileError extends MigbenchError {
  readonly file: string;
  readonly issues: readonly InputIssue[];

  constructor(code: 'MB_CONFIG_READ' | 'MB_CONFIG_INVALID' | 'MB_RESULTS_INVALID', file: string, issues: readonly InputIssue[], cause?: unknown) {
    const lines = issues.map((i) => `  ${i.path || '(root)'}: ${i.message}`);
    // A problem with the file as a whole (cannot read it) reads as one line.
    const message =
      issues.length === 1 && !issues[0]!.path ? `${file}: ${issues[0]!.message}` : `${file}: ${issues.length === 1 ? 'invalid' : `${issues.length} problems`}\n${lines.join('\n')}`;
    super(code, message, {
      cause,
      userError: true,
      context: { file },
    });
    this.file = file;
    this.issues = issues;
  }
}

export interface InputIssue {
  /** JSON path like `suites.memory-migration.scenarios[0].guest.memoryMiB`. */
  path: string;
  message: string;
}

export function displayArgv(argv: readonly string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : JSON.stringify(a))).join(' ');
}

function lastLines(text: string, n: number): string {
  return text.trim().split('\n').slice(-n).join(' | ').slice(0, 600);
}

/** For the CLI: the message and its causes, without stack traces unless asked. */
export function formatError(error: unknown, options: { stack?: boolean } = {}): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current !== undefined && depth < 6; depth++) {
    if (current instanceof MigbenchError) parts.push(`${depth ? 'caused by: ' : ''}${current.message} [${current.code}]`);
    else if (current instanceof Error) parts.push(`${depth ? 'caused by: ' : ''}${current.message}`);
    else parts.push(`${depth ? 'caused by: ' : ''}${String(current)}`);
    if (options.stack && current instanceof Error && current.stack) parts.push(current.stack);
    current = current instanceof Error ? current.cause : undefined;
  }
  return parts.join('\n');
}

export function isUserError(error: unknown): boolean {
  return error instanceof MigbenchError && error.userError;
}

/**
 * Runs every cleanup even when some fail. A cleanup failure never hides an earlier
 * error: when `original` is set it is rethrown with the cleanup errors attached.
 */
export async function runCleanups(
  cleanups: ReadonlyArray<readonly [string, () => Promise<unknown>]>,
  original?: unknown,
  options: { readonly concurrently?: boolean } = {},
): Promise<void> {
  const failures = await cleanupFailures(cleanups, options);
  if (original !== undefined) {
    if (failures.length && original instanceof Error) {
      (original as Error & { cleanupErrors?: Error[] }).cleanupErrors = failures;
    }
    throw original;
  }
  if (failures.length === 1) throw failures[0];
  if (failures.length > 1) throw new AggregateError(failures, `${failures.length} cleanups failed: ${failures.map((f) => f.message).join('; ')}`);
}

/**
 * Runs every cleanup, whatever the others do, and returns the failures (MB_CLEANUP, each
 * naming its innermost step and the code of what went wrong there) instead of throwing.
 */
export async function cleanupFailures(
  cleanups: ReadonlyArray<readonly [string, () => Promise<unknown>]>,
  options: { readonly concurrently?: boolean } = {},
): Promise<MigbenchError[]> {
  const failures: MigbenchError[] = [];
  const failed = (what: string, error: unknown) => {
    // Several nested cleanups that failed together: the first names the step.
    const first: unknown = error instanceof AggregateError ? error.errors[0] : error;
    const inner = first instanceof MigbenchError && first.code === 'MB_CLEANUP' ? first.context : undefined;
    const step = typeof inner?.step === 'string' ? inner.step : what;
    const cause = typeof inner?.causeCode === 'string' ? inner.causeCode : first instanceof MigbenchError ? first.code : 'MB_INTERNAL';
    return new MigbenchError('MB_CLEANUP', `cleanup "${what}" failed: ${errorMessage(error)}`, { cause: error, context: { step, causeCode: cause } });
  };
  if (options.concurrently) {
    // Independent cleanups (one per host, say) all run; failures keep the list's order.
    const settled = await Promise.allSettled(cleanups.map(([, cleanup]) => cleanup()));
    settled.forEach((s, i) => s.status === 'rejected' && failures.push(failed(cleanups[i]![0], s.reason)));
  } else {
    for (const [what, cleanup] of cleanups) {
      try {
        await cleanup();
      } catch (error) {
        failures.push(failed(what, error));
      }
    }
  }
  return failures;
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
