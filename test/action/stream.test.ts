import { describe, expect, test } from 'vitest';
import { scenarioGroups } from '../../src/action/stream.js';

describe(scenarioGroups, () => {
  test('lines pass through as they come; each scenario from its first progress line on is one group', () => {
    const out: string[] = [];
    const log = scenarioGroups((l) => out.push(l));
    for (const line of [
      ' RUN  v4.1.12 /work',
      '[1/4] idle-256 base #1: total 731 ms, observed 91 ms, ETA 3 min',
      '     ✓ a/b > memory-migration > idle-256 #1',
      '[2/4] idle-256 head #1: total 702 ms, observed 88 ms, ETA 2 min',
      '[3/4] storage-idle-256 base #1: total 1012 ms, observed 116 ms, ETA 1 min',
      '[4/4] storage-idle-256 head #1: total 1040 ms, observed 120 ms',
    ])
      log.line(line);
    log.end();
    expect(out).toEqual([
      ' RUN  v4.1.12 /work',
      '::group::idle-256',
      '[1/4] idle-256 base #1: total 731 ms, observed 91 ms, ETA 3 min',
      '     ✓ a/b > memory-migration > idle-256 #1',
      '[2/4] idle-256 head #1: total 702 ms, observed 88 ms, ETA 2 min',
      '::endgroup::',
      '::group::storage-idle-256',
      '[3/4] storage-idle-256 base #1: total 1012 ms, observed 116 ms, ETA 1 min',
      '[4/4] storage-idle-256 head #1: total 1040 ms, observed 120 ms',
      '::endgroup::',
    ]);
  });

  test('no progress line, no group; end() twice closes once', () => {
    const out: string[] = [];
    const log = scenarioGroups((l) => out.push(l));
    log.line('migbench: no config');
    log.end();
    log.end();
    expect(out).toEqual(['migbench: no config']);
  });
});
