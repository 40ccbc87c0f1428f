/* Generated from schemas/config.schema.json by scripts/generate-types.ts (npm run generate). Do not edit. */

/**
 * What migbench measures (suites of scenarios with thresholds) and where (targets).
 */
export interface MigbenchConfig {
  $schema?: string;
  schemaVersion?: 1;
  defaults?: Defaults;
  /**
   * Named places to migrate on. The name 'lab' is the embedded lab and always exists.
   */
  targets?: {
    [k: string]: Target;
  };
  /**
   * Scenarios per suite; a suite file under suites/ reads the entry of its own name.
   */
  suites: {
    [k: string]: Suite;
  };
  /**
   * Named scenario matrices: a base scenario and axes whose cross product gives the scenarios (like guestperf's comparisons). Run one with `migbench run --matrix NAME`.
   */
  matrices?: {
    [k: string]: Matrix;
  };
  compare?: CompareSettings;
}
/**
 * This interface was referenced by `MigbenchConfig`'s JSON-Schema
 * via the `definition` "Defaults".
 */
export interface Defaults {
  target?: string;
  probe?: ProbeSettings;
  migrationTimeoutMs?: number;
  bootTimeoutMs?: number;
}
/**
 * This interface was referenced by `MigbenchConfig`'s JSON-Schema
 * via the `definition` "ProbeSettings".
 */
export interface ProbeSettings {
  tool?: 'migbench-probe' | 'ping';
  intervalMs?: number;
  /**
   * Gaps longer than this are listed in the record.
   */
  gapThresholdMs?: number;
  /**
   * Probing before the migration starts (the noise floor, and time for a fresh guest to settle after its boot).
   */
  leadInMs?: number;
  /**
   * The watch after a migration ends once this many consecutive probe replies, and as many guest heartbeats, came with nothing lost and no silence of gapThresholdMs (at most observeAfterMs). 0: a fixed watch of observeAfterMs.
   */
  steadyReplies?: number;
  /**
   * How long to wait after completion for the guest to answer again.
   */
  settleTimeoutMs?: number;
  /**
   * Guest agent heartbeat period.
   */
  heartbeatMs?: number;
  /**
   * How long to keep watching the guest after it answers again, at most, before verifying its memory: the window ends once the probes are steady (steadyReplies).
   */
  observeAfterMs?: number;
}
/**
 * This interface was referenced by `MigbenchConfig`'s JSON-Schema
 * via the `definition` "Target".
 */
export interface Target {
  /**
   * qemu: QEMU started and driven over QMP by migbench; libvirt: domains defined and migrated with virsh, as administrators run KVM; xenserver: a pool's VM migrated through XenAPI (XenServer / XCP-ng). vsphere: an inventory VM moved with RelocateVM_Task through vCenter (vMotion, storage vMotion). hyperv: a host's VM moved with Move-VM, PowerShell over SSH.
   */
  hypervisor: 'qemu' | 'libvirt' | 'xenserver' | 'vsphere' | 'hyperv';
  /**
   * Use the embedded lab's hosts (source, destination, observer come from `migbench lab up`).
   */
  lab?: boolean;
  source?: HostConnection;
  destination?: HostConnection;
  observer?: Observer;
  guestNetwork?: GuestNetwork;
  qemu?: QemuSettings;
  libvirt?: LibvirtSettings;
  xenserver?: XenServerSettings;
  vsphere?: VsphereSettings;
  hyperv?: HypervSettings;
  /**
   * A folder both hosts see at the same path (NFS, a cluster filesystem): memory migration keeps the guest's disk there. Storage migration uses each host's workDir instead.
   */
  sharedStorageDir?: string;
}
/**
 * This interface was referenced by `MigbenchConfig`'s JSON-Schema
 * via the `definition` "HostConnection".
 */
export interface HostConnection {
  /**
   * SSH address of the hypervisor host, or a Host name of the runner's ~/.ssh/config (its HostName, User, Port, IdentityFile, ProxyJump and known hosts files apply where this target does not say).
   */
  address: string;
  port?: number;
  /**
   * Login user. Default: the ~/.ssh/config User for the address, else the user running migbench.
   */
  user?: string;
  /**
   * Private key file; never printed. Default: the ~/.ssh/config IdentityFiles for the address, else ~/.ssh/id_ed25519, id_ecdsa, id_rsa; and the ssh-agent (SSH_AUTH_SOCK) unless this is set.
   */
  identityFile?: string;
  /**
   * Pinned host keys (ssh-keygen -lf format). When this or knownHostsFile is set, nothing else is trusted; else the known_hosts files ssh would read (~/.ssh/known_hosts, /etc/ssh/ssh_known_hosts, or the config's UserKnownHostsFile), @cert-authority lines included. A host whose key is not known is refused.
   */
  hostKeyFingerprints?: string[];
  /**
   * known_hosts file to verify the host key against (plain keys, @revoked and @cert-authority lines), instead of the default files.
   */
  knownHostsFile?: string;
  /**
   * argv whose stdin/stdout carry the SSH connection, like OpenSSH's ProxyCommand.
   *
   * @minItems 1
   */
  proxyCommand?: [string, ...string[]];
  /**
   * Address the migration stream uses on this host.
   */
  migrationAddress: string;
  /**
   * Interface whose counters give the bytes on the wire.
   */
  migrationInterface: string;
  /**
   * Where VM sockets and logs live on the host.
   */
  workDir?: string;
}
/**
 * This interface was referenced by `MigbenchConfig`'s JSON-Schema
 * via the `definition` "Observer".
 */
export interface Observer {
  /**
   * Network namespace on the machine running migbench from which probes are sent.
   */
  netns?: string;
}
/**
 * This interface was referenced by `MigbenchConfig`'s JSON-Schema
 * via the `definition` "GuestNetwork".
 */
export interface GuestNetwork {
  /**
   * The guest's IPv4 address with prefix length.
   */
  address: string;
  /**
   * Bridge on each host the guest's tap joins.
   */
  bridge: string;
}
/**
 * This interface was referenced by `MigbenchConfig`'s JSON-Schema
 * via the `definition` "QemuSettings".
 */
export interface QemuSettings {
  binary?: string;
  accel?: 'auto' | 'kvm' | 'tcg';
  /**
   * QEMU machine type (e.g. q35, pc-q35-7.2): a name only; machine properties go in extraArgs (-machine KEY=VALUE, allow-listed).
   */
  machine?: string;
  /**
   * Under TCG on QEMU before 9.0, pad guest RAM by 8 KiB so QEMU syncs its dirty bitmap on the path that keeps TCG's TLB coherent; without it, pages written during the second and later passes are lost (QEMU commit 03bfc2188f). Recorded in every record's workarounds.
   */
  tcgDirtyBitmapWorkaround?: boolean;
  /**
   * More QEMU options for both hosts' QEMU, as argv pairs (e.g. ["-cpu", "qemu64,+ssse3", "-overcommit", "mem-lock=off"]). From an allow-list that cannot reach files, programs or sockets: -cpu, -machine (properties), -overcommit, -rtc, -global (properties of migbench's devices), -object iothread. qemu targets only; libvirt targets take libvirt.domainXml.
   *
   * @maxItems 64
   */
  extraArgs?: string[];
  /**
   * Pin processes to CPUs (taskset -c lists such as "0" or "2-3"), for quieter numbers: the QEMU processes on the source host, those on the destination host (a guest migrated back and forth runs on both), and the probes (the observer's ICMP probe and the agent taps). In the embedded lab all three are this machine's CPUs. qemu targets only.
   */
  cpus?: {
    source?: string;
    destination?: string;
    probes?: string;
  };
}
/**
 * This interface was referenced by `MigbenchConfig`'s JSON-Schema
 * via the `definition` "LibvirtSettings".
 */
export interface LibvirtSettings {
  /**
   * p2p: the source libvirtd drives the migration (virsh migrate --p2p); managed-direct: virsh on the source host drives both daemons.
   */
  mode?: 'p2p' | 'managed-direct';
  /**
   * How the source reaches the destination's libvirtd, e.g. qemu+ssh://dst.example/system or qemu+tls://dst.example/system. Default: qemu+tcp://<destination migrationAddress>/system.
   */
  destinationUri?: string;
  /**
   * Each host's own folder for guest images (storage migration copies between them).
   */
  imageDir?: string;
  /**
   * Pass --unsafe to memory migrations: libvirt only calls storage shared on filesystems it knows as shared (NFS, GFS2, Ceph, ...).
   */
  unsafe?: boolean;
  /**
   * Domain-level elements added to (or replacing migbench's own) in the guest's domain XML, e.g. "<cpu mode='custom'><model>qemu64</model></cpu>". Allowed: <cpu>, <clock>, <features>, <memoryBacking>, <memtune>, <cputune>, <numatune>, <blkiotune>, <iothreads>, <pm>; values are words and numbers (no paths, URIs or namespaced elements such as qemu:commandline).
   */
  domainXml?: string;
}
/**
 * This interface was referenced by `MigbenchConfig`'s JSON-Schema
 * via the `definition` "XenServerSettings".
 */
export interface XenServerSettings {
  /**
   * The pool coordinator's XenAPI address, e.g. https://xcp1.example.net (JSON-RPC at /jsonrpc). TLS certificates are verified (add a private CA with NODE_EXTRA_CA_CERTS). http:// (a password sent in the clear) is refused unless insecure: true.
   */
  url: string;
  user: string;
  /**
   * Environment variable holding the password; never printed.
   */
  passwordEnv?: string;
  /**
   * File holding the password (first line); never printed.
   */
  passwordFile?: string;
  /**
   * Name label of the pool's VM to migrate; it must run on sourceHost. migbench does not install guests on a pool.
   */
  vm: string;
  /**
   * Name label of the host the VM starts on.
   */
  sourceHost: string;
  /**
   * Name label of the host it moves to.
   */
  destinationHost: string;
  storage?: {
    /**
     * SR on the destination every disk moves to (storage migration).
     */
    sr: string;
    /**
     * Network every VIF joins on the destination.
     */
    network: string;
    /**
     * SR to bring the disks back to afterwards.
     */
    sourceSr?: string;
    sourceNetwork?: string;
  };
  /**
   * Allow an http:// url: the password crosses the network unencrypted. For a lab or a simulator on this machine only.
   */
  insecure?: boolean;
  /**
   * A XenAPI call not answered in this long fails, naming the URL (an endpoint that accepts and never answers must not hang the run).
   */
  requestTimeoutMs?: number;
}
/**
 * This interface was referenced by `MigbenchConfig`'s JSON-Schema
 * via the `definition` "VsphereSettings".
 */
export interface VsphereSettings {
  /**
   * vCenter's SDK endpoint, e.g. https://vcenter.example.net/sdk. TLS certificates are verified (add a private CA with NODE_EXTRA_CA_CERTS). http:// (a password sent in the clear) is refused unless insecure: true.
   */
  url: string;
  user: string;
  /**
   * Environment variable holding the password; never printed.
   */
  passwordEnv?: string;
  /**
   * File holding the password (first line); never printed.
   */
  passwordFile?: string;
  /**
   * Inventory name of the VM to migrate; it must be powered on on sourceHost.
   */
  vm: string;
  /**
   * Inventory name of the ESXi host the VM starts on.
   */
  sourceHost: string;
  destinationHost: string;
  storage?: {
    /**
     * Datastore storage vMotion moves the disks to.
     */
    datastore: string;
    /**
     * Datastore to bring them back to afterwards.
     */
    sourceDatastore?: string;
  };
  /**
   * Allow an http:// url: the password crosses the network unencrypted. For a lab or a simulator on this machine only.
   */
  insecure?: boolean;
  /**
   * A vCenter call not answered in this long fails, naming the URL (an endpoint that accepts and never answers must not hang the run).
   */
  requestTimeoutMs?: number;
}
/**
 * This interface was referenced by `MigbenchConfig`'s JSON-Schema
 * via the `definition` "HypervSettings".
 */
export interface HypervSettings {
  /**
   * The VM's name; it must run on the source host (reached over SSH: OpenSSH on Windows Server).
   */
  vm: string;
  /**
   * Computer name Move-VM is given to bring the VM back.
   */
  sourceHost: string;
  /**
   * Computer name Move-VM moves the VM to.
   */
  destinationHost: string;
  storage?: {
    /**
     * Storage migration: the VM's folder on the destination (-DestinationStoragePath).
     */
    destinationPath: string;
    /**
     * Its folder on the source, to bring it back.
     */
    sourcePath?: string;
  };
  /**
   * The PowerShell command on the hosts (e.g. [pwsh]).
   *
   * @minItems 1
   */
  shell?: [string, ...string[]];
}
/**
 * This interface was referenced by `MigbenchConfig`'s JSON-Schema
 * via the `definition` "Suite".
 */
export interface Suite {
  description?: string;
  /**
   * Run every scenario of the suite that names no target of its own on each of these targets (e.g. [lab, lab-libvirt]: QEMU driven directly and through libvirt, on the same guest). On defaults.target a scenario keeps its name; elsewhere it is called NAME@TARGET.
   *
   * @minItems 1
   */
  targets?: [string, ...string[]];
  /**
   * @minItems 1
   */
  scenarios: [Scenario, ...Scenario[]];
}
/**
 * This interface was referenced by `MigbenchConfig`'s JSON-Schema
 * via the `definition` "Scenario".
 */
export interface Scenario {
  name: string;
  description?: string;
  /**
   * Overrides defaults.target.
   */
  target?: string;
  guest: Guest;
  workload?: Workload;
  migration: Migration;
  probe?: ProbeSettings;
  thresholds?: Thresholds;
  repeat?: number;
  /**
   * Boot a fresh guest for every repetition, whatever samplesPerBoot says.
   */
  fresh?: boolean;
  /**
   * Samples one booted guest gives, migrated back and forth, before a fresh one boots. 1 (the default): every sample boots its own guest. More is cheaper (a kept guest's sample costs about 2.6 s against 8.5 s on a 2-core TCG machine) but its samples are not independent: they share their boot's offset, and migbench's comparison still counts samples, not boots, so a gate should keep 1. See docs/measurement.md.
   */
  samplesPerBoot?: number;
  link?: LinkShaping;
}
/**
 * This interface was referenced by `MigbenchConfig`'s JSON-Schema
 * via the `definition` "Guest".
 */
export interface Guest {
  memoryMiB: number;
  vcpus?: number;
  /**
   * Virtual size of the guest's disk (qcow2, virtio-blk); 0 for a guest without a disk.
   */
  diskMiB?: number;
  /**
   * Data on the disk when the migration starts: written by the guest agent at boot, verified after the migration.
   */
  diskDataMiB?: number;
}
/**
 * What the guest does during the migration. Parts combine; an empty workload is an idle guest.
 *
 * This interface was referenced by `MigbenchConfig`'s JSON-Schema
 * via the `definition` "Workload".
 */
export interface Workload {
  memory?: {
    workingSetMiB: number;
    /**
     * 10^6 bytes per second.
     */
    dirtyRateMBps: number;
    pattern?: 'sequential' | 'random';
  };
  disk?: {
    /**
     * Part of the disk's data the guest rewrites (within guest.diskDataMiB).
     */
    workingSetMiB: number;
    /**
     * 10^6 bytes per second, O_DIRECT 4 KiB writes.
     */
    writeRateMBps: number;
  };
  cpu?: {
    /**
     * Threads that only compute.
     */
    threads: number;
  };
}
/**
 * This interface was referenced by `MigbenchConfig`'s JSON-Schema
 * via the `definition` "Migration".
 */
export interface Migration {
  /**
   * memory: shared storage, only RAM and device state move. storage: the disk is copied too (NBD + drive mirror, the way libvirt does it).
   */
  kind: 'memory' | 'storage';
  downtimeLimitMs?: number;
  maxBandwidthMiBps?: number;
  multifdChannels?: number;
  autoConverge?: boolean;
  xbzrleCacheMiB?: number;
  timeoutMs?: number;
  /**
   * Enable postcopy and switch to it this long after the migration starts, if it has not completed.
   */
  postcopyAfterMs?: number;
}
/**
 * Upper bounds the suite asserts; every metric is smaller-is-better.
 *
 * This interface was referenced by `MigbenchConfig`'s JSON-Schema
 * via the `definition` "Thresholds".
 */
export interface Thresholds {
  totalTimeMs?: number;
  wallTimeMs?: number;
  downtimeMs?: number;
  observedDowntimeMs?: number;
  guestPauseMs?: number;
  setupTimeMs?: number;
  transferredBytes?: number;
  wireBytes?: number;
  iterations?: number;
  stopToResumeMs?: number;
}
/**
 * Shaping of the migration link between the lab's hosts (tc, both directions). Embedded lab only.
 *
 * This interface was referenced by `MigbenchConfig`'s JSON-Schema
 * via the `definition` "LinkShaping".
 */
export interface LinkShaping {
  /**
   * Megabits per second (10^6 bit/s), token bucket (tbf).
   */
  bandwidthMbps?: number;
  /**
   * One-way delay added in each direction (netem).
   */
  delayMs?: number;
}
/**
 * This interface was referenced by `MigbenchConfig`'s JSON-Schema
 * via the `definition` "Matrix".
 */
export interface Matrix {
  description?: string;
  /**
   * Scenario fields every expanded scenario starts from (everything but name); axes override them.
   */
  base: {};
  /**
   * @minItems 1
   */
  axes: [MatrixAxis, ...MatrixAxis[]];
  /**
   * Runs of each expanded scenario (overridden by --repeat).
   */
  repeat?: number;
}
/**
 * This interface was referenced by `MigbenchConfig`'s JSON-Schema
 * via the `definition` "MatrixAxis".
 */
export interface MatrixAxis {
  /**
   * Dotted path of the scenario field this axis sets, e.g. guest.memoryMiB or migration.kind.
   */
  path: string;
  /**
   * @minItems 1
   */
  values: [unknown, ...unknown[]];
  /**
   * One per value, used in scenario names; required when a value is not a number or string.
   */
  labels?: string[];
}
/**
 * How `migbench compare` judges base against head.
 */
export interface CompareSettings {
  /**
   * Family-wise significance level over every judged metric of every scenario (one-sided permutation tests of whole runs, Westfall-Young step-down minP).
   */
  alpha?: number;
  default?: ChangeThresholds;
  metrics?: MetricThresholds;
  /**
   * Per scenario name, per metric.
   */
  scenarios?: {
    [k: string]: MetricThresholds;
  };
  /**
   * Metrics that get a verdict. Default: totalTimeMs, downtimeMs, stopToResumeMs, observedDowntimeMs, guestPauseMs, transferredBytes, wireBytes. They are tested together over all scenarios; metrics that move together cost little power.
   *
   * @minItems 1
   */
  judge?: [
    (
      | 'totalTimeMs'
      | 'wallTimeMs'
      | 'setupTimeMs'
      | 'downtimeMs'
      | 'stopToResumeMs'
      | 'observedDowntimeMs'
      | 'guestPauseMs'
      | 'observedSwitchoverMs'
      | 'guestSwitchoverPauseMs'
      | 'transferredBytes'
      | 'wireBytes'
      | 'diskBytes'
      | 'wireRamBytes'
      | 'wireDiskBytes'
      | 'iterations'
      | 'dirtyRatePagesPerSec'
      | 'mirrorTimeMs'
    ),
    ...(
      | 'totalTimeMs'
      | 'wallTimeMs'
      | 'setupTimeMs'
      | 'downtimeMs'
      | 'stopToResumeMs'
      | 'observedDowntimeMs'
      | 'guestPauseMs'
      | 'observedSwitchoverMs'
      | 'guestSwitchoverPauseMs'
      | 'transferredBytes'
      | 'wireBytes'
      | 'diskBytes'
      | 'wireRamBytes'
      | 'wireDiskBytes'
      | 'iterations'
      | 'dirtyRatePagesPerSec'
      | 'mirrorTimeMs'
    )[]
  ];
  /**
   * What an inconclusive row (the interval reaches past the fail threshold, the runs cannot confirm it) whose estimate is itself past the fail threshold does to the gate: fail (default) or pass.
   */
  inconclusive?: 'fail' | 'pass';
}
/**
 * This interface was referenced by `MigbenchConfig`'s JSON-Schema
 * via the `definition` "ChangeThresholds".
 */
export interface ChangeThresholds {
  /**
   * A significant change at least this large (% of the base median) warns.
   */
  warnPct: number;
  /**
   * A significant change whose whole 95% interval exceeds this fails (regression).
   */
  failPct: number;
}
/**
 * This interface was referenced by `MigbenchConfig`'s JSON-Schema
 * via the `definition` "MetricThresholds".
 */
export interface MetricThresholds {
  totalTimeMs?: ChangeThresholds;
  wallTimeMs?: ChangeThresholds;
  setupTimeMs?: ChangeThresholds;
  downtimeMs?: ChangeThresholds;
  stopToResumeMs?: ChangeThresholds;
  observedDowntimeMs?: ChangeThresholds;
  guestPauseMs?: ChangeThresholds;
  observedSwitchoverMs?: ChangeThresholds;
  guestSwitchoverPauseMs?: ChangeThresholds;
  transferredBytes?: ChangeThresholds;
  wireBytes?: ChangeThresholds;
  diskBytes?: ChangeThresholds;
  wireRamBytes?: ChangeThresholds;
  wireDiskBytes?: ChangeThresholds;
  iterations?: ChangeThresholds;
  dirtyRatePagesPerSec?: ChangeThresholds;
  mirrorTimeMs?: ChangeThresholds;
}
