// SSH host key verification: pinned SHA256 fingerprints, OpenSSH known_hosts files, and
// host certificates signed by a CA known_hosts trusts (@cert-authority). An unknown key is
// refused; there is no "accept on first use".
import { createHash, createHmac } from 'node:crypto';
import { CertificateError, certificateProblem, parseHostCertificate } from './hostcert.js';
import { LocalRunner } from './local.js';
import { globMatch } from './sshconfig.js';

/** OpenSSH's `SHA256:…` fingerprint of a public key blob (as `ssh-keygen -lf` prints it). */
export function fingerprint(keyBlob: Buffer): string {
  return `SHA256:${createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '')}`;
}

export interface KnownHostEntry {
  readonly marker: 'revoked' | 'cert-authority' | null;
  readonly patterns: string;
  readonly keyType: string;
  readonly keyBlob: Buffer;
  readonly line: number;
}

export function parseKnownHosts(text: string): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const fields = line.split(/\s+/);
    let marker: KnownHostEntry['marker'] = null;
    if (fields[0] === '@revoked' || fields[0] === '@cert-authority') {
      marker = fields.shift() === '@revoked' ? 'revoked' : 'cert-authority';
    }
    const [patterns, keyType, key] = fields;
    if (!patterns || !keyType || !key) return;
    entries.push({ marker, patterns, keyType, keyBlob: Buffer.from(key, 'base64'), line: index + 1 });
  });
  return entries;
}

/** known_hosts names a non-default port as `[host]:port`. */
function hostToken(address: string, port: number): string {
  return port === 22 ? address : `[${address}]:${port}`;
}

function hashedMatch(pattern: string, token: string): boolean {
  // |1|base64(salt)|base64(HMAC-SHA1(salt, host))
  const [, kind, salt, hash] = pattern.split('|');
  if (kind !== '1' || !salt || !hash) return false;
  return createHmac('sha1', Buffer.from(salt, 'base64')).update(token).digest('base64') === hash;
}

export function entryMatchesHost(entry: KnownHostEntry, address: string, port: number): boolean {
  const token = hostToken(address, port);
  if (entry.patterns.startsWith('|1|')) return hashedMatch(entry.patterns, token);
  let matched = false;
  for (const pattern of entry.patterns.split(',')) {
    const negated = pattern.startsWith('!');
    if (globMatch(negated ? pattern.slice(1) : pattern, token)) {
      if (negated) return false;
      matched = true;
    }
  }
  return matched;
}

export type HostKeyVerdict = { accepted: true } | { accepted: false; reason: string };

export interface HostKeyPolicy {
  readonly fingerprints?: readonly string[];
  readonly knownHosts?: readonly KnownHostEntry[];
  /** Where the known_hosts entries were read from, for messages. */
  readonly knownHostsFiles?: readonly string[];
  /** Keys a valid host certificate vouches for (see certifiedKeys). */
  readonly certified?: readonly Buffer[];
  /** Why a CA known_hosts trusts for this host vouched for no key, if it did not. */
  readonly certificateNote?: string;
}

/** The plain keys known_hosts lists for this host (no marker). */
export function knownHostKeys(policy: HostKeyPolicy, address: string, port: number): KnownHostEntry[] {
  return (policy.knownHosts ?? []).filter((e) => e.marker === null && entryMatchesHost(e, address, port));
}

/** The CA keys known_hosts trusts for this host (@cert-authority), less any marked @revoked. */
export function certificateAuthorities(policy: HostKeyPolicy, address: string, port: number): Buffer[] {
  const known = (policy.knownHosts ?? []).filter((e) => entryMatchesHost(e, address, port));
  const revoked = known.filter((e) => e.marker === 'revoked');
  return known.filter((e) => e.marker === 'cert-authority' && !revoked.some((r) => r.keyBlob.equals(e.keyBlob))).map((e) => e.keyBlob);
}

/**
 * The keys the host's certificates vouch for: fetched with OpenSSH's ssh-keyscan -c (ssh2
 * cannot negotiate certificates), each checked against the trusted CAs, this host's name and
 * the clock. What was wrong with each goes into the note, for the refusal message.
 */
export async function certifiedKeys(address: string, port: number, authorities: readonly Buffer[]): Promise<Pick<HostKeyPolicy, 'certified' | 'certificateNote'>> {
  const scan = await new LocalRunner().run(['ssh-keyscan', '-c', '-T', '10', '-p', String(port), '--', address], { check: false, timeoutMs: 20_000 });
  const blobs = scan.stdout
    .split('\n')
    .filter((l) => l.trim() && !l.startsWith('#'))
    // `[host]:port type blob`, or without the host (OpenSSH 9.2 prints none with -c).
    .map((l) => {
      const fields = l.trim().split(/\s+/);
      const type = fields.findIndex((f) => f.endsWith('-cert-v01@openssh.com'));
      return Buffer.from(type >= 0 ? (fields[type + 1] ?? '') : '', 'base64');
    })
    .filter((b) => b.length);
  if (!blobs.length)
    return {
      certificateNote: `known_hosts trusts a CA for this host, but ssh-keyscan -c got no host certificate from it${scan.stderr.trim() ? ` (${scan.stderr.trim().split('\n').at(-1)})` : ''}`,
    };
  const certified: Buffer[] = [];
  const problems: string[] = [];
  for (const blob of blobs) {
    try {
      const cert = parseHostCertificate(blob);
      const problem = certificateProblem(cert, address, authorities);
      if (problem) problems.push(`certificate "${cert.keyId}": ${problem}`);
      else certified.push(cert.keyBlob);
    } catch (error) {
      if (!(error instanceof CertificateError)) throw error;
      problems.push(`a certificate it presented: ${error.message}`);
    }
  }
  return { certified, ...(problems.length && { certificateNote: problems.join('; ') }) };
}

export function verifyHostKey(policy: HostKeyPolicy, address: string, port: number, keyBlob: Buffer): HostKeyVerdict {
  const presented = fingerprint(keyBlob);
  const known = (policy.knownHosts ?? []).filter((e) => entryMatchesHost(e, address, port));
  if (known.some((e) => e.marker === 'revoked' && e.keyBlob.equals(keyBlob))) {
    return { accepted: false, reason: `host key ${presented} is marked @revoked in known_hosts` };
  }
  if ((policy.fingerprints ?? []).includes(presented)) return { accepted: true };
  if (known.some((e) => e.marker === null && e.keyBlob.equals(keyBlob))) return { accepted: true };
  if ((policy.certified ?? []).some((k) => k.equals(keyBlob))) return { accepted: true };
  const listed = known.filter((e) => e.marker === null);
  if (listed.length) {
    return {
      accepted: false,
      reason: `host key ${presented} does not match the key known_hosts lists for this host (line ${listed.map((e) => e.line).join(', ')}): it CHANGED`,
    };
  }
  if (policy.certificateNote || policy.certified?.length) {
    return { accepted: false, reason: `host key ${presented} is not vouched for by a valid host certificate: ${policy.certificateNote ?? 'the certificate is for another key'}` };
  }
  const files = policy.knownHostsFiles?.length ? ` (looked in ${policy.knownHostsFiles.join(', ')})` : '';
  if (!policy.fingerprints?.length && !known.length) {
    return {
      accepted: false,
      reason: `no host key is known for this host${files} (presented ${presented}); add it to hostKeyFingerprints or a known_hosts file after checking it out of band`,
    };
  }
  return { accepted: false, reason: `unknown host key ${presented}; it is not among the pinned keys` };
}
