import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { entryMatchesHost, fingerprint, parseKnownHosts, verifyHostKey } from '../../src/exec/hostkey.js';
import { LocalRunner } from '../../src/exec/local.js';

const runner = new LocalRunner();
let dir: string;
let keyA: { line: string; blob: Buffer };
let keyB: { line: string; blob: Buffer };

async function makeKey(name: string) {
  await runner.run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', join(dir, name)]);
  const line = (await readFile(join(dir, `${name}.pub`), 'utf8')).trim();
  return { line, blob: Buffer.from(line.split(' ')[1]!, 'base64') };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'migbench-hostkey-'));
  keyA = await makeKey('a');
  keyB = await makeKey('b');
});

describe(fingerprint, () => {
  test('matches what ssh-keygen -lf prints', async () => {
    const printed = (await runner.run(['ssh-keygen', '-lf', join(dir, 'a.pub')])).stdout.split(' ')[1];
    expect(fingerprint(keyA.blob)).toBe(printed);
  });
});

describe(verifyHostKey, () => {
  test('accepts a pinned fingerprint and refuses any other key', () => {
    const policy = { fingerprints: [fingerprint(keyA.blob)] };
    expect(verifyHostKey(policy, 'h', 22, keyA.blob)).toEqual({ accepted: true });
    const refused = verifyHostKey(policy, 'h', 22, keyB.blob);
    expect(refused).toMatchObject({ accepted: false, reason: expect.stringContaining(fingerprint(keyB.blob)) });
  });

  test('refuses every key when nothing is pinned, naming the files it looked in', () => {
    expect(verifyHostKey({}, 'h', 22, keyA.blob)).toMatchObject({ accepted: false, reason: expect.stringContaining('no host key is known for this host (presented SHA256:') });
    const otherHost = parseKnownHosts(`other ${keyA.line}\n`);
    expect(verifyHostKey({ knownHosts: otherHost, knownHostsFiles: ['/root/.ssh/known_hosts', '/etc/ssh/ssh_known_hosts'] }, 'h', 22, keyA.blob)).toMatchObject({
      accepted: false,
      reason: expect.stringContaining('no host key is known for this host (looked in /root/.ssh/known_hosts, /etc/ssh/ssh_known_hosts)'),
    });
  });

  test('a key a valid host certificate vouches for is accepted; otherwise the certificate problem is the reason', () => {
    expect(verifyHostKey({ certified: [keyA.blob] }, 'h', 22, keyA.blob)).toEqual({ accepted: true });
    expect(verifyHostKey({ certified: [keyA.blob] }, 'h', 22, keyB.blob)).toMatchObject({ accepted: false, reason: expect.stringContaining('the certificate is for another key') });
    expect(verifyHostKey({ certified: [], certificateNote: 'certificate "x": it has expired' }, 'h', 22, keyB.blob)).toMatchObject({
      accepted: false,
      reason: expect.stringMatching(/is not vouched for by a valid host certificate: certificate "x": it has expired$/),
    });
  });

  test('known_hosts: plain, hashed (ssh-keygen -H), non-default port, changed and revoked keys', async () => {
    const file = join(dir, 'known_hosts');
    await writeFile(file, `# comment\n10.0.0.5 ${keyA.line}\n[10.0.0.6]:2222 ${keyA.line}\n`);
    await runner.run(['ssh-keygen', '-H', '-f', file]);
    const entries = parseKnownHosts(await readFile(file, 'utf8'));
    expect(entries.every((e) => e.patterns.startsWith('|1|'))).toBe(true);
    expect(verifyHostKey({ knownHosts: entries }, '10.0.0.5', 22, keyA.blob)).toEqual({ accepted: true });
    expect(verifyHostKey({ knownHosts: entries }, '10.0.0.6', 2222, keyA.blob)).toEqual({ accepted: true });
    expect(verifyHostKey({ knownHosts: entries }, '10.0.0.6', 22, keyA.blob)).toMatchObject({ accepted: false });
    expect(verifyHostKey({ knownHosts: entries }, '10.0.0.5', 22, keyB.blob)).toMatchObject({ accepted: false, reason: expect.stringContaining('CHANGED') });
    const revoked = parseKnownHosts(`@revoked * ${keyA.line}\n10.0.0.5 ${keyA.line}\n`);
    expect(verifyHostKey({ knownHosts: revoked }, '10.0.0.5', 22, keyA.blob)).toMatchObject({ accepted: false, reason: expect.stringContaining('@revoked') });
  });

  test('host patterns: lists, wildcards and negation', () => {
    const [entry] = parseKnownHosts(`hv-*.example,!hv-9.example,10.1.1.? ${keyA.line}\n`);
    expect(entryMatchesHost(entry!, 'hv-1.example', 22)).toBe(true);
    expect(entryMatchesHost(entry!, 'hv-9.example', 22)).toBe(false);
    expect(entryMatchesHost(entry!, '10.1.1.7', 22)).toBe(true);
    expect(entryMatchesHost(entry!, '10.1.1.17', 22)).toBe(false);
  });
});
