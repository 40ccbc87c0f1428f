import { describe, expect, test } from 'vitest';
import { labNamespaces, labPlan, networkCommands, sshdConfig } from '../../src/lab/topology.js';

describe(labPlan, () => {
  test('two hosts and an observer on a switch, plus a src-dst migration link, all in lab-only namespaces', () => {
    const plan = labPlan();
    expect(labNamespaces(plan)).toEqual(['mb-switch', 'mb-src', 'mb-dst', 'mb-obs']);
    expect(plan.hosts.map((h) => [h.address, h.migrationAddress])).toEqual([
      ['10.77.0.11', '10.78.0.11'],
      ['10.77.0.12', '10.78.0.12'],
    ]);
    expect(() => labPlan('Bad Prefix')).toThrow(/lab prefix/);
  });

  test('every command runs ip in the root namespace against a lab namespace; interface names fit the kernel limit', () => {
    const cmds = networkCommands(labPlan());
    for (const argv of cmds) expect(argv[0]).toBe('ip');
    const names = cmds.flatMap((argv) => argv.flatMap((a, i) => (['add', 'name', 'set', 'dev', 'master'].includes(argv[i - 1] ?? '') ? [a] : [])));
    for (const name of names) expect(name.length).toBeLessThanOrEqual(15);
    // Nothing touches the machine's own interfaces: every link command names a lab namespace.
    for (const argv of cmds.filter((a) => a[1] === 'link' && a[2] === 'add')) expect(argv).toContain('netns');
    for (const argv of cmds.filter((a) => a[1] === '-n')) expect(labNamespaces(labPlan())).toContain(argv[2]);
  });

  test('every bridge has a MAC of its own, so a VM tap joining or leaving it never changes the address hosts learnt', () => {
    const cmds = networkCommands(labPlan());
    const bridges = cmds.filter((a) => a.includes('bridge') && a.includes('add'));
    expect(bridges.map((a) => [a[2], a[a.indexOf('address') + 1]])).toEqual([
      ['mb-switch', '02:6d:62:00:00:01'],
      ['mb-src', '02:6d:62:00:00:0b'],
      ['mb-dst', '02:6d:62:00:00:0c'],
    ]);
  });

  test('sshd listens on the host address only, keys only', () => {
    const config = sshdConfig(labPlan().hosts[0], '/run/migbench/lab/src');
    expect(config).toContain('ListenAddress 10.77.0.11');
    expect(config).toContain('PasswordAuthentication no');
    expect(config).toContain('HostKey /run/migbench/lab/src/ssh_host_ed25519_key');
  });
});
