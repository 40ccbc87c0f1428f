// How migbench reaches a real host over SSH: the target's own settings first, then what
// the runner's OpenSSH client config says for that name (~/.ssh/config, /etc/ssh/ssh_config),
// then OpenSSH's defaults: so a host users reach with `ssh hv1` is reached the same way,
// keys from files or an ssh-agent, through ProxyJump hosts, host keys (or host certificates)
// checked against the known_hosts files `ssh` would use.
import { existsSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';
import type { HostConnection } from '../generated/config.js';
import { readSecretFile } from '../config/secrets.js';
import { parseKnownHosts, type HostKeyPolicy } from '../exec/hostkey.js';
import type { SshTarget } from '../exec/ssh.js';
import { defaultSshConfigFiles, parseJump, sshHostConfig, type SshHostConfig } from '../exec/sshconfig.js';
import { MigbenchError } from '../model/errors.js';

/** Where OpenSSH looks by default, and what the environment says (the runner's own files, never the workspace's). */
export interface RouteContext {
  readonly home: string;
  readonly sshConfigFiles: readonly string[];
  readonly env: NodeJS.ProcessEnv;
}

export function defaultRouteContext(): RouteContext {
  const home = homedir();
  return { home, sshConfigFiles: defaultSshConfigFiles(home), env: process.env };
}

/** The SSH target for a host of a target: `label` names it in errors ("rack1 source"). */
export async function sshRoute(label: string, host: HostConnection, context: RouteContext = defaultRouteContext()): Promise<SshTarget> {
  const config = sshHostConfig(host.address, context.sshConfigFiles, context.home);
  const address = config.hostName ?? host.address;
  const port = host.port ?? config.port ?? 22;
  const user = host.user ?? config.user ?? userInfo().username;
  const jump = host.proxyCommand ? undefined : await jumpChain(label, config.proxyJump, context);
  return {
    label,
    address,
    port,
    user,
    ...(await logins(label, host, config, context)),
    hostKeys: await hostKeyPolicy(host, config, context),
    ...(host.proxyCommand && { proxyCommand: host.proxyCommand }),
    ...(jump && { jump }),
  };
}

/** ProxyJump `a,b`: a first, then b through it; each hop reached as `ssh` would reach its name (its own ProxyJump aside). */
async function jumpChain(label: string, hops: readonly string[], context: RouteContext): Promise<SshTarget | undefined> {
  let previous: SshTarget | undefined;
  for (const hop of hops) {
    const { user, host, port } = parseJump(hop);
    const config = sshHostConfig(host, context.sshConfigFiles, context.home);
    const connection = { address: host, ...(user && { user }), ...(port && { port }) } as HostConnection;
    const hopLabel = `${label} jump host ${host}`;
    previous = {
      label: hopLabel,
      address: config.hostName ?? host,
      port: port ?? config.port ?? 22,
      user: user ?? config.user ?? userInfo().username,
      ...(await logins(hopLabel, connection, config, context)),
      hostKeys: await hostKeyPolicy(connection, config, context),
      ...(previous && { jump: previous }),
    };
  }
  return previous;
}

const DEFAULT_IDENTITIES = ['id_ed25519', 'id_ecdsa', 'id_rsa'];

/**
 * The keys to log in with: the target's identityFile alone when it names one; else the
 * config's IdentityFiles, or OpenSSH's default ones, those that exist; and the ssh-agent
 * (unless IdentitiesOnly). None at all is an error that says where it looked.
 */
async function logins(label: string, host: HostConnection, config: SshHostConfig, context: RouteContext): Promise<Pick<SshTarget, 'privateKey' | 'morePrivateKeys' | 'agent'>> {
  // The target's own key alone: no agent, as with IdentitiesOnly.
  if (host.identityFile) return { privateKey: await readSecretFile(host.identityFile, 'identity file') };
  const agent = config.identitiesOnly ? undefined : context.env.SSH_AUTH_SOCK || undefined;
  const candidates = config.identityFiles.length ? config.identityFiles : DEFAULT_IDENTITIES.map((f) => join(context.home, '.ssh', f));
  const keys = await Promise.all(candidates.filter((f) => existsSync(f)).map((f) => readSecretFile(f, 'identity file')));
  if (!keys.length && !agent) {
    throw new MigbenchError(
      'MB_CONFIG_READ',
      `${label}: no way to log in: no identityFile in the target, no readable key among ${candidates.join(', ')}, and no ssh-agent (SSH_AUTH_SOCK)${config.identitiesOnly ? ' (IdentitiesOnly yes)' : ''}`,
      { userError: true },
    );
  }
  return { ...(keys[0] && { privateKey: keys[0] }), ...(keys.length > 1 && { morePrivateKeys: keys.slice(1) }), ...(agent && { agent }) };
}

/**
 * Pinned fingerprints and the target's knownHostsFile when it gives either (nothing else is
 * then trusted); else the known_hosts files `ssh` would read. Missing default files are fine:
 * a host no file knows is refused when it presents its key.
 */
async function hostKeyPolicy(host: HostConnection, config: SshHostConfig, context: RouteContext): Promise<HostKeyPolicy> {
  if (host.hostKeyFingerprints?.length || host.knownHostsFile) {
    const files = host.knownHostsFile ? [host.knownHostsFile] : [];
    return { ...(host.hostKeyFingerprints && { fingerprints: host.hostKeyFingerprints }), ...(await knownHosts(files, true)) };
  }
  const ssh = join(context.home, '.ssh');
  const files = [
    ...(config.userKnownHostsFiles ?? [join(ssh, 'known_hosts'), join(ssh, 'known_hosts2')]),
    ...(config.globalKnownHostsFiles ?? ['/etc/ssh/ssh_known_hosts', '/etc/ssh/ssh_known_hosts2']),
  ].filter((f) => f.toLowerCase() !== 'none');
  return knownHosts(files, false);
}

async function knownHosts(files: readonly string[], required: boolean): Promise<Pick<HostKeyPolicy, 'knownHosts' | 'knownHostsFiles'>> {
  const present = required ? files : files.filter((f) => existsSync(f));
  const entries = await Promise.all(present.map(async (f) => parseKnownHosts((await readSecretFile(f, 'known_hosts file')).toString('utf8'))));
  return { knownHosts: entries.flat(), knownHostsFiles: files };
}
