// Why a disk mirror failed, from the events QEMU 7.2 sends (shapes as in qapi/block-core.json).
import { describe, expect, test } from 'vitest';
import { mirrorFailure } from '../../../src/hypervisors/qemu/mirror.js';

const at = (event: string, data: Record<string, unknown>) => ({ event, data, epochMs: 1 });

describe(mirrorFailure, () => {
  test("QEMU's error text, and whose I/O failed", () => {
    const full = [
      at('BLOCK_JOB_ERROR', { device: 'migbench-mirror', operation: 'write', action: 'report' }),
      at('BLOCK_JOB_COMPLETED', { type: 'mirror', device: 'migbench-mirror', len: 268435456, offset: 25165824, speed: 0, error: 'No space left on device' }),
    ];
    expect(mirrorFailure(full)).toBe('No space left on device (writing to the destination)');
    expect(mirrorFailure([at('BLOCK_JOB_ERROR', { device: 'migbench-mirror', operation: 'read', action: 'report' })])).toBe('BLOCK_JOB_ERROR (reading the source disk)');
    expect(mirrorFailure([at('BLOCK_JOB_COMPLETED', { type: 'mirror', device: 'migbench-mirror', len: 1, offset: 0, speed: 0, error: 'Input/output error' })])).toBe(
      'Input/output error',
    );
    expect(mirrorFailure([at('BLOCK_JOB_COMPLETED', { type: 'mirror', device: 'migbench-mirror', len: 1, offset: 1, speed: 0 })])).toBe('the job ended before it was ready');
  });
});
