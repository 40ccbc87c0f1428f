import { describe, expect, test } from 'vitest';
import { parsePingLine, parseProbeLine } from '../../src/probes/icmp.js';

describe(parseProbeLine, () => {
  test('replies and the closing totals of migbench-probe', () => {
    expect(parseProbeLine('R 17 1795602417824495000 1795602417824912000')).toEqual({ reply: { seq: 17, sentMs: 1795602417824.495, atMs: 1795602417824.912 } });
    expect(parseProbeLine('E 1709 1702')).toEqual({ totals: { sent: 1709, received: 1702 } });
    expect(parseProbeLine('migbench-probe: SCHED_FIFO not granted')).toBeNull();
  });
});

describe(parsePingLine, () => {
  test('iputils ping -D replies and summary', () => {
    expect(parsePingLine('[1795602417.824495] 64 bytes from 10.77.0.100: icmp_seq=7 ttl=64 time=0.212 ms', null)).toEqual({
      reply: { seq: 7, sentMs: null, atMs: 1795602417824.495 },
    });
    expect(parsePingLine('1520 packets transmitted, 1517 received, 0.197368% packet loss, time 3045ms', 7)).toEqual({ totals: { sent: 1520, received: 1517 } });
    expect(parsePingLine('PING 10.77.0.100 (10.77.0.100) 56(84) bytes of data.', null)).toBeNull();
  });

  test('icmp_seq wraps at 65536 and is unwrapped, even when replies arrive out of order', () => {
    const line = (seq: number) => `[1.000001] 64 bytes from 10.0.0.1: icmp_seq=${seq} ttl=64 time=0.1 ms`;
    const seqOf = (seq: number, previous: number | null) => (parsePingLine(line(seq), previous) as { reply: { seq: number } }).reply.seq;
    expect(seqOf(0, 65535)).toBe(65536);
    expect(seqOf(5, 65540)).toBe(65541);
    expect(seqOf(65535, 65537)).toBe(65535);
    expect(seqOf(4, 131075)).toBe(131076);
  });
});
