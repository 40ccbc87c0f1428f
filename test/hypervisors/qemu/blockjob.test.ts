import { describe, expect, test } from 'vitest';
import { parseBlockJob } from '../../../src/hypervisors/qemu/translate.js';

describe(parseBlockJob, () => {
  test('a ready mirror in query-block-jobs (QEMU 7.2): the job id is in "device"', () => {
    const reply = [
      {
        'auto-finalize': true,
        'io-status': 'ok',
        device: 'mbmirror',
        'auto-dismiss': true,
        busy: false,
        len: 268435456,
        offset: 268435456,
        status: 'ready',
        paused: false,
        speed: 0,
        ready: true,
        type: 'mirror',
      },
    ];
    expect(parseBlockJob(reply[0])).toEqual({ jobId: 'mbmirror', lenBytes: 268435456, offsetBytes: 268435456, ready: true, error: null });
  });

  test('a mirror still copying', () => {
    const job = {
      'auto-finalize': true,
      'io-status': 'ok',
      device: 'mbmirror',
      'auto-dismiss': true,
      busy: true,
      len: 268435456,
      offset: 67108864,
      status: 'running',
      paused: false,
      speed: 0,
      ready: false,
      type: 'mirror',
    };
    expect(parseBlockJob(job)).toEqual({ jobId: 'mbmirror', lenBytes: 268435456, offsetBytes: 67108864, ready: false, error: null });
  });

  test('BLOCK_JOB_COMPLETED data: no ready flag', () => {
    const event = {
      event: 'BLOCK_JOB_COMPLETED',
      data: { device: 'mbmirror', len: 268500992, offset: 268500992, speed: 0, type: 'mirror' },
      timestamp: { seconds: 1795602417, microseconds: 824495 },
    };
    expect(parseBlockJob(event.data)).toEqual({ jobId: 'mbmirror', lenBytes: 268500992, offsetBytes: 268500992, ready: null, error: null });
  });

  test('BLOCK_JOB_COMPLETED with an error', () => {
    const data = { device: 'mbmirror', len: 268435456, offset: 1048576, speed: 0, type: 'mirror', error: 'Input/output error' };
    expect(parseBlockJob(data)).toEqual({ jobId: 'mbmirror', lenBytes: 268435456, offsetBytes: 1048576, ready: null, error: 'Input/output error' });
  });

  test('query-jobs style "id" when there is no "device"', () => {
    expect(parseBlockJob({ id: 'mbmirror', type: 'mirror', status: 'concluded', 'current-progress': 5, 'total-progress': 5 }).jobId).toBe('mbmirror');
    expect(parseBlockJob({ device: 'mbmirror', id: 'other' }).jobId).toBe('mbmirror');
  });

  test('missing, mistyped and non-finite fields are null', () => {
    const empty = { jobId: null, lenBytes: null, offsetBytes: null, ready: null, error: null };
    expect(parseBlockJob(undefined)).toEqual(empty);
    expect(parseBlockJob(null)).toEqual(empty);
    expect(parseBlockJob([{ device: 'mbmirror' }])).toEqual(empty);
    expect(parseBlockJob('mbmirror')).toEqual(empty);
    expect(parseBlockJob({ device: 7, len: '268435456', offset: Number.NaN, ready: 'yes', error: { desc: 'x' } })).toEqual(empty);
    expect(parseBlockJob({ device: 'mbmirror', len: Number.POSITIVE_INFINITY, offset: 0 })).toEqual({ ...empty, jobId: 'mbmirror', offsetBytes: 0 });
  });
});
