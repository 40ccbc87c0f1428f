// The ESXi-side readings (src/hypervisors/vsphere/esxi.ts) on generated input: vmware.log and esxcli
// text of any kind, and datastore paths of any kind. Figures finite and non-negative or
// null; what ESXi prints round-trips; a path is a path or a MigbenchError.
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { datastoreFile, datastoreName, parseNicStats, parseStunMs } from '../../src/hypervisors/vsphere/esxi.js';
import { mutatedText, oddString, RUNS, TIMEOUT, valueOrTypedError } from './arbitraries.js';

// The layouts of test/hypervisors/vsphere/esxi.test.ts (vmware.log's stun line; esxcli as VMware documents it).
const LOG = [
  '2026-12-04T14:00:01.000Z| vmx| I005: Checkpoint_Unstun: vm stopped for 12000 us',
  '2026-12-04T14:00:05.000Z| vmx| I005: MigrateSetState: Transitioning from state 12 to 0.',
  '2026-12-04T14:00:09.000Z| vmx| I005: Checkpoint_Unstun: vm stopped for 401234 us',
  'vmx 2026/12/04 Checkpoint_Unstun: vm stopped for 5000 us',
].join('\n');
const NIC = [
  'NIC statistics for vmnic1',
  '   Packets received: 9151',
  '   Packets sent: 183040',
  '   Bytes received: 611332',
  '   Bytes sent: 271829015',
  '   Receive packets dropped: 0',
  '   Transmit packets dropped: 0',
  '   Multicast packets received: 12',
  '',
].join('\n');

const since = fc.oneof(fc.constant(-Infinity), fc.integer({ min: Date.UTC(2026, 11, 4, 13), max: Date.UTC(2026, 11, 4, 15) }), fc.double({ noNaN: true }));
const stamp = fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2100, 0, 1) });

describe(parseStunMs, () => {
  test(
    'any log text: a finite, non-negative stun in ms, or null',
    () => {
      fc.assert(
        fc.property(fc.oneof({ arbitrary: mutatedText(LOG, { max: 5 }), weight: 3 }, oddString), since, (log, sinceMs) => {
          const stun = parseStunMs(log, sinceMs);
          if (stun === null) return;
          expect(Number.isFinite(stun) && stun >= 0, String(stun)).toBe(true);
        }),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );

  test(
    'a stun of any number of digits: finite, or null',
    () => {
      // stringMatching keeps repetitions short: the long runs are built.
      const digits = fc.oneof(
        fc.stringMatching(/^[0-9]{1,400}$/),
        fc.tuple(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 290, max: 400 })).map(([d, n]) => String(d).repeat(n)),
      );
      fc.assert(
        fc.property(digits, fc.boolean(), (us, earlier) => {
          const log = `${earlier ? `${LOG}\n` : ''}2026-12-04T14:00:10.000Z| vmx| I005: Checkpoint_Unstun: vm stopped for ${us} us`;
          const stun = parseStunMs(log);
          expect(stun === null || Number.isFinite(stun), String(stun)).toBe(true);
          if (us.length < 300) expect(stun).toBe(Number(us) / 1000);
        }),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );

  test(
    'the last stun stamped at or after the start, as ESXi logged it',
    () => {
      const line = fc.record({ at: fc.option(stamp, { nil: null }), us: fc.maxSafeNat(), unstun: fc.boolean() });
      fc.assert(
        fc.property(fc.array(line, { maxLength: 12 }), stamp, (lines, sinceMs) => {
          const log = lines
            .map(
              (l) =>
                `${l.at === null ? 'vmx' : new Date(l.at).toISOString()}| vmx| I005: ${l.unstun ? `Checkpoint_Unstun: vm stopped for ${l.us} us` : `MigrateSetState: ${l.us}`}`,
            )
            .join('\n');
          const expected = lines.filter((l) => l.unstun && (l.at === null || l.at >= sinceMs)).at(-1);
          expect(parseStunMs(log, sinceMs)).toBe(expected ? expected.us / 1000 : null);
        }),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );
});

describe(parseNicStats, () => {
  test(
    'any esxcli text: four finite, non-negative integers, or null',
    () => {
      fc.assert(
        fc.property(fc.oneof({ arbitrary: mutatedText(NIC, { max: 5 }), weight: 3 }, oddString), (text) => {
          const c = parseNicStats(text);
          if (c === null) return;
          for (const v of [c.rxBytes, c.txBytes, c.rxPackets, c.txPackets]) expect(Number.isFinite(v) && Number.isInteger(v) && v >= 0, String(v)).toBe(true);
        }),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );

  test(
    'counters as esxcli prints them round-trip, in any order among the other lines',
    () => {
      const labels = ['Packets received', 'Packets sent', 'Bytes received', 'Bytes sent'] as const;
      const others = NIC.split('\n').filter((l) => !labels.some((label) => l.trim().startsWith(`${label}:`)));
      fc.assert(
        fc.property(fc.tuple(fc.maxSafeNat(), fc.maxSafeNat(), fc.maxSafeNat(), fc.maxSafeNat()), fc.nat(), (values, seed) => {
          const lines = [...others, ...labels.map((label, i) => `   ${label}: ${values[i]}`)];
          // A deterministic shuffle from the seed.
          const shuffled = lines
            .map((l, i) => ({ l, k: (i * 7919 + seed) % 104729 }))
            .sort((a, b) => a.k - b.k)
            .map((x) => x.l);
          const [rxPackets, txPackets, rxBytes, txBytes] = values;
          expect(parseNicStats(shuffled.join('\n'))).toEqual({ rxBytes, txBytes, rxPackets, txPackets });
        }),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );
});

describe(datastoreFile, () => {
  const path = fc.oneof(
    fc.constantFrom('[ds1] web-02/', '[LocalDS_0] DC0_H0_VM0', '[ds with space] a b/', 'web-02/', '[]', '[ds1]'),
    mutatedText('[ds1] web-02/', { max: 3 }),
    oddString,
  );
  const url = fc.oneof(fc.constantFrom('ds:///vmfs/volumes/5f1e2a3b-0c9d/', '/tmp/govcsim-DC0-LocalDS_0-123', ''), oddString);

  test(
    'any path: a file path ending in the file, or a MigbenchError; a path with a datastore name always resolves',
    () => {
      fc.assert(
        fc.property(path, url, fc.constantFrom('vmware.log', 'x'), (p, u, file) => {
          const { value, error } = valueOrTypedError(() => datastoreFile(p, u, file));
          if (error) {
            expect(error.code).toBe('MB_VSPHERE');
            // The driver asks datastoreName first and only goes on with a name.
            expect(datastoreName(p), JSON.stringify(p)).toBeNull();
            return;
          }
          expect(value.endsWith(file)).toBe(true);
          expect(value).not.toMatch(/\/\/vmware\.log$/);
        }),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );
});
