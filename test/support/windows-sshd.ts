// A real OpenSSH sshd on loopback whose every session runs the Windows stand-in shell
// (test/fakes/windows-openssh/shell.mjs) on the client's exact command line: what a
// Windows host's OpenSSH does with its DefaultShell, without Windows. Started and stopped
// by PID by the tests that use it.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { utils } from 'ssh2';
import { fingerprint } from '../../src/exec/hostkey.js';
import type { SshTarget } from '../../src/exec/ssh.js';
import { projectPath } from '../../src/model/paths.js';
import { sleep } from '../../src/model/time.js';

export interface WindowsStandin {
  /** How a runner reaches it: host key pinned, its own client key. */
  target(platform: SshTarget['platform']): SshTarget;
  /** Every command line the shell got, and each script it decoded. */
  readonly log: string;
  readonly sshdLog: string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function listening(port: number, child: ChildProcess, sshdLog: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error(`the stand-in sshd exited ${child.exitCode}: ${await readFile(sshdLog, 'utf8').catch(() => '')}`);
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => (socket.destroy(), resolve(true)));
      socket.on('error', () => resolve(false));
    });
    if (ok) return;
    await sleep(50);
  }
  throw new Error(`the stand-in sshd did not listen on 127.0.0.1:${port} within 5 s`);
}

export async function startWindowsStandin(): Promise<WindowsStandin> {
  const dir = await mkdtemp(join(tmpdir(), 'migbench-winsshd-'));
  const host = utils.generateKeyPairSync('ed25519');
  const client = utils.generateKeyPairSync('ed25519');
  await writeFile(join(dir, 'host_key'), host.private, { mode: 0o600 });
  await writeFile(join(dir, 'authorized_keys'), `${client.public}\n`, { mode: 0o600 });
  const [log, sshdLog, port] = [join(dir, 'shell.log'), join(dir, 'sshd.log'), await freePort()];
  await writeFile(log, '');
  const config = [
    'ListenAddress 127.0.0.1',
    `Port ${port}`,
    `HostKey ${join(dir, 'host_key')}`,
    `PidFile ${join(dir, 'sshd.pid')}`,
    `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
    'PermitRootLogin prohibit-password',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'UsePAM no',
    'StrictModes no',
    'AllowTcpForwarding no',
    'AllowStreamLocalForwarding no',
    'LogLevel VERBOSE',
    // One SetEnv line: sshd takes the first of a repeated keyword.
    `SetEnv SHLVL=1 STANDIN_LOG=${log} STANDIN_ANSWERS=${projectPath('fixtures/hyperv/answers.json')}`,
    // Every session, whatever it asked for, is the stand-in shell with SSH_ORIGINAL_COMMAND.
    `ForceCommand ${process.execPath} ${projectPath('test/fakes/windows-openssh/shell.mjs')}`,
    '',
  ].join('\n');
  await writeFile(join(dir, 'sshd_config'), config);
  // sshd refuses to start without its privilege-separation directory.
  await mkdir('/run/sshd', { recursive: true, mode: 0o755 });
  const sshd = spawn('/usr/sbin/sshd', ['-D', '-f', join(dir, 'sshd_config'), '-E', sshdLog], { stdio: 'ignore' });
  try {
    await listening(port, sshd, sshdLog);
  } catch (error) {
    sshd.kill('SIGTERM');
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  const publicBlob = Buffer.from(host.public.split(/\s+/)[1]!, 'base64');
  return {
    log,
    sshdLog,
    target: (platform) => ({
      label: 'hv1',
      address: '127.0.0.1',
      port,
      user: 'root',
      privateKey: Buffer.from(client.private),
      hostKeys: { fingerprints: [fingerprint(publicBlob)] },
      ...(platform && { platform }),
    }),
    stop: async () => {
      if (sshd.exitCode === null) {
        const exited = new Promise((resolve) => sshd.once('exit', resolve));
        sshd.kill('SIGTERM');
        await exited;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
