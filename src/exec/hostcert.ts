// OpenSSH host certificates (PROTOCOL.certkeys), for known_hosts' @cert-authority lines.
// ssh2 does not negotiate certificate host keys, so the certificate a host presents is
// fetched with OpenSSH's own ssh-keyscan -c, checked here (a host certificate, signed by
// a CA the known_hosts file trusts for this host, naming this host, valid now) and the
// plain key inside it is what the SSH connection must then present.
import { createPublicKey, verify, type KeyObject } from 'node:crypto';

/** Reads SSH wire-format fields (RFC 4251) from a buffer. */
class Reader {
  private at = 0;
  constructor(private readonly buf: Buffer) {}
  get offset(): number {
    return this.at;
  }
  get done(): boolean {
    return this.at >= this.buf.length;
  }
  private need(bytes: number): void {
    if (this.at + bytes > this.buf.length) throw new CertificateError('truncated certificate');
  }
  uint32(): number {
    this.need(4);
    const v = this.buf.readUInt32BE(this.at);
    this.at += 4;
    return v;
  }
  uint64(): bigint {
    this.need(8);
    const v = this.buf.readBigUInt64BE(this.at);
    this.at += 8;
    return v;
  }
  string(): Buffer {
    const length = this.uint32();
    this.need(length);
    const v = this.buf.subarray(this.at, this.at + length);
    this.at += length;
    return v;
  }
  text(): string {
    return this.string().toString('utf8');
  }
}

function sshString(value: Buffer | string): Buffer {
  const body = typeof value === 'string' ? Buffer.from(value) : value;
  const length = Buffer.alloc(4);
  length.writeUInt32BE(body.length);
  return Buffer.concat([length, body]);
}

export class CertificateError extends Error {}

export interface HostCertificate {
  /** The plain public key blob the certificate vouches for (what the host must present). */
  readonly keyBlob: Buffer;
  readonly keyId: string;
  readonly principals: readonly string[];
  readonly validAfter: bigint;
  readonly validBefore: bigint;
  /** The signing CA's public key blob. */
  readonly caKeyBlob: Buffer;
  readonly serial: bigint;
}

const CERT_SUFFIX = '-cert-v01@openssh.com';
const HOST_CERT = 2;

/** The certificate's own key, as a plain key blob, read from the fields its type has. */
function readKey(r: Reader, plainType: string): Buffer {
  if (plainType === 'ssh-ed25519') return Buffer.concat([sshString(plainType), sshString(r.string())]);
  if (plainType === 'ssh-rsa') {
    const [e, n] = [r.string(), r.string()];
    return Buffer.concat([sshString(plainType), sshString(e), sshString(n)]);
  }
  if (plainType.startsWith('ecdsa-sha2-')) {
    const [curve, point] = [r.string(), r.string()];
    return Buffer.concat([sshString(plainType), sshString(curve), sshString(point)]);
  }
  throw new CertificateError(`certificate key type ${plainType} is not supported (ed25519, rsa, ecdsa are)`);
}

/** Parses a host certificate and checks the CA's signature over it. */
export function parseHostCertificate(blob: Buffer): HostCertificate {
  const r = new Reader(blob);
  const type = r.text();
  if (!type.endsWith(CERT_SUFFIX)) throw new CertificateError(`${type} is not an OpenSSH certificate`);
  r.string(); // nonce
  const keyBlob = readKey(r, type.slice(0, -CERT_SUFFIX.length));
  const serial = r.uint64();
  const certType = r.uint32();
  if (certType !== HOST_CERT) throw new CertificateError('a user certificate, not a host certificate');
  const keyId = r.text();
  const principalsBlob = new Reader(r.string());
  const principals: string[] = [];
  while (!principalsBlob.done) principals.push(principalsBlob.text());
  const [validAfter, validBefore] = [r.uint64(), r.uint64()];
  const critical = r.string();
  if (critical.length) throw new CertificateError('the certificate has critical options, which no host certificate defines');
  r.string(); // extensions
  r.string(); // reserved
  const caKeyBlob = r.string();
  const signed = blob.subarray(0, r.offset);
  const signature = r.string();
  if (!verifySignature(caKeyBlob, signed, signature)) throw new CertificateError("the CA's signature does not verify");
  return { keyBlob, keyId, principals, validAfter, validBefore, caKeyBlob, serial };
}

const base64url = (b: Buffer) => b.toString('base64url');
/** An mpint's magnitude, without the sign byte OpenSSH adds to a high bit. */
const unsigned = (b: Buffer) => (b[0] === 0 ? b.subarray(1) : b);
const CURVES: Record<string, string> = { nistp256: 'P-256', nistp384: 'P-384', nistp521: 'P-521' };
const ECDSA_HASH: Record<string, string> = { nistp256: 'sha256', nistp384: 'sha384', nistp521: 'sha512' };

function publicKey(blob: Buffer): { key: KeyObject; type: string; curve?: string } {
  const r = new Reader(blob);
  const type = r.text();
  if (type === 'ssh-ed25519') return { type, key: createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: base64url(r.string()) }, format: 'jwk' }) };
  if (type === 'ssh-rsa') {
    const [e, n] = [r.string(), r.string()];
    return { type, key: createPublicKey({ key: { kty: 'RSA', e: base64url(unsigned(e)), n: base64url(unsigned(n)) }, format: 'jwk' }) };
  }
  if (type.startsWith('ecdsa-sha2-')) {
    const curve = r.text();
    const point = r.string();
    const size = (point.length - 1) / 2;
    const crv = CURVES[curve];
    if (!crv || point[0] !== 4) throw new CertificateError(`CA key curve ${curve} is not supported`);
    const jwk = { kty: 'EC', crv, x: base64url(point.subarray(1, 1 + size)), y: base64url(point.subarray(1 + size)) };
    return { type, curve, key: createPublicKey({ key: jwk, format: 'jwk' }) };
  }
  throw new CertificateError(`CA key type ${type} is not supported (ed25519, rsa, ecdsa are)`);
}

function verifySignature(caKeyBlob: Buffer, data: Buffer, signatureField: Buffer): boolean {
  const ca = publicKey(caKeyBlob);
  const r = new Reader(signatureField);
  const sigType = r.text();
  const sig = r.string();
  if (ca.type === 'ssh-ed25519') return sigType === 'ssh-ed25519' && verify(null, data, ca.key, sig);
  if (ca.type === 'ssh-rsa') {
    // SHA-1 (ssh-rsa) signatures are refused, as OpenSSH does by default since 8.8.
    const hash = { 'rsa-sha2-256': 'sha256', 'rsa-sha2-512': 'sha512' }[sigType];
    return hash !== undefined && verify(hash, data, ca.key, sig);
  }
  if (sigType !== ca.type) return false;
  const rs = new Reader(sig);
  const size = ca.key.asymmetricKeyDetails?.namedCurve === 'secp521r1' ? 66 : ca.curve === 'nistp384' ? 48 : 32;
  const fixed = (b: Buffer) => Buffer.concat([Buffer.alloc(Math.max(0, size - unsigned(b).length)), unsigned(b)]);
  const p1363 = Buffer.concat([fixed(rs.string()), fixed(rs.string())]);
  return verify(ECDSA_HASH[ca.curve!]!, data, { key: ca.key, dsaEncoding: 'ieee-p1363' }, p1363);
}

/**
 * Whether a parsed certificate may stand for `hostName` now, signed by one of `caKeys`:
 * null if so, else why not. An empty principals list is refused (OpenSSH would take it as
 * valid for any host; a CA that signs such a certificate vouches for nothing in particular).
 */
export function certificateProblem(cert: HostCertificate, hostName: string, caKeys: readonly Buffer[], nowSeconds: number = Date.now() / 1000): string | null {
  if (!caKeys.some((k) => k.equals(cert.caKeyBlob))) return 'it is signed by a CA that known_hosts does not trust for this host';
  if (!cert.principals.length) return 'it names no host (empty principals)';
  if (!cert.principals.some((p) => p.toLowerCase() === hostName.toLowerCase())) return `it is for ${cert.principals.join(', ')}, not ${hostName}`;
  const now = BigInt(Math.floor(nowSeconds));
  if (now < cert.validAfter) return 'it is not valid yet';
  if (now >= cert.validBefore) return 'it has expired';
  return null;
}
