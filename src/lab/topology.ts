// The embedded lab's topology as data: namespaces, links and addresses. Addresses
// exist only inside these namespaces; nothing here touches the machine's own network.
//
//   mb-obs (observer: probes, SSH proxy)        10.77.0.2
//      | eth0 == p-obs
//   mb-switch [br0]  -- guest network, management (SSH), probe traffic
//      | p-src == eth0                 | p-dst == eth0
//   mb-src [br0: eth0 + VM tap]        mb-dst [br0: eth0 + VM tap]
//      10.77.0.11                         10.77.0.12
//      mig0 ========= migration link ===== mig0
//      10.78.0.11                         10.78.0.12
//
// Migration traffic has a link of its own (as on real hosts with a migration network),
// so its byte counters and any shaping apply to it alone.

import { LAB_NAME, labName } from '../model/paths.js';

export type LabRole = 'source' | 'destination';

export interface LabHostPlan {
  readonly role: LabRole;
  readonly name: 'src' | 'dst';
  readonly netns: string;
  readonly switchPort: string;
  readonly uplink: 'eth0';
  readonly bridge: 'br0';
  readonly address: string;
  readonly migrationInterface: 'mig0';
  readonly migrationAddress: string;
}

export interface LabPlan {
  readonly prefix: string;
  readonly switchNetns: string;
  readonly observer: { readonly netns: string; readonly switchPort: string; readonly address: string };
  readonly hosts: readonly [LabHostPlan, LabHostPlan];
  readonly prefixLength: 24;
  readonly guestAddress: string;
  readonly sshPort: 22;
}

export function labPlan(prefix = labName()): LabPlan {
  if (!LAB_NAME.test(prefix)) throw new Error(`lab prefix must be 1-8 lowercase letters/digits: ${prefix}`);
  const host = (role: LabRole, name: 'src' | 'dst', octet: number): LabHostPlan => ({
    role,
    name,
    netns: `${prefix}-${name}`,
    switchPort: `p-${name}`,
    uplink: 'eth0',
    bridge: 'br0',
    address: `10.77.0.${octet}`,
    migrationInterface: 'mig0',
    migrationAddress: `10.78.0.${octet}`,
  });
  return {
    prefix,
    switchNetns: `${prefix}-switch`,
    observer: { netns: `${prefix}-obs`, switchPort: 'p-obs', address: '10.77.0.2' },
    hosts: [host('source', 'src', 11), host('destination', 'dst', 12)],
    prefixLength: 24,
    guestAddress: '10.77.0.100/24',
    sshPort: 22,
  };
}

export function labNamespaces(plan: LabPlan): string[] {
  return [plan.switchNetns, plan.hosts[0].netns, plan.hosts[1].netns, plan.observer.netns];
}

/**
 * A bridge's own MAC, set once: a Linux bridge without one takes the lowest MAC among its
 * ports, so a VM tap with a lower random MAC renames the host's address, and deleting the
 * tap renames it back. The observer (where the SSH proxy and the probes run) keeps sending
 * to the MAC it learnt until the host next sends it an ARP request: SSH commands and QMP
 * replies stall meanwhile (seen here: every host command after a teardown waited). A set
 * MAC (addr_assign_type 3) is never recomputed. Locally administered, "mb" in the middle.
 */
export function bridgeMac(index: number): string {
  return `02:6d:62:00:00:${index.toString(16).padStart(2, '0')}`;
}

/** The commands that build the network, in order; each runs in the root namespace. */
export function networkCommands(plan: LabPlan): string[][] {
  const cmds: string[][] = [];
  const namespaces = labNamespaces(plan);
  for (const ns of namespaces) cmds.push(['ip', 'netns', 'add', ns]);
  for (const ns of namespaces) {
    cmds.push(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
    // No IPv6: its neighbour discovery would add traffic to the counters.
    cmds.push(['ip', 'netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
  }
  const sw = plan.switchNetns;
  cmds.push(['ip', '-n', sw, 'link', 'add', 'br0', 'address', bridgeMac(1), 'type', 'bridge', 'stp_state', '0', 'forward_delay', '0']);
  cmds.push(['ip', '-n', sw, 'link', 'set', 'br0', 'up']);
  const uplinks = [...plan.hosts.map((h) => ({ netns: h.netns, port: h.switchPort })), { netns: plan.observer.netns, port: plan.observer.switchPort }];
  for (const { netns, port } of uplinks) {
    cmds.push(['ip', 'link', 'add', port, 'netns', sw, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', netns]);
    cmds.push(['ip', '-n', sw, 'link', 'set', port, 'master', 'br0', 'up']);
  }
  for (const h of plan.hosts) {
    cmds.push(['ip', '-n', h.netns, 'link', 'add', h.bridge, 'address', bridgeMac(Number(h.address.split('.').at(-1))), 'type', 'bridge', 'stp_state', '0', 'forward_delay', '0']);
    cmds.push(['ip', '-n', h.netns, 'link', 'set', h.uplink, 'master', h.bridge, 'up']);
    cmds.push(['ip', '-n', h.netns, 'addr', 'add', `${h.address}/${plan.prefixLength}`, 'dev', h.bridge]);
    cmds.push(['ip', '-n', h.netns, 'link', 'set', h.bridge, 'up']);
  }
  cmds.push(['ip', '-n', plan.observer.netns, 'addr', 'add', `${plan.observer.address}/${plan.prefixLength}`, 'dev', 'eth0']);
  cmds.push(['ip', '-n', plan.observer.netns, 'link', 'set', 'eth0', 'up']);
  const [src, dst] = plan.hosts;
  cmds.push(['ip', 'link', 'add', src.migrationInterface, 'netns', src.netns, 'type', 'veth', 'peer', 'name', dst.migrationInterface, 'netns', dst.netns]);
  for (const h of plan.hosts) {
    cmds.push(['ip', '-n', h.netns, 'addr', 'add', `${h.migrationAddress}/${plan.prefixLength}`, 'dev', h.migrationInterface]);
    cmds.push(['ip', '-n', h.netns, 'link', 'set', h.migrationInterface, 'up']);
  }
  return cmds;
}

export function sshdConfig(host: LabHostPlan, dir: string): string {
  return [
    `# migbench lab sshd for ${host.name}; generated by \`migbench lab up\``,
    `ListenAddress ${host.address}`,
    'Port 22',
    `HostKey ${dir}/ssh_host_ed25519_key`,
    `PidFile ${dir}/sshd.pid`,
    `AuthorizedKeysFile ${dir}/authorized_keys`,
    'PermitRootLogin prohibit-password',
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'UsePAM no',
    // The lab's files live under /run; their modes are not what StrictModes expects of a home.
    'StrictModes no',
    'MaxSessions 64',
    'MaxStartups 64:30:128',
    'ClientAliveInterval 10',
    'AllowTcpForwarding yes',
    'AllowStreamLocalForwarding yes',
    'PrintMotd no',
    'LogLevel VERBOSE',
    // Debian's bash reads ~/.bashrc for every command sshd runs (SSH_SOURCE_BASHRC) unless it
    // is not the first shell level: root's dotfiles (a `pyenv init`, say) would otherwise add
    // their start-up time, half a second here, to every command the lab runs.
    'SetEnv SHLVL=1',
    '',
  ].join('\n');
}
