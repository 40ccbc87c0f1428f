import { describe, expect, test } from 'vitest';
import { cleanupFailures, CommandError, runCleanups } from '../../src/model/errors.js';

const lost = () =>
  Promise.reject(new CommandError('MB_SSH_LOST', { host: 'lab src', argv: ['cat', '/proc/1/stat'], exitCode: null, signal: null, stderr: '', reason: 'lost its SSH connection' }));

describe(cleanupFailures, () => {
  test('runs every cleanup and names the innermost step that failed, with its code', async () => {
    const ran: string[] = [];
    const failures = await cleanupFailures([
      ['stop the probe', async () => void ran.push('probe')],
      ['destroy guest mb1', () => runCleanups([['tear down the source of mb1', () => runCleanups([['stop source QEMU of mb1', lost]])]])],
      ['last', async () => void ran.push('last')],
    ]);
    expect(ran).toEqual(['probe', 'last']);
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({
      code: 'MB_CLEANUP',
      context: { step: 'stop source QEMU of mb1', causeCode: 'MB_SSH_LOST' },
      message:
        'cleanup "destroy guest mb1" failed: cleanup "tear down the source of mb1" failed: cleanup "stop source QEMU of mb1" failed: lab src: `cat /proc/1/stat` lost its SSH connection',
    });
  });

  test('concurrent cleanups that fail together: the first names the step', async () => {
    const failures = await cleanupFailures([
      [
        'destroy guest mb2',
        () =>
          runCleanups(
            [
              ['a', lost],
              ['b', () => Promise.reject(new Error('plain'))],
            ],
            undefined,
            { concurrently: true },
          ),
      ],
    ]);
    expect(failures[0]!.context).toEqual({ step: 'a', causeCode: 'MB_SSH_LOST' });
  });
});
