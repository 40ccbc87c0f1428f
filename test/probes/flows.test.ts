import { describe, expect, test } from 'vitest';
import { MigbenchError } from '../../src/model/errors.js';
import { FlowCounters, flowRuleset, parseFlowCounters } from '../../src/probes/flows.js';
import type { CommandResult, RunOptions } from '../../src/exec/runner.js';
import { FakeRunner, type Answer } from '../fakes/runner.js';

/** The fake runner, also keeping the options (stdin) of each run. */
class RecordingRunner extends FakeRunner {
  readonly options: RunOptions[] = [];

  constructor(host: string, answer: (argv: readonly string[]) => Answer = () => ({})) {
    super(host, answer);
  }

  override async run(argv: readonly string[], options: RunOptions = {}): Promise<CommandResult> {
    this.options.push(options);
    return super.run(argv, options);
  }
}

const RAM_AND_DISK = `table inet migbench_t1 {
  chain out {
    type filter hook output priority -300; policy accept;
    tcp dport 4444 counter comment "ram"
    tcp dport 10809 counter comment "disk"
  }
  chain in {
    type filter hook input priority -300; policy accept;
    tcp sport 4444 counter comment "ram"
    tcp sport 10809 counter comment "disk"
  }
}
`;

const rule = (chain: 'out' | 'in', handle: number, comment: string | undefined, port: number, packets: number, bytes: number) => ({
  rule: {
    family: 'inet',
    table: 'migbench_ab12',
    chain,
    handle,
    ...(comment !== undefined && { comment }),
    expr: [{ match: { op: '==', left: { payload: { protocol: 'tcp', field: chain === 'out' ? 'dport' : 'sport' } }, right: port } }, { counter: { packets, bytes } }],
  },
});

/** What `nft -j list table inet migbench_ab12` prints (nft 1.0.6), with counters. */
function listing(rules: unknown[]): string {
  return JSON.stringify({
    nftables: [
      { metainfo: { version: '1.0.6', release_name: 'Lester Gooch #5', json_schema_version: 1 } },
      { table: { family: 'inet', name: 'migbench_ab12', handle: 7 } },
      { chain: { family: 'inet', table: 'migbench_ab12', name: 'out', handle: 1, type: 'filter', hook: 'output', prio: -300, policy: 'accept' } },
      { chain: { family: 'inet', table: 'migbench_ab12', name: 'in', handle: 4, type: 'filter', hook: 'input', prio: -300, policy: 'accept' } },
      ...rules,
    ],
  });
}

const COUNTED = listing([rule('out', 2, 'ram', 4444, 10, 1000), rule('out', 3, 'disk', 10809, 7, 700), rule('in', 5, 'ram', 4444, 3, 156), rule('in', 6, 'disk', 10809, 2, 104)]);

describe(flowRuleset, () => {
  test('a counter per flow in each direction', () => {
    expect(flowRuleset('migbench_t1', { ram: 4444, disk: 10809 })).toBe(RAM_AND_DISK);
  });

  test('only the memory stream when there is no disk copy', () => {
    const expected = `table inet migbench_t2 {
  chain out {
    type filter hook output priority -300; policy accept;
    tcp dport 4444 counter comment "ram"
  }
  chain in {
    type filter hook input priority -300; policy accept;
    tcp sport 4444 counter comment "ram"
  }
}
`;
    expect(flowRuleset('migbench_t2', { ram: 4444, disk: undefined })).toBe(expected);
    expect(flowRuleset('migbench_t2', { ram: 4444 })).toBe(expected);
  });

  test.each([0, -1, 65536, 4444.5, Number.NaN])('port %s is refused', (port) => {
    expect(() => flowRuleset('migbench_t3', { ram: port })).toThrow(MigbenchError);
    expect(() => flowRuleset('migbench_t3', { ram: 4444, disk: port })).toThrow(expect.objectContaining({ code: 'MB_PROBE', message: `not a TCP port: ${port}` }));
  });

  test('ports 1 and 65535 are fine', () => {
    expect(flowRuleset('t', { ram: 1, disk: 65535 })).toContain('tcp dport 1 counter comment "ram"\n    tcp dport 65535 counter comment "disk"');
  });
});

describe(parseFlowCounters, () => {
  test('bytes of both directions, summed by flow', () => {
    expect(parseFlowCounters(COUNTED)).toEqual({ ram: 1156, disk: 804 });
  });

  test('rules of other names, without a comment or without a counter are ignored', () => {
    const json = listing([
      rule('out', 2, 'ram', 4444, 10, 1000),
      rule('out', 3, 'ssh', 22, 99, 99999),
      rule('out', 4, undefined, 80, 99, 88888),
      { rule: { family: 'inet', table: 'migbench_ab12', chain: 'in', handle: 5, comment: 'disk', expr: [{ accept: null }] } },
      rule('in', 6, 'ram', 4444, 1, 52),
    ]);
    expect(parseFlowCounters(json)).toEqual({ ram: 1052 });
  });

  test('zero counters are counted; an empty table or listing counts nothing', () => {
    expect(parseFlowCounters(listing([rule('out', 2, 'ram', 4444, 0, 0), rule('in', 3, 'ram', 4444, 0, 0)]))).toEqual({ ram: 0 });
    expect(parseFlowCounters(listing([]))).toEqual({});
    expect(parseFlowCounters('{}')).toEqual({});
  });
});

describe(FlowCounters, () => {
  test('installs the ruleset through nft -f -, reads it with nft -j, deletes the table', async () => {
    const runner = new RecordingRunner('src', (argv) => (argv[1] === '-j' ? { stdout: COUNTED } : {}));
    const counters = await FlowCounters.install(runner, 'ab12', { ram: 4444, disk: 10809 });
    // A leftover table of the same name is deleted first (its failure is not checked).
    expect(runner.calls).toEqual([
      ['nft', 'delete', 'table', 'inet', 'migbench_ab12'],
      ['nft', '-f', '-'],
    ]);
    expect(runner.options[0]!.check).toBe(false);
    expect(runner.options[1]!.stdin).toBe(RAM_AND_DISK.replaceAll('migbench_t1', 'migbench_ab12'));

    expect(await counters.read()).toEqual({ ram: 1156, disk: 804 });
    expect(runner.calls[2]).toEqual(['nft', '-j', 'list', 'table', 'inet', 'migbench_ab12']);
    expect(runner.options[2]!.stdin).toBeUndefined();

    await counters.remove();
    expect(runner.calls).toEqual([
      ['nft', 'delete', 'table', 'inet', 'migbench_ab12'],
      ['nft', '-f', '-'],
      ['nft', '-j', 'list', 'table', 'inet', 'migbench_ab12'],
      ['nft', 'delete', 'table', 'inet', 'migbench_ab12'],
    ]);
    expect(runner.options.every((o) => o.timeoutMs === 10_000)).toBe(true);
  });

  test('a failing nft is MB_PROBE, naming the host', async () => {
    const runner = new RecordingRunner('lab src (root@10.77.0.11:22)', () => ({ exitCode: 1, stderr: 'Error: Could not process rule: Operation not supported' }));
    const installing = FlowCounters.install(runner, 'ab12', { ram: 4444 });
    await expect(installing).rejects.toBeInstanceOf(MigbenchError);
    await expect(installing).rejects.toMatchObject({
      code: 'MB_PROBE',
      message: expect.stringMatching(/^lab src \(root@10\.77\.0\.11:22\): cannot count flows with nftables: .*Operation not supported/),
      context: { host: 'lab src (root@10.77.0.11:22)' },
      cause: expect.objectContaining({ code: 'MB_COMMAND_FAILED' }),
    });
  });

  test('a bad table id or port is refused before nft runs', async () => {
    const runner = new RecordingRunner('src');
    await expect(FlowCounters.install(runner, 'AB-12', { ram: 4444 })).rejects.toMatchObject({ code: 'MB_PROBE', message: 'bad flow table id AB-12' });
    await expect(FlowCounters.install(runner, 'a'.repeat(25), { ram: 4444 })).rejects.toMatchObject({ code: 'MB_PROBE' });
    // A bad port is migbench's mistake, not the host's: it is not reported as an nft failure.
    await expect(FlowCounters.install(runner, 'ab12', { ram: 0 })).rejects.toMatchObject({ code: 'MB_PROBE', message: 'not a TCP port: 0' });
    expect(runner.calls).toEqual([]);
  });
});
