// The embedded lab: idempotent, reached over real SSH with pinned host keys, and gone
// without a trace after `lab down`.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { alive, connectLabHost, labDown, labStatus, labUp, labProxyCommand, readLabState } from '../../src/lab/lab.js';
import { LocalRunner } from '../../src/exec/local.js';
import { SshRunner } from '../../src/exec/ssh.js';
import { labDir, labName, labRoot, labSharedDir, labWorkDir } from '../../src/model/paths.js';
import { labQemuPids } from './helpers.js';
import { escapeRegExp } from '../../src/model/text.js';

const root = new LocalRunner();

function readFileSyncSafe(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** Live processes matching; zombies this machine's PID 1 has not reaped yet do not count. */
async function live(argv: string[]): Promise<string> {
  const out = await root.run(argv, { check: false });
  return out.stdout.split(/\s+/).filter(Boolean).map(Number).filter(alive).join(' ');
}

async function leftovers(): Promise<{ namespaces: string; sshd: string; qemu: string }> {
  // This worker's lab only: the other workers run labs of their own meanwhile.
  const ns = await root.run(['ip', 'netns', 'list'], { check: false });
  const own = ns.stdout.split('\n').filter((line) => line.startsWith(`${labName()}-`));
  return { namespaces: own.join('\n'), sshd: await live(['pgrep', '-f', `${labDir()}/`]), qemu: (await labQemuPids()).join(' ') };
}

describe('lab', () => {
  afterAll(async () => {
    // Other integration files expect the lab up, as global setup left it.
    await labUp();
  });

  test('lab up on a running lab is quick and changes nothing', async () => {
    const before = await readLabState();
    const started = performance.now();
    const state = await labUp();
    expect(performance.now() - started).toBeLessThan(5000);
    expect(state.createdAt).toBe(before!.createdAt);
    expect((await labStatus()).up).toBe(true);
  });

  test('hostile names go through SSH as data: spaces, quotes, $(), ;, newlines, in arguments and paths', async () => {
    const state = (await readLabState())!;
    const ssh = await connectLabHost(state, 'source');
    const canary = `/tmp/migbench-pwned-${process.pid}`;
    const hostile = [`$(touch ${canary})`, `; touch ${canary}`, `\`touch ${canary}\``, `a'b"c d`, 'two\nlines', '--help', '*', '~', '&& true', '| cat'];
    try {
      expect((await ssh.run(['printf', '%s\\0', ...hostile])).stdout.split('\0').slice(0, -1)).toEqual(hostile);
      // A folder per hostile name (names cannot hold "/"), created and listed on the host, exactly as named.
      const base = `/run/migbench-hostile-${process.pid}`;
      const folders = ['$(id)', '`id`', ';id', 'a\'b"c d', 'two\nlines', '&& true', '| cat', '*', '~'];
      for (const name of folders) await ssh.run(['mkdir', '-p', '--', `${base}/${name}`]);
      const listed = (await ssh.run(['find', base, '-mindepth', '1', '-maxdepth', '1', '-printf', '%f\\0'])).stdout.split('\0').slice(0, -1).sort();
      expect(listed).toEqual([...folders].sort());
      await ssh.run(['rm', '-rf', '--', base]);
      expect((await ssh.run(['test', '-e', canary], { check: false })).exitCode).toBe(1);
    } finally {
      await ssh.close();
    }
  });

  test('hosts answer over SSH with commands run as argv, exit codes and stdin intact', async () => {
    const state = (await readLabState())!;
    const ssh = await connectLabHost(state, 'source');
    try {
      const weird = ["it's", 'a $HOME', '`date`', '"q"', ''];
      const echoed = await ssh.run(['printf', '%s|', ...weird]);
      expect(echoed.stdout).toBe(`${weird.join('|')}|`);
      const failed = await ssh.run(['sh', '-c', 'echo oops >&2; exit 3'], { check: false });
      expect(failed).toMatchObject({ exitCode: 3, ok: false, stderr: 'oops\n' });
      await expect(ssh.run(['false'])).rejects.toMatchObject({ code: 'MB_COMMAND_FAILED', exitCode: 1 });
      expect((await ssh.run(['cat'], { stdin: 'through stdin' })).stdout).toBe('through stdin');
      await expect(ssh.run(['sleep', '10'], { timeoutMs: 300 })).rejects.toMatchObject({ code: 'MB_COMMAND_TIMEOUT' });
      expect((await ssh.run(['ip', '-br', 'addr', 'show', 'mig0'])).stdout).toContain(state.hosts.source.migrationAddress);
    } finally {
      await ssh.close();
    }
  });

  test('a host whose key is not the pinned one is refused, naming the key it presented', async () => {
    const state = (await readLabState())!;
    const host = state.hosts.destination;
    const attempt = (fingerprints: string[]) =>
      readFile(state.clientKeyPath).then((privateKey) =>
        SshRunner.connect({
          label: 'dst',
          address: host.address,
          port: host.port,
          user: 'root',
          privateKey,
          hostKeys: { fingerprints },
          proxyCommand: labProxyCommand(state, 'destination'),
        }),
      );
    await expect(attempt([state.hosts.source.hostKeyFingerprint])).rejects.toMatchObject({ code: 'MB_SSH_HOST_KEY', message: expect.stringContaining(host.hostKeyFingerprint) });
    await expect(attempt([])).rejects.toMatchObject({ code: 'MB_SSH_HOST_KEY', message: expect.stringContaining('no host key is known for this host') });
  });

  test('a VM tap joining and leaving a host bridge changes neither its MAC nor the path the observer learnt to the host', async () => {
    const state = (await readLabState())!;
    const { netns, address } = state.hosts.destination;
    const mac = async () => (await root.run(['ip', '-n', netns, '-br', 'link', 'show', 'br0'])).stdout.split(/\s+/)[2];
    const bridgeMac = await mac();
    const tap = `mbt${process.pid.toString(16).slice(-6)}`;
    try {
      // A MAC below any the bridge has: a bridge without a MAC of its own would take it.
      await root.run(['ip', '-n', netns, 'tuntap', 'add', 'dev', tap, 'mode', 'tap']);
      await root.run(['ip', '-n', netns, 'link', 'set', 'dev', tap, 'address', '02:00:00:00:00:01', 'master', 'br0', 'up']);
      expect(await mac()).toBe(bridgeMac);
      // The host speaks to the observer (its ARP request carries the bridge's MAC), then the tap goes.
      await root.run(['ip', '-n', netns, 'neigh', 'flush', 'dev', 'br0']);
      await root.run(['ip', 'netns', 'exec', netns, 'ping', '-c', '1', '-W', '2', state.observer.address]);
    } finally {
      await root.run(['ip', '-n', netns, 'link', 'del', tap], { check: false });
    }
    const learnt = (await root.run(['ip', '-n', state.observer.netns, 'neigh', 'show', address])).stdout;
    expect(learnt).toContain(`lladdr ${bridgeMac}`);
    expect(await mac()).toBe(bridgeMac);
  });

  test('a connection lost under a command says where, what, how long and why; an idempotent command runs again on a new one', async () => {
    const state = (await readLabState())!;
    const ssh = await connectLabHost(state, 'source');
    const proxyKilled = `the proxy \`ip netns exec ${state.observer.netns} busybox nc 10.77.0.11 22\` was killed by SIGKILL`;
    // The SSH proxy this worker runs for that connection (busybox nc in the observer).
    const killProxy = async () => {
      const pids = (await root.run(['pgrep', '-P', String(process.pid), '-f', `nc ${state.hosts.source.address} 22`], { check: false })).stdout.split(/\s+/).filter(Boolean);
      expect(pids).toHaveLength(1);
      process.kill(Number(pids[0]), 'SIGKILL');
    };
    try {
      const lost = ssh.run(['sleep', '3']);
      setTimeout(() => void killProxy(), 500);
      await expect(lost).rejects.toMatchObject({
        code: 'MB_SSH_LOST',
        message: expect.stringMatching(
          new RegExp(
            `^lab src \\(root@10\\.77\\.0\\.11:22\\): \`sleep 3\` lost its SSH connection after \\d+ ms running \\(the connection was \\d+ s old and had been idle \\d+ ms before it\\): ${escapeRegExp(proxyKilled)}; the server's log: ${escapeRegExp(`${labDir()}/src/sshd.log`)}$`,
          ),
        ),
      });
      // Not idempotent: no second run. Idempotent: once more, on a new connection, noted.
      const before = ssh.incidents.length;
      const again = ssh.run(['sleep', '3'], { idempotent: true });
      setTimeout(() => void killProxy(), 1500);
      expect((await again).ok).toBe(true);
      // The first loss is made good as the second command starts; the second, by the retry.
      expect(ssh.incidents.slice(before).map((i) => i.text)).toEqual([
        `SSH connection lost (${proxyKilled}) and made again`,
        expect.stringMatching(/^`sleep 3` lost its connection and ran again on a new one \(.*`sleep 3` lost its SSH connection after \d+ ms running/),
        `SSH connection lost (${proxyKilled}) and made again`,
      ]);
    } finally {
      await ssh.close();
    }
  });

  test('lab up on a lab that runs but answers slowly waits for it rather than rebuilding it under its users', async () => {
    const state = (await readLabState())!;
    const sshdPid = Number((await readFile(`${state.hosts.source.dir}/sshd.pid`, 'utf8')).trim());
    process.kill(sshdPid, 'SIGSTOP');
    try {
      const status = await labStatus({ sshTimeoutMs: 1000 });
      expect(status).toMatchObject({ up: false, unresponsive: true });
      // It answers again after the first check of lab up gave up (10 s), within its second.
      setTimeout(() => process.kill(sshdPid, 'SIGCONT'), 12_000);
      const after = await labUp();
      expect(after.createdAt).toBe(state.createdAt);
    } finally {
      process.kill(sshdPid, 'SIGCONT');
    }
  });

  test('lab up on a dirty lab (what a killed run leaves) resets it and says what it removed; lab status lists it first', async () => {
    const state = (await readLabState())!;
    const src = state.hosts.source;
    const vmDir = join(labWorkDir(src.name), 'vms', 'mbdead00-source');
    const sharedDisk = join(labSharedDir(), 'mbdead00.qcow2');
    // A killed run's leftovers: its QEMU, its tap, shaping on the migration link, a flow
    // table, its VM folder and its shared disk.
    const qemu = spawn('ip', ['netns', 'exec', src.netns, 'qemu-system-x86_64', '-machine', 'none', '-display', 'none', '-S'], { stdio: 'ignore', detached: true });
    await root.run(['ip', '-n', src.netns, 'tuntap', 'add', 'dev', 'mbtdead0', 'mode', 'tap']);
    await root.run(['tc', '-n', src.netns, 'qdisc', 'replace', 'dev', src.migrationInterface, 'root', 'tbf', 'rate', '100mbit', 'burst', '70000', 'latency', '50ms']);
    await root.run(['ip', 'netns', 'exec', src.netns, 'nft', 'add', 'table', 'inet', 'migbench_mbdead00']);
    await mkdir(vmDir, { recursive: true });
    await mkdir(labSharedDir(), { recursive: true });
    await writeFile(sharedDisk, '');
    try {
      let qemuPid = 0;
      for (let i = 0; i < 50 && !qemuPid; i++) {
        qemuPid = Number((await live(['ip', 'netns', 'pids', src.netns])).split(' ').find((p) => readFileSyncSafe(`/proc/${p}/comm`).startsWith('qemu-system')) ?? 0);
        if (!qemuPid) await new Promise((r) => setTimeout(r, 100));
      }
      const expected = [
        `${src.name}: QEMU pid ${qemuPid} is running`,
        `${src.name}: VM tap mbtdead0 is present`,
        `${src.name}: link shaping (tbf) on ${src.migrationInterface}`,
        `${src.name}: flow counter table migbench_mbdead00`,
        `${src.name}: ${vmDir}`,
        `shared storage: ${sharedDisk}`,
      ];
      const status = await labStatus();
      expect(status.up).toBe(true);
      expect(status.leftovers).toEqual(expected);
      const lines: string[] = [];
      const after = await labUp({ log: (l) => lines.push(l) });
      expect(after.createdAt).toBe(state.createdAt);
      expect(lines[0]).toBe(`lab: reset a dirty lab, removed: ${expected.join('; ')}`);
      expect((await labStatus()).leftovers).toEqual([]);
      expect(alive(qemuPid)).toBe(false);
      const qdisc = await root.run(['tc', '-n', src.netns, 'qdisc', 'show', 'dev', src.migrationInterface, 'root']);
      expect(qdisc.stdout).not.toMatch(/tbf|netem/);
    } finally {
      qemu.kill('SIGKILL');
    }
  });

  test('lab down leaves no namespace, sshd or qemu; lab up after a crash-like leftover recovers', async () => {
    await labDown();
    expect(await leftovers()).toEqual({ namespaces: '', sshd: '', qemu: '' });
    // Of the lab's folder, only the lock the test suite holds is left (it goes with the lock).
    expect(await readdir(labRoot())).toEqual(['lab.lock']);
    expect((await labStatus({ checkSsh: false })).up).toBe(false);
    expect(await labDown()).toEqual({ removedNamespaces: [], killedProcesses: 0 });
    // A half-built lab, as a crashed `lab up` leaves it.
    await root.run(['ip', 'netns', 'add', `${labName()}-src`]);
    const state = await labUp();
    expect((await labStatus()).up).toBe(true);
    expect(state.hosts.source.netns).toBe(`${labName()}-src`);
  });
});
