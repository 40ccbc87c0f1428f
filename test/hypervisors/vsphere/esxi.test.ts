// The ESXi-side readings: vmware.log's stun line and esxcli's NIC counters. The esxcli text
// below is CONSTRUCTED in the layout VMware documents for `esxcli network nic stats get`
// (nothing here was recorded on an ESXi host); the stun lines follow vmware.log's format.
import { describe, expect, test } from 'vitest';
import { datastoreFile, datastoreName, nicStatsArgv, parseNicStats, parseStunMs } from '../../../src/hypervisors/vsphere/esxi.js';

describe(parseStunMs, () => {
  const log = [
    '2026-12-04T14:00:01.000Z| vmx| I005: Checkpoint_Unstun: vm stopped for 12000 us',
    '2026-12-04T14:00:05.000Z| vmx| I005: MigrateSetState: Transitioning from state 12 to 0.',
    '2026-12-04T14:00:09.000Z| vmx| I005: Checkpoint_Unstun: vm stopped for 401234 us',
  ].join('\n');

  test('the last stun in vmware.log, in ms', () => {
    expect(parseStunMs(log)).toBe(401.234);
    expect(parseStunMs('nothing here')).toBeNull();
  });

  test("stuns stamped before the migration began are not this migration's", () => {
    expect(parseStunMs(log, Date.parse('2026-12-04T14:00:10Z'))).toBeNull();
    expect(parseStunMs(log.split('\n')[0]!, Date.parse('2026-12-04T14:00:00Z'))).toBe(12);
    expect(parseStunMs('vmx 2026/12/04 Checkpoint_Unstun: vm stopped for 5000 us', Date.now())).toBe(5);
  });

  // Found by test/properties/vsphere.prop.test.ts: 400 digits gave Infinity.
  test('a last stun of more digits than a double holds is not measured', () => {
    expect(parseStunMs(`${log}\nvmx Checkpoint_Unstun: vm stopped for ${'9'.repeat(400)} us`)).toBeNull();
  });
});

describe(parseNicStats, () => {
  test('bytes and packets both ways, by their esxcli labels', () => {
    const out = [
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
    expect(parseNicStats(out)).toEqual({ rxBytes: 611332, txBytes: 271829015, rxPackets: 9151, txPackets: 183040 });
  });

  test('output without the counters is not read as zeros', () => {
    expect(parseNicStats('Error: Unable to find NIC vmnic9')).toBeNull();
    expect(parseNicStats('   Bytes received: 1\n   Bytes sent: 2\n   Packets received: 3')).toBeNull();
  });

  // Found by test/properties/vsphere.prop.test.ts: 400 digits gave Infinity.
  test('a counter of more digits than a double holds is not read', () => {
    const out = (rx: string) => `   Packets received: 1\n   Packets sent: 2\n   Bytes received: ${rx}\n   Bytes sent: 4\n`;
    expect(parseNicStats(out('9'.repeat(400)))).toBeNull();
    // The literal is meant to overflow: that is the input under test.
    // eslint-disable-next-line no-loss-of-precision
    expect(parseNicStats(out('18446744073709551615'))).toMatchObject({ rxBytes: 18446744073709551615 });
  });

  test('the vmnic name is one argv element', () => {
    expect(nicStatsArgv('vmnic1; reboot')).toEqual(['esxcli', 'network', 'nic', 'stats', 'get', '-n', 'vmnic1; reboot']);
  });
});

describe(datastoreFile, () => {
  test('a datastore path on the ESXi host, from the datastore URL', () => {
    expect(datastoreFile('[ds1] web-02/', 'ds:///vmfs/volumes/5f1e2a3b-0c9d/', 'vmware.log')).toBe('/vmfs/volumes/5f1e2a3b-0c9d/web-02/vmware.log');
    expect(datastoreFile('[LocalDS_0] DC0_H0_VM0', '/tmp/govcsim-DC0-LocalDS_0-123', 'vmware.log')).toBe('/tmp/govcsim-DC0-LocalDS_0-123/DC0_H0_VM0/vmware.log');
    expect(datastoreFile('[ds with space] a b/', 'ds:///vmfs/volumes/x/', 'vmware.log')).toBe('/vmfs/volumes/x/a b/vmware.log');
    expect(datastoreName('[ds with space] a b/')).toBe('ds with space');
    expect(datastoreName('web-02/')).toBeNull();
    // Found by test/properties/vsphere.prop.test.ts: a plain Error, and a line break made a path datastoreName accepts "not a datastore path".
    expect(() => datastoreFile('web-02/', '/x', 'vmware.log')).toThrow(
      expect.objectContaining({ name: 'MigbenchError', code: 'MB_VSPHERE', message: expect.stringMatching(/not a datastore path/) }),
    );
    expect(datastoreName('[ds1] a\nb')).toBe('ds1');
    expect(datastoreFile('[ds1] a\nb', '/x', 'vmware.log')).toBe('/x/a\nb/vmware.log');
  });
});
