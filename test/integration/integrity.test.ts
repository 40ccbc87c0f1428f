// The integrity check can fail, and does when migration damages a guest.
// - On every accelerator and QEMU version: a page damaged on purpose on the destination
//   (the agent's `corrupt N`; QEMU's monitor reads guest memory but cannot write it) is
//   reported, the page named. storage.test.ts does the same for a disk block, through
//   QEMU's own qemu-io.
// - Where the hypervisor really loses pages: QEMU before 9.0 under TCG loses pages written
//   after a dirty-bitmap sync (fixed upstream by 03bfc2188f, "physmem: Fix migration dirty
//   bitmap coherency with TCG memory access"). With migbench's workaround off, migbench must
//   report that, not "intact"; elsewhere that test is skipped, never turned into "intact".
//   With the workaround on (the default), the same migration must arrive intact.
import { describe, expect, test } from 'vitest';
import { runMigration } from '../../src/engine/migration.js';
import { parseConfig } from '../../src/config/load.js';
import { connectTarget } from '../../src/engine/target.js';
import { scenario } from './helpers.js';

function affectedByLostDirtyPages(version: string, accel: string): boolean {
  const m = /QEMU (\d+)\.(\d+)/.exec(version);
  return accel === 'tcg' && m !== null && Number(m[1]) < 9;
}

const MULTIPASS =
  '      - { name: multipass, guest: { memoryMiB: 256, diskMiB: 0, diskDataMiB: 0 }, workload: { memory: { workingSetMiB: 64, dirtyRateMBps: 8 } }, migration: { kind: memory, maxBandwidthMiBps: 32 }, probe: { settleTimeoutMs: 5000 } }\n';

async function migrate(workaround: boolean) {
  const { scenario: multipass } = scenario(MULTIPASS);
  const config = parseConfig(
    `targets:\n  lab:\n    hypervisor: qemu\n    qemu: { tcgDirtyBitmapWorkaround: ${workaround} }\nsuites:\n  it:\n    scenarios:\n${MULTIPASS}`,
    'integrity.yaml',
  );
  const target = await connectTarget(config, 'lab');
  try {
    return await runMigration(target, { scenario: multipass, suite: 'it', test: 'multipass', repetition: 1 });
  } finally {
    await target.close();
  }
}

describe('a page damaged on purpose after the migration, on any accelerator', () => {
  test('is reported, with the page named; the guest is alive where it went', async () => {
    const { config, scenario: small } = scenario(
      '      - { name: damaged, guest: { memoryMiB: 256, diskMiB: 0, diskDataMiB: 0 }, workload: { memory: { workingSetMiB: 16, dirtyRateMBps: 4 } }, migration: { kind: memory } }\n',
    );
    const target = await connectTarget(config, 'lab');
    let sent = false;
    try {
      const record = await runMigration(target, {
        scenario: small,
        suite: 'it',
        test: 'damaged',
        repetition: 1,
        // Page 1234 of the static pattern (16 MiB: pages 0–4095), which no workload rewrites.
        afterMigration: async (_guest, agent) => {
          agent!.send('corrupt 1234');
          sent = true;
        },
      });
      expect(sent).toBe(true);
      expect(record.status).toBe('completed');
      expect(record.integrity).toMatchObject({ location: 'destination', guestAlive: true, memoryIntact: false, badPages: 1, firstBadPage: 1234 });
      expect(record.integrity.problem).toBe('1 damaged memory pages (first: page 1234)');
      expect(record).not.toKeepGuestIntact();
    } finally {
      await target.close();
    }
  });
});

describe('a guest dirtying memory through a multi-pass migration', () => {
  test('without the workaround: reported damaged where the hypervisor is known to lose dirty pages', { timeout: 200_000 }, async (ctx) => {
    // The loss is a race: most runs damage the guest (5 of 5, then 3 of 3, then 1 of 2 in
    // CI), some do not. So up to three tries, and at least one must be reported damaged;
    // a run reported intact must have verified every page.
    const reported: string[] = [];
    for (let attempt = 1; attempt <= 3; attempt++) {
      const record = await migrate(false);
      expect(record.status).toBe('completed');
      expect(record.metrics.iterations!).toBeGreaterThan(3);
      expect(record.workarounds).toEqual([]);
      const env = record.environment.destination;
      // Elsewhere there is no loss to see: skipped, and said so (the test above proves damage is reported there).
      if (!affectedByLostDirtyPages(env.hypervisorVersion, env.accel)) ctx.skip(`${env.hypervisorVersion} on ${env.accel} does not lose dirty pages`);
      const intact = record.integrity.guestAlive && record.integrity.memoryIntact === true;
      reported.push(intact ? `intact (${record.integrity.pagesChecked} pages verified)` : (record.integrity.problem ?? 'not intact'));
      if (intact) {
        expect(record.integrity.badPages).toBe(0);
        continue;
      }
      expect(record).not.toKeepGuestIntact();
      // Damaged memory shows as bad pages, a panic, or a guest that hangs and cannot be
      // asked (memoryIntact null: unverified); never as verified intact.
      expect(record.integrity.memoryIntact).not.toBe(true);
      expect(record.integrity.problem).toMatch(/panicked|restarted|damaged|stopped answering/);
      console.info(`without the workaround, attempt ${attempt}: ${reported.join('; ')}`);
      return;
    }
    expect.fail(`three migrations without the workaround, none reported damaged: ${reported.join('; ')}`);
  });

  test('with the workaround (the default): intact, and the record says what was changed', async () => {
    const record = await migrate(true);
    expect(record.metrics.iterations!).toBeGreaterThan(3);
    expect(record).toKeepGuestIntact();
    const env = record.environment.destination;
    if (affectedByLostDirtyPages(env.hypervisorVersion, env.accel)) expect(record.workarounds).toEqual([expect.stringMatching(/guest RAM padded by 8 KiB.*03bfc2188f/)]);
  });
});
