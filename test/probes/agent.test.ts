// The agent tap's parsing of what migbench-probe tap prints, and its reading of the agent.
import { PassThrough } from 'node:stream';
import { describe, expect, test } from 'vitest';
import { AgentTap, parseAgentLine } from '../../src/probes/agent.js';
import type { RunningCommand } from '../../src/exec/runner.js';
import { FakeRunner } from '../fakes/runner.js';

describe(parseAgentLine, () => {
  test('heartbeat, verification, dirtier stats and start-up lines as migbench-probe tap prints them', () => {
    expect(parseAgentLine('1795602417824495000 H 4172 6408912', 'source')).toEqual({
      kind: 'heartbeat',
      value: { seq: 4172, guestUs: 6408912, atMs: 1795602417824.495, side: 'source' },
    });
    expect(parseAgentLine('1795602417824495000 V 9000 20480 0 112 -', 'destination')).toMatchObject({
      kind: 'verification',
      value: { startSeq: 9000, pagesChecked: 20480, badPages: 0, passMs: 112, firstBadPage: null, side: 'destination' },
    });
    // The first damaged page and block are named.
    expect(parseAgentLine('1795602417824495000 V 9000 20480 3 112 1234', 'destination')).toMatchObject({ kind: 'verification', value: { badPages: 3, firstBadPage: 1234 } });
    expect(parseAgentLine('1795602417824495000 B 9000 16384 1 300 8192', 'destination')).toMatchObject({ kind: 'disk-verification', value: { badBlocks: 1, firstBadBlock: 8192 } });
    expect(parseAgentLine('1795602417824495000 B 9000 16384 0 300 -', 'destination')).toMatchObject({ kind: 'disk-verification', value: { badBlocks: 0, firstBadBlock: null } });
    expect(parseAgentLine('1795602417824495000 D 8000 65536 2', 'source')).toMatchObject({ kind: 'stats', value: { pagesDirtied: 65536, badPages: 2 } });
    expect(parseAgentLine('1795602417824495000 I boot_id=0f3a hb_ms=1 ws_mib=64', 'source')).toMatchObject({ kind: 'info', params: { boot_id: '0f3a', hb_ms: '1', ws_mib: '64' } });
    expect(parseAgentLine('# connected', 'source')).toEqual({ kind: 'connected' });
    expect(parseAgentLine('# eof', 'source')).toEqual({ kind: 'eof' });
  });

  test('ignores what it does not know (half lines, noise)', () => {
    expect(parseAgentLine('1795602417824495000 H 12', 'source')).toBeNull();
    // A verification line of another agent version (no first-bad field) is not taken for a pass.
    expect(parseAgentLine('1795602417824495000 V 9000 20480 0 112', 'source')).toBeNull();
    expect(parseAgentLine('hello', 'source')).toBeNull();
    expect(parseAgentLine('1795602417824495000 Z 1 2', 'source')).toBeNull();
  });
});

/** A runner whose `migbench-probe tap` prints `lines` and then waits to be stopped. */
function tapPrinting(lines: readonly string[]): FakeRunner {
  const runner = new FakeRunner('lab dst');
  runner.spawn = (argv): RunningCommand => {
    const stdout = new PassThrough();
    let finish!: () => void;
    const done = new Promise<void>((resolve) => (finish = resolve)).then(() => ({
      host: 'lab dst',
      argv,
      exitCode: 0,
      signal: null,
      stdout: '',
      stderr: '',
      durationMs: 1,
      ok: true,
    }));
    setImmediate(() => stdout.write(lines.map((l) => `${l}\n`).join('')));
    return { host: 'lab dst', argv, stdout, stderr: new PassThrough(), write: () => undefined, endInput: () => (stdout.end(), finish()), kill: () => finish(), done };
  };
  return runner;
}

const ns = (ms: number) => `${ms}000000`;
const T = 1_800_000_000_000;

async function tapOf(lines: readonly string[], memory?: ConstructorParameters<typeof AgentTap>[0]['memory']): Promise<AgentTap> {
  const tap = new AgentTap({ runner: tapPrinting(lines), toolPath: '/t/migbench-probe', socketPath: '/w/agent.sock', side: 'source', ...(memory && { memory }) });
  await tap.waitFor(() => tap.heartbeats.length === lines.filter((l) => l.includes(' H ')).length, 2000);
  await tap.stop();
  return tap;
}

describe(AgentTap, () => {
  test('a tap of a guest kept from the last sample knows its agent without seeing it start', async () => {
    const tap = await tapOf(['# connected', `${ns(T)} H 501 9000`, `${ns(T + 1)} H 502 10000`], { info: { disk: 'ok', boot_id: 'b1' }, lastSeq: 500 });
    expect(tap.hasDisk).toBe(true);
    expect(tap.starts).toEqual([]);
    expect(tap.seqRegressions).toBe(0);
  });

  test('its first heartbeat below the one an earlier tap reached means the agent started again', async () => {
    const tap = await tapOf(['# connected', `${ns(T)} H 12 9000`, `${ns(T + 1)} H 13 10000`], { info: null, lastSeq: 500 });
    expect(tap.seqRegressions).toBe(1);
  });

  test('without a memory the first heartbeat is just the first', async () => {
    const tap = await tapOf(['# connected', `${ns(T)} I boot_id=b1 disk=none`, `${ns(T)} H 1 9000`, `${ns(T + 1)} H 2 10000`]);
    expect(tap.seqRegressions).toBe(0);
    expect(tap.starts).toHaveLength(1);
    expect(tap.hasDisk).toBe(false);
  });
});
