// A CommandRunner whose answers the test decides, recording every argv it is given.
import { PassThrough, type Duplex } from 'node:stream';
import { CommandError } from '../../src/model/errors.js';
import type { CommandResult, CommandRunner, RunningCommand, RunOptions } from '../../src/exec/runner.js';

export type Answer = Partial<Pick<CommandResult, 'exitCode' | 'stdout' | 'stderr'>>;

export class FakeRunner implements CommandRunner {
  readonly calls: string[][] = [];

  constructor(
    readonly host: string,
    private readonly answer: (argv: readonly string[]) => Answer = () => ({}),
    private readonly sockets: (path: string) => Duplex = (path) => {
      throw new Error(`no socket ${path}`);
    },
  ) {}

  async run(argv: readonly string[], options: RunOptions = {}): Promise<CommandResult> {
    this.calls.push([...argv]);
    const a = this.answer(argv);
    const result: CommandResult = {
      host: this.host,
      argv,
      exitCode: a.exitCode ?? 0,
      signal: null,
      stdout: a.stdout ?? '',
      stderr: a.stderr ?? '',
      durationMs: 1,
      ok: (a.exitCode ?? 0) === 0,
    };
    if ((options.check ?? true) && !result.ok) throw new CommandError('MB_COMMAND_FAILED', result);
    return result;
  }

  spawn(argv: readonly string[]): RunningCommand {
    this.calls.push([...argv]);
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    stdout.end();
    stderr.end();
    return {
      host: this.host,
      argv,
      stdout,
      stderr,
      write: () => undefined,
      endInput: () => undefined,
      kill: () => undefined,
      done: Promise.resolve({ host: this.host, argv, exitCode: 0, signal: null, stdout: '', stderr: '', durationMs: 1, ok: true }),
    };
  }

  async openUnixSocket(path: string): Promise<Duplex> {
    return this.sockets(path);
  }

  async close(): Promise<void> {}
}
