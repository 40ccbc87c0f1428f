import { describe, expect, test } from 'vitest';
import { throttleProgress } from '../../src/vitest/artifact.js';
import type { LiveProgress } from '../../src/model/progress.js';

describe(throttleProgress, () => {
  test('every new phase goes at once; the share done of one phase at most once per interval', () => {
    const sent: LiveProgress[] = [];
    let t = 0;
    const send = throttleProgress(
      (l) => sent.push(l),
      500,
      () => t,
    );
    send({ phase: 'launchGuest', percent: null });
    send({ phase: 'migrate', percent: null });
    t = 100;
    send({ phase: 'migrate', percent: 10 });
    t = 499;
    send({ phase: 'migrate', percent: 30 });
    t = 500;
    send({ phase: 'migrate', percent: 50 });
    t = 600;
    send({ phase: 'waitForGuestToAnswer', percent: null });
    expect(sent.map((l) => `${l.phase} ${l.percent}`)).toEqual(['launchGuest null', 'migrate null', 'migrate 50', 'waitForGuestToAnswer null']);
  });
});
