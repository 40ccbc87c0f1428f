// Host certificates made by OpenSSH's own ssh-keygen, checked by migbench.
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { CertificateError, certificateProblem, parseHostCertificate } from '../../src/exec/hostcert.js';
import { LocalRunner } from '../../src/exec/local.js';

const runner = new LocalRunner();
let dir: string;

const blobOf = async (file: string) => Buffer.from((await readFile(file, 'utf8')).trim().split(/\s+/)[1]!, 'base64');

async function key(name: string, type: string): Promise<string> {
  const path = join(dir, name);
  await runner.run(['ssh-keygen', '-q', '-t', type, '-N', '', '-C', name, '-f', path]);
  return path;
}

/** Signs `hostKey` with `ca` as ssh-keygen does; extra options (-V, no -h, ...) as given. */
async function sign(ca: string, hostKey: string, options: readonly string[] = ['-h', '-n', 'hv1.example.net,10.20.0.1']): Promise<Buffer> {
  await runner.run(['ssh-keygen', '-q', '-s', ca, '-I', `cert-of-${hostKey.split('/').pop()}`, ...options, `${hostKey}.pub`]);
  return blobOf(`${hostKey}-cert.pub`);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'migbench-hostcert-'));
});

describe(parseHostCertificate, () => {
  test.each([
    ['ed25519', 'ed25519'],
    ['rsa', 'ed25519'],
    ['ecdsa', 'ecdsa'],
    ['ed25519', 'rsa'],
  ])('a %s CA signing a %s host key: the key inside, the principals, the CA, the signature checked', async (caType, hostType) => {
    const ca = await key(`ca-${caType}-${hostType}`, caType);
    const host = await key(`host-${caType}-${hostType}`, hostType);
    const cert = parseHostCertificate(await sign(ca, host));
    expect(cert.keyBlob.equals(await blobOf(`${host}.pub`))).toBe(true);
    expect(cert.caKeyBlob.equals(await blobOf(`${ca}.pub`))).toBe(true);
    expect(cert.principals).toEqual(['hv1.example.net', '10.20.0.1']);
    expect(cert.keyId).toBe(`cert-of-host-${caType}-${hostType}`);
    expect(certificateProblem(cert, 'HV1.example.net', [cert.caKeyBlob])).toBeNull();
  });

  test('a certificate changed after signing, or a user certificate, is refused', async () => {
    const ca = await key('ca-t', 'ed25519');
    const host = await key('host-t', 'ed25519');
    const blob = await sign(ca, host);
    // The key id's first letter: still parses, no longer what the CA signed.
    const tampered = Buffer.from(blob);
    const at = tampered.indexOf(Buffer.from('cert-of-host-t'));
    tampered[at] = 'C'.charCodeAt(0);
    expect(() => parseHostCertificate(tampered)).toThrow(new CertificateError("the CA's signature does not verify"));
    const user = await key('user-t', 'ed25519');
    expect(() => parseHostCertificate(Buffer.from([]))).toThrow(new CertificateError('truncated certificate'));
    expect(() => parseHostCertificate(blob.subarray(0, 60))).toThrow(new CertificateError('truncated certificate'));
    await expect(sign(ca, user, ['-n', 'root']).then(parseHostCertificate)).rejects.toThrow('a user certificate, not a host certificate');
  });
});

describe(certificateProblem, () => {
  test('another CA, another host, no principals, not yet valid, expired', async () => {
    const ca = await key('ca-p', 'ed25519');
    const other = await key('ca-other', 'ed25519');
    const host = await key('host-p', 'ed25519');
    const cert = parseHostCertificate(await sign(ca, host, ['-h', '-n', 'hv1', '-V', '20300101:20310101']));
    const now = Date.UTC(2030, 5, 1) / 1000;
    expect(certificateProblem(cert, 'hv1', [await blobOf(`${other}.pub`)], now)).toMatch(/signed by a CA that known_hosts does not trust/);
    expect(certificateProblem(cert, 'hv2', [cert.caKeyBlob], now)).toBe('it is for hv1, not hv2');
    expect(certificateProblem(cert, 'hv1', [cert.caKeyBlob], Date.UTC(2029, 0, 1) / 1000)).toBe('it is not valid yet');
    expect(certificateProblem(cert, 'hv1', [cert.caKeyBlob], Date.UTC(2031, 0, 2) / 1000)).toBe('it has expired');
    expect(certificateProblem(cert, 'hv1', [cert.caKeyBlob], now)).toBeNull();
    const anyHost = parseHostCertificate(await sign(ca, await key('host-any', 'ed25519'), ['-h']));
    expect(certificateProblem(anyHost, 'hv1', [anyHost.caKeyBlob], now)).toBe('it names no host (empty principals)');
  });
});
