// SshRunner against a real SSH server (ssh2's, on loopback) that answers as a fast
// command does: CHANNEL_SUCCESS, data, EOF, exit status and CLOSE in one burst, which
// the client reads and parses in one go. Issue 15: the exit status was lost that way.
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Server, utils, type ServerChannel } from 'ssh2';
import { fingerprint } from '../../src/exec/hostkey.js';
import { SshRunner } from '../../src/exec/ssh.js';

const hostKey = utils.generateKeyPairSync('ed25519');
const clientKey = utils.generateKeyPairSync('ed25519');

/** What the server does for an exec request, by command. */
function answer(command: string, stream: ServerChannel): void {
  if (command.includes('signal')) {
    stream.exit('KILL');
  } else if (command.includes('exit 3')) {
    stream.stderr.write('oops\n');
    stream.exit(3);
  } else if (command.includes('no-status')) {
    // A server that closes a channel without an exit status.
  } else {
    stream.write('out\n');
    stream.exit(0);
  }
  stream.end();
}

let server: Server;
let port: number;

beforeAll(async () => {
  server = new Server({ hostKeys: [hostKey.private] }, (client) => {
    client.on('authentication', (ctx) => (ctx.method === 'publickey' ? ctx.accept() : ctx.reject(['publickey'])));
    client.on('ready', () => {
      client.on('session', (acceptSession) => {
        const session = acceptSession();
        // accept() sends CHANNEL_SUCCESS; the answer goes out in the same tick, so the
        // client gets the whole exchange in one read.
        session.on('exec', (accept, _reject, info) => answer(info.command, accept()));
      });
    });
    client.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

function connect(): Promise<SshRunner> {
  const publicKey = utils.parseKey(hostKey.public);
  if (publicKey instanceof Error) throw publicKey;
  return SshRunner.connect({
    label: 'loopback',
    address: '127.0.0.1',
    port,
    user: 'root',
    privateKey: Buffer.from(clientKey.private),
    hostKeys: { fingerprints: [fingerprint(publicKey.getPublicSSH())] },
  });
}

describe(SshRunner, () => {
  test('a command whose whole answer arrives in one read keeps its exit status, every time', async () => {
    const ssh = await connect();
    try {
      const results = await Promise.all(Array.from({ length: 40 }, () => ssh.run(['true'])));
      expect(results.map((r) => [r.exitCode, r.stdout])).toEqual(Array.from({ length: 40 }, () => [0, 'out\n']));
      await expect(ssh.run(['sh', '-c', 'exit 3'])).rejects.toMatchObject({ code: 'MB_COMMAND_FAILED', exitCode: 3, stderr: 'oops\n' });
      expect(await ssh.run(['signal'], { check: false })).toMatchObject({ exitCode: null, signal: 'SIGKILL', ok: false });
    } finally {
      await ssh.close();
    }
  });

  test('spawned commands keep their exit status the same way', async () => {
    const ssh = await connect();
    try {
      const results = await Promise.all(Array.from({ length: 20 }, () => ssh.spawn(['true']).done));
      expect(results.map((r) => r.exitCode)).toEqual(Array.from({ length: 20 }, () => 0));
    } finally {
      await ssh.close();
    }
  });

  test('a channel the server closes without an exit status, the connection up, says so and is not mistaken for a lost connection', async () => {
    const ssh = await connect();
    try {
      const error = await ssh.run(['no-status'], { idempotent: true }).catch((e: unknown) => e);
      expect(error).toMatchObject({
        code: 'MB_COMMAND_FAILED',
        message: expect.stringMatching(
          /^loopback \(root@127\.0\.0\.1:\d+\): `no-status` ended without an exit status after \d+ ms running .*: the server closed the channel while the connection stayed up; the server's side is in the host's sshd log$/,
        ),
      });
      // Not retried: only a lost connection is.
      expect(ssh.incidents).toEqual([]);
    } finally {
      await ssh.close();
    }
  });

  test('a host that accepts TCP but never speaks SSH: the connect timeout ends the attempt, and the error says how long it waited', async () => {
    // What a half-up host or a stuck proxy looks like: TCP connects, no SSH banner comes.
    const held: Socket[] = [];
    const silent = createServer((socket) => void held.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const error = await SshRunner.connect({
        label: 'silent',
        address: '127.0.0.1',
        port: (silent.address() as AddressInfo).port,
        user: 'root',
        privateKey: Buffer.from(clientKey.private),
        hostKeys: { fingerprints: [] },
        connectTimeoutMs: 400,
      }).catch((e: unknown) => e);
      expect(error).toMatchObject({
        code: 'MB_SSH_CONNECT',
        message: expect.stringMatching(/^silent \(root@127\.0\.0\.1:\d+\): SSH connection failed after \d+\.\d s: Timed out while waiting for handshake$/),
      });
      const { waitedMs } = (error as { context: { waitedMs: number } }).context;
      // Not before the timeout; the upper bound only says it did end (without the timeout
      // ssh2 would wait for the banner forever).
      expect(waitedMs).toBeGreaterThanOrEqual(395);
      expect(waitedMs).toBeLessThan(5000);
    } finally {
      for (const socket of held) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });
});
