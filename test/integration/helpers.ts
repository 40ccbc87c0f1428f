// Shared by the integration tests: a config with one lab scenario, the lab target, and
// what runs in this worker's lab.
import { readdir, readlink, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { LocalRunner } from '../../src/exec/local.js';
import { alive } from '../../src/lab/processes.js';
import { labName } from '../../src/model/paths.js';
import { expect } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { resolveScenarios } from '../../src/config/scenarios.js';
import type { MigbenchConfig } from '../../src/generated/config.js';
import type { Scenario } from '../../src/model/scenario.js';
import type { MigrationRecord } from '../../src/generated/results.js';

export function labConfig(scenarios: string): MigbenchConfig {
  return parseConfig(`suites:\n  it:\n    scenarios:\n${scenarios}`, 'integration-test.yaml');
}

export function scenario(yaml: string): { config: MigbenchConfig; scenario: Scenario } {
  const config = labConfig(yaml);
  return { config, scenario: resolveScenarios(config, 'it')[0]! };
}

/**
 * QEMU < 9.0 under TCG loses pages dirtied after a dirty-bitmap sync when guest RAM is a
 * multiple of 256 KiB, and libvirt rounds RAM to whole MiB, so the QEMU driver's padding
 * cannot be applied: now and then (5 of 20 idle migrations in the lab, each with 4 passes
 * where intact ones had 3) the guest arrives with lost pages and fails on the destination.
 * migbench reports that (that is the point); these tests are about the driver, so they try
 * again on that signature only: a completed migration under TCG on QEMU < 9 whose guest on
 * the destination has damaged pages, panicked (as QEMU reports it; libvirt 9.0 here has no
 * pvpanic the guest finds, so for libvirt the panic shows on the console), whose console
 * there shows it failing (a panic, an oops, a kernel BUG, the agent's segfault:
 * fixtures/console), or whose own heartbeat never came back there (the guest's program
 * stopped inside it, as in all 5 losses measured; CI also saw one that printed nothing).
 * Any other loss (only the network silent, restarted, failed, KVM, QEMU 9) fails the test.
 */
export function isTcgDirtyPageLoss(record: MigrationRecord): boolean {
  const qemuMajor = Number(/QEMU (\d+)\./.exec(record.environment.destination.hypervisorVersion)?.[1] ?? NaN);
  const problem = record.integrity.problem ?? '';
  // An open heartbeat gap to the end gives no guest pause.
  const heartbeatNeverBack = record.heartbeat !== null && record.metrics.guestPauseMs === null;
  const damage = /guest kernel panicked on the destination|its console on the destination: /.test(problem) || (record.integrity.badPages ?? 0) > 0 || heartbeatNeverBack;
  return record.status === 'completed' && record.integrity.location === 'destination' && record.environment.destination.accel === 'tcg' && qemuMajor < 9 && damage;
}

/**
 * Running QEMUs of this worker's lab: every QEMU on the machine but those in another lab's
 * namespaces (the tests run one lab per worker). A QEMU whose namespace was deleted under it
 * counts: the lab left it behind. Exited ones this machine's PID 1 has not reaped do not.
 */
export async function labQemuPids(): Promise<number[]> {
  const out = await new LocalRunner().run(['pgrep', '-x', 'qemu-system-x86'], { check: false });
  const own = `${labName()}-`;
  const otherLabs = new Set<number>();
  for (const name of await readdir('/run/netns').catch(() => [] as string[])) {
    if (!name.startsWith(own)) otherLabs.add((await stat(join('/run/netns', name)).catch(() => ({ ino: -1 }))).ino);
  }
  const pids: number[] = [];
  for (const pid of out.stdout.split(/\s+/).filter(Boolean).map(Number).filter(alive)) {
    const netns = Number(/\[(\d+)\]/.exec(await readlink(`/proc/${pid}/ns/net`).catch(() => ''))?.[1] ?? NaN);
    if (!otherLabs.has(netns)) pids.push(pid);
  }
  return pids;
}

/** A completed migration whose guest arrived whole: memory verified, not restarted, no problem named. */
export function expectIntact(record: MigrationRecord): void {
  expect(record.status, record.error?.message).toBe('completed');
  expect(record.integrity.problem).toBeNull();
  expect(record.integrity.memoryIntact).toBe(true);
  expect(record.integrity.restarted).toBe(false);
}
