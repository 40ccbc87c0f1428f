// The libvirt integration tests try a migration again only on QEMU < 9's TCG dirty-page
// loss: what that signature is, and that nothing else passes for it.
import { describe, expect, test } from 'vitest';
import { readResults } from '../../src/model/results.js';
import { projectPath } from '../../src/model/paths.js';
import type { MigrationRecord } from '../../src/generated/results.js';
import { isTcgDirtyPageLoss } from '../integration/helpers.js';

const { records } = await readResults(projectPath('fixtures/results/lab-tcg.json'));
const intact = records[0]!;
const libvirt72 = 'libvirt 9.0.0, QEMU 7.2.22';

function record(change: (r: MigrationRecord) => void): MigrationRecord {
  const r = structuredClone(intact);
  r.environment.destination.hypervisorVersion = libvirt72;
  change(r);
  return r;
}

const panicked = (r: MigrationRecord) => {
  r.integrity = { ...r.integrity, guestAlive: false, memoryIntact: false, problem: 'guest kernel panicked on the destination; hypervisor reports the guest as crashed (panicked)' };
};
const damaged = (r: MigrationRecord) => {
  r.integrity = { ...r.integrity, memoryIntact: false, badPages: 3, problem: '3 damaged memory pages' };
};
// As seen in the lab (fixtures/console/destination-scheduling-while-atomic.txt).
const faulted = (r: MigrationRecord) => {
  r.integrity = {
    ...r.integrity,
    guestAlive: false,
    memoryIntact: null,
    problem:
      'guest stopped answering on the destination (probe or heartbeat silent); its console on the destination: "BUG: scheduling while atomic: migbench-agent/102/0x00000000"',
  };
};

// As CI saw once: silent, nothing on the console, the guest's own heartbeat never back.
const stopped = (r: MigrationRecord) => {
  r.integrity = { ...r.integrity, guestAlive: false, memoryIntact: null, problem: 'guest stopped answering on the destination (probe or heartbeat silent)' };
  r.metrics = { ...r.metrics, guestPauseMs: null };
};

describe(isTcgDirtyPageLoss, () => {
  test('a guest that panicked, lost pages or faulted on its console on the destination, under TCG on QEMU < 9, is the known loss', () => {
    expect(isTcgDirtyPageLoss(record(panicked))).toBe(true);
    expect(isTcgDirtyPageLoss(record(damaged))).toBe(true);
    expect(isTcgDirtyPageLoss(record(faulted))).toBe(true);
    expect(isTcgDirtyPageLoss(record(stopped))).toBe(true);
  });

  test.each([
    ['an intact guest', () => undefined],
    ['KVM', (r: MigrationRecord) => (panicked(r), (r.environment.destination.accel = 'kvm'))],
    ['QEMU 9, where the bug is fixed', (r: MigrationRecord) => (panicked(r), (r.environment.destination.hypervisorVersion = 'libvirt 10.0.0, QEMU 9.1.0'))],
    ['a console fault on KVM', (r: MigrationRecord) => (faulted(r), (r.environment.destination.accel = 'kvm'))],
    [
      'a guest only the network lost: silent to the probe, its heartbeat back',
      (r: MigrationRecord) => (r.integrity = { ...r.integrity, guestAlive: false, problem: 'guest stopped answering on the destination (probe or heartbeat silent)' }),
    ],
    [
      'a restarted guest',
      (r: MigrationRecord) =>
        (r.integrity = { ...r.integrity, guestAlive: false, restarted: true, problem: 'guest restarted: its agent started again, so the migrated instance is gone' }),
    ],
    ['a failed migration', (r: MigrationRecord) => (panicked(r), (r.status = 'failed'))],
    ['a guest still on the source', (r: MigrationRecord) => (panicked(r), (r.integrity.location = 'source'), (r.integrity.problem = 'guest kernel panicked on the source'))],
  ])('%s is not, and fails the test', (_what, change) => {
    expect(isTcgDirtyPageLoss(record(change))).toBe(false);
  });
});
