import { describe, expect, test } from 'vitest';
import { EXIT, runExitCode } from '../../src/model/exit.js';
import type { MigrationRecord } from '../../src/generated/results.js';

function record(status: MigrationRecord['status'], code?: string): MigrationRecord {
  return { status, error: code ? { code, message: code } : null } as unknown as MigrationRecord;
}

describe(runExitCode, () => {
  test('no failed test: ok, whatever the records hold (a cancelled matrix point is a result)', () => {
    expect(runExitCode(0, [record('completed'), record('cancelled', 'MB_TIMEOUT')])).toBe(EXIT.ok);
  });

  test('a failed assertion on a measured migration, or a migration that failed: 1', () => {
    expect(runExitCode(1, [record('completed')])).toBe(EXIT.failed);
    expect(runExitCode(1, [record('failed', 'MB_MIGRATION')])).toBe(EXIT.failed);
    expect(runExitCode(1, [record('failed', 'MB_QMP_ERROR')])).toBe(EXIT.failed);
  });

  test('every failure a host that could not be reached or a lab that failed: 3', () => {
    expect(runExitCode(1, [record('failed', 'MB_SSH_CONNECT')])).toBe(EXIT.infrastructure);
    expect(runExitCode(2, [record('failed', 'MB_SSH_LOST'), record('failed', 'MB_LAB'), record('completed')])).toBe(EXIT.infrastructure);
  });

  test('infrastructure beside a real failure, or more failed tests than infrastructure records: 1', () => {
    expect(runExitCode(2, [record('failed', 'MB_SSH_CONNECT'), record('failed', 'MB_MIGRATION')])).toBe(EXIT.failed);
    expect(runExitCode(2, [record('failed', 'MB_SSH_CONNECT'), record('completed')])).toBe(EXIT.failed);
  });
});
