// A fake QEMU that replays a recorded QMP transcript (fixtures/qmp/*.txt: "> " lines
// migbench sent, "< " lines QEMU answered). Each command the client sends is matched to
// the next recorded one; the recorded answers and events follow, with ids rewritten.
import { readFileSync } from 'node:fs';
import { Duplex } from 'node:stream';
import { projectPath } from '../../src/model/paths.js';

export interface TranscriptLine {
  readonly direction: '>' | '<';
  readonly json: Record<string, unknown>;
  readonly text: string;
}

export function loadTranscript(name: string): TranscriptLine[] {
  return readFileSync(projectPath('fixtures/qmp', name), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => ({ direction: line[0] as '>' | '<', text: line.slice(2), json: JSON.parse(line.slice(2)) as Record<string, unknown> }));
}

export interface ReplayOptions {
  /**
   * Repeat the last recorded reply of a polling command (query-migrate) when the client
   * polls more often than the recording did, and skip recorded polls it makes fewer of.
   */
  readonly lenientPolling?: boolean;
  /** Added to every event timestamp, so a recording replays as if it happened now. */
  readonly timeShiftMs?: number;
}

/** Time of the first event in a transcript, ms since the epoch. */
export function firstEventMs(transcript: readonly TranscriptLine[]): number {
  const ts = transcript.find((l) => l.direction === '<' && 'timestamp' in l.json)!.json.timestamp as { seconds: number; microseconds: number };
  return ts.seconds * 1000 + ts.microseconds / 1000;
}

function shifted(json: Record<string, unknown>, shiftMs: number): Record<string, unknown> {
  const ts = json.timestamp as { seconds: number; microseconds: number } | undefined;
  if (!ts || !shiftMs) return json;
  const us = Math.round((ts.seconds * 1000 + ts.microseconds / 1000 + shiftMs) * 1000);
  return { ...json, timestamp: { seconds: Math.floor(us / 1e6), microseconds: us % 1e6 } };
}

const POLLING = new Set(['query-migrate']);

export class QmpReplay extends Duplex {
  private position = 0;
  private buffer = '';
  readonly received: string[] = [];
  private lastPoll = new Map<string, TranscriptLine[]>();

  constructor(
    private readonly transcript: readonly TranscriptLine[],
    private readonly options: ReplayOptions = {},
  ) {
    super();
    queueMicrotask(() => this.flushAnswers());
  }

  override _read(): void {}

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.buffer += chunk.toString();
    let newline: number;
    while ((newline = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, newline);
      this.buffer = this.buffer.slice(newline + 1);
      this.onCommand(JSON.parse(line) as { execute: string; id?: string });
    }
    callback();
  }

  private onCommand(command: { execute: string; id?: string }): void {
    this.received.push(command.execute);
    const next = this.transcript.slice(this.position).findIndex((l) => l.direction === '>');
    let index = next < 0 ? -1 : this.position + next;
    if (this.options.lenientPolling) {
      // The client polls fewer times than recorded: skip the recorded polls it did not make.
      while (index >= 0 && POLLING.has(String(this.transcript[index]!.json.execute)) && command.execute !== this.transcript[index]!.json.execute) {
        this.position = index + 1;
        this.collectAnswers();
        const again = this.transcript.slice(this.position).findIndex((l) => l.direction === '>');
        index = again < 0 ? -1 : this.position + again;
      }
      if ((index < 0 || this.transcript[index]!.json.execute !== command.execute) && this.lastPoll.has(command.execute)) {
        this.answer(this.lastPoll.get(command.execute)!, command.id);
        return;
      }
    }
    if (index < 0 || this.transcript[index]!.json.execute !== command.execute) {
      const expected = index < 0 ? 'nothing more' : String(this.transcript[index]!.json.execute);
      this.destroy(new Error(`QMP replay: client sent ${command.execute}, the transcript expects ${expected}`));
      return;
    }
    this.position = index + 1;
    const answers = this.collectAnswers();
    if (POLLING.has(command.execute))
      this.lastPoll.set(
        command.execute,
        answers.filter((a) => 'return' in a.json || 'error' in a.json),
      );
    this.answer(answers, command.id);
  }

  /** The recorded lines QEMU sent after the current command, up to the next command. */
  private collectAnswers(): TranscriptLine[] {
    const answers: TranscriptLine[] = [];
    while (this.position < this.transcript.length && this.transcript[this.position]!.direction === '<') answers.push(this.transcript[this.position++]!);
    return answers;
  }

  private answer(lines: readonly TranscriptLine[], id: string | undefined): void {
    for (const line of lines) {
      const json = 'return' in line.json || 'error' in line.json ? { ...line.json, id } : shifted(line.json, this.options.timeShiftMs ?? 0);
      this.push(`${JSON.stringify(json)}\r\n`);
    }
  }

  private flushAnswers(): void {
    this.answer(this.collectAnswers(), undefined);
  }
}
