import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { sshRoute, type RouteContext } from '../../src/engine/route.js';
import type { HostConnection } from '../../src/generated/config.js';

let home: string;
let context: RouteContext;
const host = (fields: Partial<HostConnection>): HostConnection => ({ address: 'hv1', migrationAddress: '10.0.0.1', migrationInterface: 'eth0', ...fields });

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'migbench-route-'));
  await mkdir(join(home, '.ssh'));
  await writeFile(join(home, '.ssh', 'id_ed25519'), 'default key');
  await writeFile(join(home, '.ssh', 'pinned'), 'explicit key');
  await writeFile(join(home, '.ssh', 'known_hosts'), 'hv1.example.net ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBJcw2PqW1dtHGj3X6PwMWJaBQP/i59aUElJ3c9W5t0x\n');
  await writeFile(join(home, '.ssh', 'config'), 'Host hv1\n  HostName hv1.example.net\n  User admin\n  ProxyJump a,root@b:2222\nHost a b\n  User hop\n');
  context = { home, sshConfigFiles: [join(home, '.ssh', 'config')], env: { SSH_AUTH_SOCK: '/run/agent.sock' } };
});

describe(sshRoute, () => {
  test("the config's alias fills in what the target leaves out; OpenSSH's default key and the agent; the known_hosts files ssh reads", async () => {
    const route = await sshRoute('rack1 source', host({}), context);
    expect(route).toMatchObject({ address: 'hv1.example.net', port: 22, user: 'admin', privateKey: Buffer.from('default key'), agent: '/run/agent.sock' });
    expect(route.hostKeys.knownHosts).toHaveLength(1);
    expect(route.hostKeys.knownHostsFiles).toEqual([
      join(home, '.ssh', 'known_hosts'),
      join(home, '.ssh', 'known_hosts2'),
      '/etc/ssh/ssh_known_hosts',
      '/etc/ssh/ssh_known_hosts2',
    ]);
  });

  test('ProxyJump a,b: the target goes through b, which goes through a, each with its own login', async () => {
    const route = await sshRoute('rack1 source', host({}), context);
    expect(route.jump).toMatchObject({ label: 'rack1 source jump host b', address: 'b', port: 2222, user: 'root' });
    expect(route.jump!.jump).toMatchObject({ label: 'rack1 source jump host a', address: 'a', port: 22, user: 'hop' });
    expect(route.jump!.jump!.jump).toBeUndefined();
    // The target's own proxyCommand (an argv) wins over the config's ProxyJump, as in OpenSSH the first one set wins.
    expect((await sshRoute('x', host({ proxyCommand: ['nc', 'hv1', '22'] }), context)).jump).toBeUndefined();
  });

  test("the target's own settings win, and then alone are trusted: its key without the agent, its pins without known_hosts", async () => {
    const route = await sshRoute('x', host({ user: 'root', port: 2200, identityFile: join(home, '.ssh', 'pinned'), hostKeyFingerprints: ['SHA256:abc'] }), context);
    expect(route).toMatchObject({ user: 'root', port: 2200, privateKey: Buffer.from('explicit key') });
    expect(route.agent).toBeUndefined();
    expect(route.hostKeys).toEqual({ fingerprints: ['SHA256:abc'], knownHosts: [], knownHostsFiles: [] });
    await expect(sshRoute('x', host({ knownHostsFile: join(home, 'missing') }), context)).rejects.toThrow(/cannot read known_hosts file .*missing: ENOENT/);
  });

  test('IdentitiesOnly yes in the config: its keys, not the agent', async () => {
    const only = await mkdtemp(join(tmpdir(), 'migbench-route-only-'));
    await writeFile(join(only, 'config'), 'Host hv1\n  IdentitiesOnly yes\n');
    const route = await sshRoute('x', host({}), { ...context, sshConfigFiles: [join(only, 'config')] });
    expect(route.privateKey).toEqual(Buffer.from('default key'));
    expect(route.agent).toBeUndefined();
  });

  test('nothing to log in with is an error saying where it looked', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'migbench-route-empty-'));
    await expect(sshRoute('rack1 source', host({ address: 'other' }), { home: empty, sshConfigFiles: [], env: {} })).rejects.toThrow(
      `rack1 source: no way to log in: no identityFile in the target, no readable key among ${empty}/.ssh/id_ed25519, ${empty}/.ssh/id_ecdsa, ${empty}/.ssh/id_rsa, and no ssh-agent (SSH_AUTH_SOCK)`,
    );
  });
});
