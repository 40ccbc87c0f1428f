// An A/B run's two chains of samples on the real lab: each side keeps its own guest at its
// own address while the other waits paused, for the samples a boot gives.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { GuestChain } from '../../src/engine/chain.js';
import { runMigration } from '../../src/engine/migration.js';
import { connectTarget, type ConnectedTarget } from '../../src/engine/target.js';
import type { MigrationRecord } from '../../src/generated/results.js';
import { expectIntact, scenario } from './helpers.js';

describe('an A/B run: two chains at once', () => {
  let target: ConnectedTarget;
  const records: Record<'base' | 'head', MigrationRecord[]> = { base: [], head: [] };

  beforeAll(async () => {
    const { config, scenario: idle } = scenario(`      - { name: idle, guest: { memoryMiB: 256 }, migration: { kind: memory }, samplesPerBoot: 2 }\n`);
    target = await connectTarget(config, 'lab');
    const chains = { base: new GuestChain('base idle', idle), head: new GuestChain('head idle', idle) };
    try {
      for (let i = 1; i <= 3; i++) {
        for (const variant of ['base', 'head'] as const) {
          records[variant].push(await runMigration(target, { scenario: idle, suite: 'it', test: `idle #${i} ${variant}`, repetition: i, variant, chain: chains[variant] }));
        }
      }
    } finally {
      await chains.base.end();
      await chains.head.end();
    }
  }, 300_000);
  afterAll(async () => target?.close());

  test('each side keeps its own guest at its own address, for the samples a boot gives', () => {
    for (const variant of ['base', 'head'] as const) {
      const [first, second, third] = records[variant];
      expectIntact(first!);
      expectIntact(second!);
      expectIntact(third!);
      expect(second!.chain).toMatchObject({ id: first!.chain!.id, position: 2, boot: 'reused' });
      expect(second!.probe!.target).toBe(first!.probe!.target);
      // samplesPerBoot: 2, so the third boots its own guest.
      expect(third!.chain).toMatchObject({ position: 1, boot: 'fresh', freshBecause: 'the guest gave the 2 samples a boot gives (samplesPerBoot)' });
      expect(third!.chain!.id).not.toBe(first!.chain!.id);
    }
    expect(records.base[0]!.chain!.id).not.toBe(records.head[0]!.chain!.id);
    expect(records.base[0]!.probe!.target).not.toBe(records.head[0]!.probe!.target);
  });
});
