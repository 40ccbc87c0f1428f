// SSH the way users connect, against real OpenSSH servers on loopback: a Host alias of
// ~/.ssh/config, keys from its IdentityFile or from a real ssh-agent, a ProxyJump host, and
// a host key known only through a host certificate (@cert-authority), fetched with
// ssh-keyscan -c and checked by migbench. Every refusal names why.
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { HostConnection } from '../../src/generated/config.js';
import { sshRoute, type RouteContext } from '../../src/engine/route.js';
import { LocalRunner } from '../../src/exec/local.js';
import { SshRunner } from '../../src/exec/ssh.js';
import { sleep } from '../../src/model/time.js';

const local = new LocalRunner();
let dir: string;
let home: string;
const ports = { target: 0, jump: 0 };
const started: number[] = [];

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function keygen(path: string, type = 'ed25519'): Promise<string> {
  await local.run(['ssh-keygen', '-q', '-t', type, '-N', '', '-C', path, '-f', path]);
  return (await readFile(`${path}.pub`, 'utf8')).trim();
}

/**
 * An sshd of our own on 127.0.0.1:port; with a CA, its host key is certified for 127.0.0.1
 * and it presents the certificate. DEBUG1 on the jump host logs each forwarded channel's target.
 */
async function startSshd(name: string, port: number, extra: readonly string[], ca?: string): Promise<void> {
  const d = join(dir, name);
  await mkdir(d);
  await keygen(join(d, 'host_key'));
  if (ca) await local.run(['ssh-keygen', '-q', '-s', ca, '-I', name, '-h', '-n', '127.0.0.1', `${d}/host_key.pub`]);
  await writeFile(
    join(d, 'sshd_config'),
    [
      'ListenAddress 127.0.0.1',
      `Port ${port}`,
      `HostKey ${d}/host_key`,
      `PidFile ${d}/sshd.pid`,
      `AuthorizedKeysFile ${dir}/authorized_keys`,
      'PermitRootLogin prohibit-password',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      'StrictModes no',
      'AllowTcpForwarding yes',
      ...(ca ? [`HostCertificate ${d}/host_key-cert.pub`] : []),
      ...extra,
      '',
    ].join('\n'),
  );
  await mkdir('/run/sshd', { recursive: true });
  await local.run(['/usr/sbin/sshd', '-f', join(d, 'sshd_config'), '-E', join(d, 'sshd.log')]);
  started.push(await daemonPid(d));
}

/**
 * The daemon's pid, once it wrote it: sshd's first process exits as soon as it forked, and
 * the daemon writes its pid file after binding, a moment later (later still on a busy machine).
 */
async function daemonPid(d: string): Promise<number> {
  for (const deadline = Date.now() + 10_000; Date.now() < deadline; await sleep(50)) {
    const pid = Number((await readFile(join(d, 'sshd.pid'), 'utf8').catch(() => '')).trim());
    if (pid) return pid;
  }
  throw new Error(`sshd in ${d} wrote no pid file within 10 s; its log: ${await readFile(join(d, 'sshd.log'), 'utf8').catch(() => '(none)')}`);
}

const context = (env: NodeJS.ProcessEnv = {}): RouteContext => ({ home, sshConfigFiles: [join(home, '.ssh', 'config')], env });
const host = (address: string): HostConnection => ({ address, migrationAddress: '10.0.0.1', migrationInterface: 'eth0' });

async function echo(address: string, env?: NodeJS.ProcessEnv): Promise<string> {
  const ssh = await SshRunner.connect(await sshRoute(`test ${address}`, host(address), context(env)));
  try {
    return (await ssh.run(['echo', 'reached'])).stdout.trim();
  } finally {
    await ssh.close();
  }
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'migbench-ssh-route-'));
  home = join(dir, 'home');
  await mkdir(join(home, '.ssh'), { recursive: true });
  [ports.target, ports.jump] = [await freePort(), await freePort()];
  const ca = await keygen(join(dir, 'ca'));
  const otherCa = await keygen(join(dir, 'other-ca'));
  await writeFile(join(dir, 'authorized_keys'), `${await keygen(join(dir, 'client'))}\n${await keygen(join(dir, 'agent-only'))}\n`);
  await startSshd('jump', ports.jump, ['LogLevel DEBUG1']);
  await startSshd('target', ports.target, [], join(dir, 'ca'));
  const targetKey = (await readFile(join(dir, 'target', 'host_key.pub'), 'utf8')).split(' ').slice(0, 2).join(' ');
  const jumpKey = (await readFile(join(dir, 'jump', 'host_key.pub'), 'utf8')).split(' ').slice(0, 2).join(' ');
  await writeFile(join(home, '.ssh', 'known_hosts'), `@cert-authority [127.0.0.1]:${ports.target} ${ca}\n[127.0.0.1]:${ports.jump} ${jumpKey}\n`);
  await writeFile(join(home, '.ssh', 'known_hosts_plain'), `[127.0.0.1]:${ports.target} ${targetKey}\n[127.0.0.1]:${ports.jump} ${jumpKey}\n`);
  await writeFile(join(home, '.ssh', 'known_hosts_other_ca'), `@cert-authority [127.0.0.1]:${ports.target} ${otherCa}\n`);
  const common = (port: number) => `  HostName 127.0.0.1\n  Port ${port}\n  User root\n`;
  await writeFile(
    join(home, '.ssh', 'config'),
    [
      `Host hv1\n${common(ports.target)}  IdentityFile ${dir}/client\n`,
      `Host hv1-agent\n${common(ports.target)}`,
      `Host hv1-jump\n${common(ports.target)}  IdentityFile ${dir}/client\n  ProxyJump bastion\n  UserKnownHostsFile ~/.ssh/known_hosts_plain\n`,
      `Host bastion\n${common(ports.jump)}  IdentityFile ${dir}/client\n`,
      `Host hv1-jump-cert\n${common(ports.target)}  IdentityFile ${dir}/client\n  ProxyJump bastion\n`,
      `Host hv1-other-ca\n${common(ports.target)}  IdentityFile ${dir}/client\n  UserKnownHostsFile ~/.ssh/known_hosts_other_ca\n`,
    ].join('\n'),
  );
});

afterAll(async () => {
  for (const pid of started) await local.run(['kill', String(pid)], { check: false });
});

describe('SSH the way users connect', () => {
  test('a Host alias of ~/.ssh/config, its IdentityFile, and a host key known only through its certificate (@cert-authority)', async () => {
    expect(await echo('hv1')).toBe('reached');
  });

  test('keys from a real ssh-agent when the config names none', async () => {
    const socket = join(dir, 'agent.sock');
    const agent = await local.run(['ssh-agent', '-a', socket]);
    const pid = Number(/SSH_AGENT_PID=(\d+)/.exec(agent.stdout)![1]);
    started.push(pid);
    await local.run(['env', `SSH_AUTH_SOCK=${socket}`, 'ssh-add', '-q', join(dir, 'agent-only')]);
    expect(await echo('hv1-agent', { SSH_AUTH_SOCK: socket })).toBe('reached');
    // Without the agent there is nothing to log in with, and the error says where it looked.
    await expect(echo('hv1-agent')).rejects.toThrow(/no way to log in: no identityFile in the target, no readable key among .*\/\.ssh\/id_ed25519.*no ssh-agent \(SSH_AUTH_SOCK\)/);
  });

  test('through a ProxyJump host, its own host key checked; the jump host carried the connection', async () => {
    expect(await echo('hv1-jump')).toBe('reached');
    expect(await readFile(join(dir, 'jump', 'sshd.log'), 'utf8')).toMatch(new RegExp(`target 127\\.0\\.0\\.1 port ${ports.target}`));
  });

  test('refused: a CA known_hosts does not trust, and a certificate that cannot be fetched through a jump host', async () => {
    await expect(echo('hv1-other-ca')).rejects.toThrow(
      /refused: host key SHA256:\S+ is not vouched for by a valid host certificate: certificate "target": it is signed by a CA that known_hosts does not trust/,
    );
    await expect(echo('hv1-jump-cert')).rejects.toThrow(/a host certificate can only be fetched on a direct route/);
  });
});
