import { describe, expect, test } from 'vitest';
import { MigbenchError } from '../../src/model/errors.js';
import { shapeLink, shapingArgv } from '../../src/lab/shaping.js';
import { FakeRunner } from '../fakes/runner.js';

const burstOf = (argv: readonly string[] | null) => Number(argv![argv!.indexOf('burst') + 1]);

describe(shapingArgv, () => {
  test('bandwidth only: a token bucket', () => {
    expect(shapingArgv('mig0', { bandwidthMbps: 100 })).toEqual(['tc', 'qdisc', 'replace', 'dev', 'mig0', 'root', 'tbf', 'rate', '100mbit', 'burst', '67050', 'latency', '50ms']);
    expect(shapingArgv('mig0', { bandwidthMbps: 1000, delayMs: 0 })).toEqual([
      'tc',
      'qdisc',
      'replace',
      'dev',
      'mig0',
      'root',
      'tbf',
      'rate',
      '1000mbit',
      'burst',
      '250000',
      'latency',
      '50ms',
    ]);
  });

  test('the bucket holds a 64 KiB segment at least, and 2 ms of traffic as the rate grows', () => {
    const rates = [1, 10, 100, 268, 269, 1000, 10000, 400000];
    const bursts = rates.map((bandwidthMbps) => burstOf(shapingArgv('mig0', { bandwidthMbps })));
    expect(bursts).toEqual([67050, 67050, 67050, 67050, 67250, 250000, 2500000, 100000000]);
    for (const burst of bursts) expect(burst).toBeGreaterThanOrEqual(65536 + 1514);
    for (let i = 1; i < bursts.length; i++) expect(bursts[i]!).toBeGreaterThanOrEqual(bursts[i - 1]!);
    expect(burstOf(shapingArgv('mig0', { bandwidthMbps: 0.5 }))).toBe(67050);
    expect(burstOf(shapingArgv('mig0', { bandwidthMbps: 1000.001 }))).toBe(250001);
  });

  test('a delay: netem, with the rate when a bandwidth is given too', () => {
    expect(shapingArgv('mig0', { delayMs: 10 })).toEqual(['tc', 'qdisc', 'replace', 'dev', 'mig0', 'root', 'netem', 'delay', '10ms', 'limit', '100000']);
    expect(shapingArgv('veth-src.1', { delayMs: 2.5, bandwidthMbps: 100 })).toEqual([
      'tc',
      'qdisc',
      'replace',
      'dev',
      'veth-src.1',
      'root',
      'netem',
      'delay',
      '2.5ms',
      'rate',
      '100mbit',
      'limit',
      '100000',
    ]);
  });

  test('nothing to shape: null', () => {
    expect(shapingArgv('mig0', {})).toBeNull();
    expect(shapingArgv('mig0', { delayMs: 0 })).toBeNull();
  });

  test.each(['', 'eth0; reboot', 'a b', 'sixteen-chars-xx', 'eth/0', '$(x)'])('interface name %j is refused', (iface) => {
    expect(() => shapingArgv(iface, { bandwidthMbps: 100 })).toThrow(MigbenchError);
    expect(() => shapingArgv(iface, {})).toThrow(expect.objectContaining({ code: 'MB_LAB', message: `not an interface name: ${JSON.stringify(iface)}` }));
  });

  test('fifteen characters are a valid interface name', () => {
    expect(shapingArgv('fifteen-chars-x', { delayMs: 1 })![4]).toBe('fifteen-chars-x');
  });
});

describe(shapeLink, () => {
  test('shapes the interface and returns the undo: delete the root qdisc', async () => {
    const runner = new FakeRunner('lab src');
    const undo = await shapeLink(runner, 'mig0', { bandwidthMbps: 100, delayMs: 5 });
    expect(runner.calls).toEqual([['tc', 'qdisc', 'replace', 'dev', 'mig0', 'root', 'netem', 'delay', '5ms', 'rate', '100mbit', 'limit', '100000']]);
    await undo();
    expect(runner.calls).toEqual([
      ['tc', 'qdisc', 'replace', 'dev', 'mig0', 'root', 'netem', 'delay', '5ms', 'rate', '100mbit', 'limit', '100000'],
      ['tc', 'qdisc', 'del', 'dev', 'mig0', 'root'],
    ]);
  });

  test('nothing to shape: no command, and the undo does nothing', async () => {
    const runner = new FakeRunner('lab src');
    const undo = await shapeLink(runner, 'mig0', {});
    await undo();
    expect(runner.calls).toEqual([]);
  });

  test('a kernel without netem: MB_LAB saying so', async () => {
    const runner = new FakeRunner('lab dst', () => ({ exitCode: 2, stderr: 'Error: Specified qdisc kind is unknown.' }));
    const shaping = shapeLink(runner, 'mig0', { delayMs: 20 });
    await expect(shaping).rejects.toBeInstanceOf(MigbenchError);
    await expect(shaping).rejects.toMatchObject({
      code: 'MB_LAB',
      message: 'lab dst: cannot add 20 ms delay on mig0: this kernel has no netem qdisc (CONFIG_NET_SCH_NETEM); bandwidth shaping alone works',
      context: { host: 'lab dst', command: 'tc qdisc replace dev mig0 root netem delay 20ms limit 100000' },
      cause: expect.objectContaining({ code: 'MB_COMMAND_FAILED' }),
    });
    expect(runner.calls).toHaveLength(1);
  });

  test('other failures say what tc said', async () => {
    const runner = new FakeRunner('lab src', () => ({ exitCode: 1, stderr: 'Cannot find device "mig9"' }));
    await expect(shapeLink(runner, 'mig9', { bandwidthMbps: 100 })).rejects.toMatchObject({
      code: 'MB_LAB',
      message: expect.stringMatching(
        /^lab src: cannot shape mig9: lab src: `tc qdisc replace dev mig9 root tbf rate 100mbit burst 67050 latency 50ms` exited with status 1: Cannot find device "mig9"$/,
      ),
    });
    // "unknown" from a token bucket is not about netem.
    const tbf = new FakeRunner('lab src', () => ({ exitCode: 2, stderr: 'Error: Specified qdisc kind is unknown.' }));
    await expect(shapeLink(tbf, 'mig0', { bandwidthMbps: 100 })).rejects.toMatchObject({
      code: 'MB_LAB',
      message: expect.stringMatching(/^lab src: cannot shape mig0: .*qdisc kind is unknown/),
    });
  });
});
