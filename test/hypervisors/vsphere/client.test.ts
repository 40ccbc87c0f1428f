// TaskInfo as fast-xml-parser hands it over: text where vim25 sends text, objects where an
// element has children or attributes (which is how odd input reaches the translation).
import { describe, expect, test } from 'vitest';
import { toTaskInfo } from '../../../src/hypervisors/vsphere/client.js';

describe(toTaskInfo, () => {
  test('state, progress, times and the fault, translated once', () => {
    expect(toTaskInfo({ state: 'success', progress: 100, startTime: '2026-12-04T14:00:00.000Z', completeTime: '2026-12-04T14:00:07.250Z' })).toEqual({
      state: 'success',
      progress: 100,
      startedAtMs: Date.UTC(2026, 11, 4, 14),
      completedAtMs: Date.UTC(2026, 11, 4, 14, 0, 7, 250),
      error: null,
    });
    expect(toTaskInfo({ state: 'error', error: { fault: { '@xsitype': 'InvalidState' }, localizedMessage: 'The operation is not allowed in the current state.' } }).error).toBe(
      'InvalidState: The operation is not allowed in the current state.',
    );
  });

  test('elements that arrive as objects are not words: no crash, no "[object Object]"', () => {
    const odd = toTaskInfo({ state: { toString: 1 }, progress: { '#text': '5' }, error: { fault: { '@xsitype': { toString: 1 } }, localizedMessage: { a: 1 } } });
    expect(odd).toEqual({ state: 'error', progress: null, startedAtMs: null, completedAtMs: null, error: 'unknown fault' });
    expect(toTaskInfo({ state: 'running', progress: 'x' })).toMatchObject({ state: 'running', progress: null });
  });
});
