// SSH host key verification: pinned SHA256 fingerprints or an OpenSSH known_hosts file.
// An unknown key is refused; there is no "accept on first use".
import { createHash, createHmac } from 'node:crypto';

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

function globMatch(pattern: string, value: string): boolean {
  const regex = new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
    'i',
  );
  return regex.test(value);
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
}

export function verifyHostKey(policy: HostKeyPolicy, address: string, port: number, keyBlob: Buffer): HostKeyVerdict {
  const presented = fingerprint(keyBlob);
  const known = (policy.knownHosts ?? []).filter((e) => entryMatchesHost(e, address, port));
  if (known.some((e) => e.marker === 'revoked' && e.keyBlob.equals(keyBlob))) {
    return { accepted: false, reason: `host key ${presented} is marked @revoked in known_hosts` };
  }
  if ((policy.fingerprints ?? []).includes(presented)) return { accepted: true };
  if (known.some((e) => e.marker === null && e.keyBlob.equals(keyBlob))) return { accepted: true };
  const listed = known.filter((e) => e.marker === null);
  if (listed.length) {
    return {
      accepted: false,
      reason: `host key ${presented} does not match the key known_hosts lists for this host (line ${listed.map((e) => e.line).join(', ')}): it CHANGED`,
    };
  }
  if (!policy.fingerprints?.length && !policy.knownHosts) {
    return {
      accepted: false,
      reason: `no host key is pinned for this host (presented ${presented}); add it to hostKeyFingerprints or knownHostsFile after checking it out of band`,
    };
  }
  return { accepted: false, reason: `unknown host key ${presented}; it is not among the pinned keys` };
}
