import { describe, expect, test } from 'vitest';
import { parseAgentLine } from '../../src/probes/agent.js';

describe(parseAgentLine, () => {
  test('heartbeat, verification, dirtier stats and start-up lines as migbench-probe tap prints them', () => {
    expect(parseAgentLine('1795602417824495000 H 4172 6408912', 'source')).toEqual({
      kind: 'heartbeat',
      value: { seq: 4172, guestUs: 6408912, atMs: 1795602417824.495, side: 'source' },
    });
    expect(parseAgentLine('1795602417824495000 V 9000 20480 0 112', 'destination')).toMatchObject({
      kind: 'verification',
      value: { startSeq: 9000, pagesChecked: 20480, badPages: 0, passMs: 112, side: 'destination' },
    });
    expect(parseAgentLine('1795602417824495000 D 8000 65536 2', 'source')).toMatchObject({ kind: 'stats', value: { pagesDirtied: 65536, badPages: 2 } });
    expect(parseAgentLine('1795602417824495000 I boot_id=0f3a hb_ms=1 ws_mib=64', 'source')).toMatchObject({ kind: 'info', params: { boot_id: '0f3a', hb_ms: '1', ws_mib: '64' } });
    expect(parseAgentLine('# connected', 'source')).toEqual({ kind: 'connected' });
    expect(parseAgentLine('# eof', 'source')).toEqual({ kind: 'eof' });
  });

  test('ignores what it does not know (half lines, noise)', () => {
    expect(parseAgentLine('1795602417824495000 H 12', 'source')).toBeNull();
    expect(parseAgentLine('hello', 'source')).toBeNull();
    expect(parseAgentLine('1795602417824495000 Z 1 2', 'source')).toBeNull();
  });
});
