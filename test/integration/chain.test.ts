// Repetitions migrate one guest back and forth (ping-pong): a chain of samples on the real
// lab, with a failed migration in the middle after which a fresh guest boots. Its dirty-rate
// bound needs an idle machine, so this file runs alone (vitest.config.ts); an A/B run's two
// chains are in ab-chains.test.ts.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { GuestChain } from '../../src/engine/chain.js';
import { runMigration } from '../../src/engine/migration.js';
import { connectTarget, type ConnectedTarget } from '../../src/engine/target.js';
import type { MigrationRecord } from '../../src/generated/results.js';
import type { Scenario } from '../../src/model/scenario.js';
import { expectIntact, scenario } from './helpers.js';

const DIRTY = '{ name: dirty, guest: { memoryMiB: 256 }, workload: { memory: { workingSetMiB: 64, dirtyRateMBps: 32 } }, migration: { kind: memory } }';
/** 32 MB/s of 4 KiB pages. */
const DIRTY_PAGES_PER_SEC = (32 * 1e6) / 4096;

async function vmFolders(target: ConnectedTarget): Promise<string[]> {
  const list = async (host: ConnectedTarget['source']) => {
    const out = await host.runner.run(['ls', '-1', `${host.workDir}/vms`], { check: false });
    return out.ok ? out.stdout.split('\n').filter(Boolean) : [];
  };
  return [...(await list(target.source)), ...(await list(target.destination))];
}

describe('a chain of samples', () => {
  let target: ConnectedTarget;
  let dirty: Scenario;
  const records: MigrationRecord[] = [];
  let leftAfterEnd: string[] = [];

  beforeAll(async () => {
    const { config, scenario: s } = scenario(`      - ${DIRTY}\n`);
    dirty = s;
    target = await connectTarget(config, 'lab');
    const chain = new GuestChain('dirty', { fresh: false, samplesPerBoot: 5 });
    // A migration cut off after 50 ms is cancelled: the guest stays where it was, and the chain boots anew.
    const cancelled: Scenario = { ...dirty, migration: { ...dirty.migration, timeoutMs: 50 } };
    for (const [i, s] of [dirty, dirty, cancelled, dirty, dirty].entries()) {
      records.push(await runMigration(target, { scenario: s, suite: 'it', test: `dirty #${i + 1}`, repetition: i + 1, chain }));
    }
    await chain.end();
    leftAfterEnd = await vmFolders(target);
  }, 300_000);
  afterAll(async () => target?.close());

  test('the second sample migrates the first one back: same guest, hosts swapped, intact', () => {
    const [first, second] = records;
    expectIntact(first!);
    expectIntact(second!);
    expect(first!.chain).toMatchObject({ position: 1, direction: 'out', boot: 'fresh', freshBecause: 'the first sample of its scenario' });
    expect(second!.chain).toMatchObject({ id: first!.chain!.id, position: 2, direction: 'back', boot: 'reused' });
    expect(second!.chain!.freshBecause).toBeUndefined();
    expect(second!.environment.source.host).toBe(first!.environment.destination.host);
    expect(second!.environment.destination.host).toBe(first!.environment.source.host);
    // Its own probes: the reused sample's probe saw the guest from before its own migration on.
    expect(second!.probe!.received).toBeGreaterThan(100);
    expect(second!.heartbeat!.gaps.length).toBeGreaterThan(0);
  });

  test('a failed sample in the middle ends the chain: the next one boots a fresh guest and a new chain goes on', () => {
    const [first, , failed, fresh, again] = records;
    expect(failed!.status).not.toBe('completed');
    expect(failed!.chain).toMatchObject({ id: first!.chain!.id, position: 3, direction: 'out', boot: 'reused' });
    expect(fresh!.chain).toMatchObject({ position: 1, direction: 'out', boot: 'fresh' });
    expect(fresh!.chain!.id).not.toBe(first!.chain!.id);
    expect(fresh!.chain!.freshBecause).toMatch(/^the previous sample failed \(migration (cancelled|failed)\)$/);
    expectIntact(fresh!);
    expect(again!.chain).toMatchObject({ id: fresh!.chain!.id, position: 2, direction: 'back', boot: 'reused' });
    expectIntact(again!);
  });

  test('the dirtying workload keeps its rate from sample to sample', () => {
    const [first, second, , fresh, again] = records.map((r) => r.chain!.dirtyRatePagesPerSec!);
    const rates = `rates ${[first, second, fresh, again].join(', ')} pages/s`;
    // Under TCG the dirtier falls short of its rate over a sample, which spans the
    // migration (first run: 6332-7225 pages/s against 7813 configured). A kept guest's rate
    // is its fresh sample's within 20% (first run: +5% and +14%, kept ones higher).
    for (const rate of [first!, second!, fresh!, again!]) expect(rate / DIRTY_PAGES_PER_SEC, rates).toBeGreaterThan(0.7);
    expect(Math.abs(second! / first! - 1), rates).toBeLessThan(0.2);
    expect(Math.abs(again! / fresh! - 1), rates).toBeLessThan(0.2);
  });

  test('ending the chain leaves nothing on the hosts', () => {
    expect(leftAfterEnd).toEqual([]);
  });
});
