// OpenSSH's client configuration (~/.ssh/config, /etc/ssh/ssh_config), read the way `ssh`
// reads it for the settings migbench uses: HostName, User, Port, IdentityFile, ProxyJump,
// UserKnownHostsFile, GlobalKnownHostsFile, IdentitiesOnly. The first value obtained wins
// (IdentityFile adds up), Host patterns with * ? and !, Include. Nothing in it is run:
// `Match` blocks are skipped (`Match exec` would run a command) and a ProxyCommand, a
// shell string, is refused with the argv alternative.
import { readFileSync, readdirSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import { MigbenchError } from '../model/errors.js';

/** What the config says about one host, before migbench's own settings override it. */
export interface SshHostConfig {
  readonly hostName?: string;
  readonly user?: string;
  readonly port?: number;
  /** In the order given; `~` and %-tokens expanded. */
  readonly identityFiles: readonly string[];
  /** `[user@]host[:port]` hops, first one first; none when the config says `none` or nothing. */
  readonly proxyJump: readonly string[];
  readonly userKnownHostsFiles?: readonly string[];
  readonly globalKnownHostsFiles?: readonly string[];
  readonly identitiesOnly?: boolean;
  /** Where each value came from, `file:line`, for messages. */
  readonly sources: Readonly<Record<string, string>>;
}

interface Line {
  readonly keyword: string;
  readonly args: string[];
  readonly where: string;
}

const KEYWORDS = new Set(['hostname', 'user', 'port', 'identityfile', 'proxyjump', 'userknownhostsfile', 'globalknownhostsfile', 'identitiesonly', 'proxycommand']);

/** The files `ssh` reads, user's first: the first value obtained wins. */
export function defaultSshConfigFiles(home: string = homedir()): string[] {
  return [join(home, '.ssh', 'config'), '/etc/ssh/ssh_config'];
}

/** Splits a config line into its keyword and arguments (`Key value`, `Key=value`, quoted arguments). */
function tokenize(text: string): string[] {
  const tokens: string[] = [];
  const re = /"([^"]*)"|([^\s"=]+)|=/g;
  let match: RegExpExecArray | null;
  let sawKeyword = false;
  while ((match = re.exec(text))) {
    if (match[0] === '=') {
      if (!sawKeyword || tokens.length > 1) tokens.push('=');
      continue;
    }
    tokens.push(match[1] ?? match[2]!);
    sawKeyword = true;
  }
  return tokens;
}

/** OpenSSH's pattern: `*` any run, `?` one character, case-insensitive (ssh_config Host, known_hosts). */
export function globMatch(pattern: string, value: string): boolean {
  const regex = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${regex}$`, 'i').test(value);
}

/** OpenSSH's Host line: any pattern matches, and no negated one does. */
export function hostMatches(patterns: readonly string[], host: string): boolean {
  let matched = false;
  for (const p of patterns) {
    if (p.startsWith('!')) {
      if (globMatch(p.slice(1), host)) return false;
    } else if (globMatch(p, host)) matched = true;
  }
  return matched;
}

/** The lines that apply to `host`, across the files and their Includes, in order. */
function applicableLines(files: readonly string[], host: string, home: string): Line[] {
  const out: Line[] = [];
  const visit = (file: string, depth: number): void => {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      return;
    }
    // Lines before the first Host apply to every host.
    let active = true;
    text.split('\n').forEach((raw, index) => {
      const tokens = tokenize(raw.replace(/#.*$/, '').trim());
      if (!tokens.length) return;
      const [word, ...args] = tokens;
      const keyword = word!.toLowerCase();
      const where = `${file}:${index + 1}`;
      if (keyword === 'host') active = hostMatches(args, host);
      else if (keyword === 'match') active = false;
      else if (!active) return;
      else if (keyword === 'include') {
        if (depth >= 16) throw new MigbenchError('MB_CONFIG_READ', `${where}: Include nested too deeply`, { userError: true });
        for (const pattern of args) for (const included of expandInclude(pattern, file, home)) visit(included, depth + 1);
      } else if (KEYWORDS.has(keyword)) out.push({ keyword, args: args.filter((a) => a !== '='), where });
    });
  };
  for (const file of files) visit(file, 0);
  return out;
}

/** An Include's files: relative ones under ~/.ssh (user config) or /etc/ssh; `*` in the file name. */
function expandInclude(pattern: string, from: string, home: string): string[] {
  const expanded = pattern.replace(/^~(?=\/)/, home);
  const path = isAbsolute(expanded) ? expanded : join(from.startsWith(join(home, '.ssh')) ? join(home, '.ssh') : '/etc/ssh', expanded);
  const base = path.slice(path.lastIndexOf('/') + 1);
  if (!/[*?]/.test(base)) return [path];
  const dir = dirname(path);
  try {
    return readdirSync(dir)
      .filter((name) => globMatch(base, name))
      .sort()
      .map((name) => join(dir, name));
  } catch {
    return [];
  }
}

/** `~` and the %-tokens OpenSSH expands in file names. */
function expandPath(value: string, tokens: { host: string; hostName: string; user: string; port: number; home: string }): string {
  const expanded = value.replace(/^~(?=\/|$)/, tokens.home).replace(/%([%dhnpru])/g, (_, t: string) => {
    switch (t) {
      case '%':
        return '%';
      case 'd':
        return tokens.home;
      case 'h':
        return tokens.hostName;
      case 'n':
        return tokens.host;
      case 'p':
        return String(tokens.port);
      case 'r':
        return tokens.user;
      default:
        return userInfo().username;
    }
  });
  return expanded;
}

/**
 * What the config files say for `host` (as written in migbench's config: an alias or a
 * name). `user`/`port` given in migbench's config take part in %r/%p expansion.
 */
export function sshHostConfig(host: string, files: readonly string[] = defaultSshConfigFiles(), home: string = homedir()): SshHostConfig {
  const first = new Map<string, Line>();
  const identityLines: Line[] = [];
  for (const line of applicableLines(files, host, home)) {
    if (line.keyword === 'identityfile') identityLines.push(line);
    else if (!first.has(line.keyword)) first.set(line.keyword, line);
  }
  const proxyCommand = first.get('proxycommand');
  if (proxyCommand && proxyCommand.args[0]?.toLowerCase() !== 'none') {
    throw new MigbenchError(
      'MB_CONFIG_INVALID',
      `${proxyCommand.where}: ProxyCommand (a shell string) is not run by migbench; use ProxyJump there, or proxyCommand as an argv in the target's host`,
      { userError: true },
    );
  }
  const value = (k: string) => first.get(k)?.args[0];
  const hostName = value('hostname')?.replace(/%h/g, host);
  const portText = value('port');
  const port = portText === undefined ? undefined : Number(portText);
  if (port !== undefined && !(Number.isInteger(port) && port > 0 && port < 65536)) {
    throw new MigbenchError('MB_CONFIG_INVALID', `${first.get('port')!.where}: Port ${portText} is not a port number`, { userError: true });
  }
  const tokens = { host, hostName: hostName ?? host, user: value('user') ?? userInfo().username, port: port ?? 22, home };
  const jump = value('proxyjump');
  const paths = (k: string) => (first.has(k) ? first.get(k)!.args.map((f) => expandPath(f, tokens)) : undefined);
  const userKnownHostsFiles = paths('userknownhostsfile');
  const globalKnownHostsFiles = paths('globalknownhostsfile');
  return {
    ...(hostName && { hostName }),
    ...(value('user') && { user: value('user')! }),
    ...(port !== undefined && { port }),
    identityFiles: identityLines.flatMap((l) => l.args).map((f) => expandPath(f, tokens)),
    proxyJump: jump && jump.toLowerCase() !== 'none' ? jump.split(',') : [],
    ...(userKnownHostsFiles && { userKnownHostsFiles }),
    ...(globalKnownHostsFiles && { globalKnownHostsFiles }),
    ...(value('identitiesonly') && { identitiesOnly: value('identitiesonly')!.toLowerCase() === 'yes' }),
    sources: Object.fromEntries([...first.entries()].map(([k, l]) => [k, l.where])),
  };
}

/** A ProxyJump hop, `[user@]host[:port]` (or `ssh://[user@]host[:port]`). */
export function parseJump(hop: string): { user?: string; host: string; port?: number } {
  const m = /^(?:ssh:\/\/)?(?:([^@]+)@)?(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(hop.trim());
  if (!m) throw new MigbenchError('MB_CONFIG_INVALID', `ProxyJump hop "${hop}" is not [user@]host[:port]`, { userError: true });
  return { ...(m[1] && { user: m[1] }), host: m[2]!.replace(/^\[|\]$/g, ''), ...(m[3] && { port: Number(m[3]) }) };
}
