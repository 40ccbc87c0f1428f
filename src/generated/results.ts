/* Generated from schemas/results.schema.json by scripts/generate-types.ts (npm run generate). Do not edit. */

/**
 * This interface was referenced by `ResultsFile`'s JSON-Schema
 * via the `definition` "HypervisorKind".
 */
export type HypervisorKind = 'qemu' | 'libvirt' | 'xenserver' | 'vsphere' | 'hyperv';
/**
 * This interface was referenced by `ResultsFile`'s JSON-Schema
 * via the `definition` "MigrationKind".
 */
export type MigrationKind = 'memory' | 'storage';

/**
 * A migbench results file: every migration measured in one run. The only input of tables, comparisons and plots.
 */
export interface ResultsFile {
  $schema?: string;
  /**
   * Version of this schema; readers refuse versions they do not know.
   */
  schemaVersion: 1;
  migbenchVersion: string;
  /**
   * Commit of migbench that measured, null outside a git checkout.
   */
  gitSha: string | null;
  startedAt: string;
  updatedAt: string;
  config: {
    path: string;
    sha256: string;
  };
  records: MigrationRecord[];
}
/**
 * One migration, as measured. Metrics that could not be measured are null, never guessed.
 *
 * This interface was referenced by `ResultsFile`'s JSON-Schema
 * via the `definition` "MigrationRecord".
 */
export interface MigrationRecord {
  id: string;
  suite: string;
  /**
   * Full name of the vitest test that measured it.
   */
  test: string;
  scenario: string;
  /**
   * What the measurement depends on (guest, workload, migration knobs, link, probe, the target's hypervisor and knobs) as a key: records of equal fingerprints measured the same thing. Stored baselines are looked up by it. Absent in files written before migbench recorded it.
   */
  scenarioFingerprint?: string;
  repetition: number;
  chain?: GuestChain;
  target: string;
  hypervisor: HypervisorKind;
  kind: MigrationKind;
  startedAt: string;
  status: 'completed' | 'failed' | 'cancelled';
  error: null | RecordError;
  guest: GuestSummary;
  workload: WorkloadSummary;
  metrics: Metrics;
  metricSources: MetricSources;
  probe: null | ProbeSummary;
  heartbeat: null | HeartbeatSummary;
  wire: null | WireCounters;
  parameters: MigrationParameters;
  /**
   * Migration capabilities enabled on the source, as the hypervisor reported them.
   */
  capabilities: string[];
  timeline: ProgressSample[];
  events: HypervisorEvent[];
  integrity: Integrity;
  environment: Environment;
  /**
   * Changes migbench made to work around known hypervisor bugs for this run, in words; empty when none.
   */
  workarounds: string[];
  /**
   * Faults around the measurement and what migbench did about them, in words (a connection lost and made again, a figure left out because of it). Absent when none.
   */
  notes?: string[];
  /**
   * Steps after the measurement that failed without touching it (a teardown step that could not stop a QEMU or remove a tap): the record keeps its status, and what may be left on the hosts is named here. Absent when none.
   */
  warnings?: RecordWarning[];
  /**
   * Where the runner's wall time went, per engine phase, in ms; a phase the run did not reach is absent. For the harness overhead: wallMs less the hypervisor's total time is what migbench itself, the boot and the configured windows add per migration. Absent in files written before migbench recorded it.
   */
  harnessMs?: {
    /**
     * starting the source guest (its commands and QEMU up; on the first run against a target, reading its environment too)
     */
    startGuestMs?: number;
    /**
     * from the guest started to its first agent heartbeat and probe reply
     */
    bootMs?: number;
    /**
     * preparing the destination (incoming QEMU, NBD export), outside the boot when it overlaps it
     */
    prepareMs?: number;
    /**
     * the configured quiet window before the migrate command, with the counters read around it
     */
    leadInMs?: number;
    /**
     * from the migrate command to the final status seen by the runner
     */
    migrateMs?: number;
    /**
     * from the final status to the guest answering again
     */
    settleMs?: number;
    /**
     * the configured watch after the migration, with the counters read at its end
     */
    observeMs?: number;
    /**
     * the agent verifying memory and disk, and the hypervisor inspected
     */
    verifyMs?: number;
    /**
     * probe, counters, taps and both sides of the guest removed
     */
    teardownMs?: number;
    /**
     * all of it, from the start of the run to the end of its teardown
     */
    wallMs?: number;
  };
  /**
   * SSH channels migbench opened to each host for this sample: commands, taps and forwarded sockets (QMP, the agent), each at least one round trip over the link to the host. Absent for hosts not reached over SSH, and in files written before migbench counted them.
   */
  sshChannels?: {
    source?: number;
    destination?: number;
  };
  link: null | {
    interface: string;
    bandwidthMbps: number | null;
    delayMs: number | null;
  };
  storage: null | StorageSummary;
  /**
   * For a scenario from a matrix: the label of its value on each axis, by axis path (guest.memoryMiB: "256"); null otherwise.
   */
  axes: null | {
    [k: string]: string;
  };
  /**
   * In an A/B run (migbench run --ab), which configuration measured this record; absent otherwise.
   */
  variant?: 'base' | 'head';
}
/**
 * The guest this sample migrated and where it stands among the samples of that guest. Repetitions migrate one running guest back and forth (ping-pong); a chain starts with a fresh boot. Absent in files written before migbench reused guests.
 *
 * This interface was referenced by `ResultsFile`'s JSON-Schema
 * via the `definition` "GuestChain".
 */
export interface GuestChain {
  /**
   * The guest's id: records of one chain migrated the same running guest.
   */
  id: string;
  /**
   * 1 for the chain's first sample (the guest was just booted), 2 for the one after, and so on.
   */
  position: number;
  /**
   * out: from the target's source host to its destination; back: the return trip, from the destination to the source (the record's source and destination are then the hosts as this sample used them).
   */
  direction: 'out' | 'back';
  /**
   * fresh: the guest was booted for this sample; reused: the previous sample's guest, migrated again.
   */
  boot: 'fresh' | 'reused';
  /**
   * Why this sample booted a fresh guest: first sample of its scenario, the previous sample failed or was damaged, fresh: true in the scenario, or the driver cannot migrate a guest back.
   */
  freshBecause?: string;
  /**
   * The guest's dirtier rate over this sample, from its own page counters (null without a dirtying workload or reports): shows a reused guest's workload kept its rate.
   */
  dirtyRatePagesPerSec?: number | null;
}
/**
 * This interface was referenced by `ResultsFile`'s JSON-Schema
 * via the `definition` "RecordError".
 */
export interface RecordError {
  /**
   * Stable machine-readable code, e.g. MB_QMP_ERROR.
   */
  code: string;
  message: string;
  /**
   * Where it happened: start-guest, prepare, migrate, verify, teardown.
   */
  phase?: string;
  host?: string;
  command?: string;
}
/**
 * This interface was referenced by `ResultsFile`'s JSON-Schema
 * via the `definition` "GuestSummary".
 */
export interface GuestSummary {
  memoryMiB: number;
  vcpus: number;
  diskMiB: number;
  diskDataMiB: number;
  /**
   * The target's extra QEMU options (qemu.extraArgs), when it has any.
   */
  qemuArgs?: string[];
  /**
   * The target's domain-level XML (libvirt.domainXml) as migbench wrote it into the domain, when it has any.
   */
  domainXml?: string;
  /**
   * CPUs the target pinned its processes to (qemu.cpus: taskset lists for the QEMU processes on the source host and on the destination host, and for the probes), when it pins them.
   */
  cpus?: {
    source?: string;
    destination?: string;
    probes?: string;
  };
}
/**
 * The workload asked of the guest agent; null parts were not running.
 *
 * This interface was referenced by `ResultsFile`'s JSON-Schema
 * via the `definition` "WorkloadSummary".
 */
export interface WorkloadSummary {
  memory: null | {
    workingSetMiB: number;
    /**
     * Requested dirty rate, 10^6 bytes per second.
     */
    dirtyRateMBps: number;
    pattern: 'sequential' | 'random';
  };
  disk: null | {
    workingSetMiB: number;
    writeRateMBps: number;
  };
  cpu: null | {
    threads: number;
  };
}
/**
 * The record's figures. null means not measured (never estimated).
 *
 * This interface was referenced by `ResultsFile`'s JSON-Schema
 * via the `definition` "Metrics".
 */
export interface Metrics {
  /**
   * Total migration time as the hypervisor reports it; for a storage migration, from starting the disk mirror to completion.
   */
  totalTimeMs: number | null;
  /**
   * Runner's clock from the migrate command to seeing completion.
   */
  wallTimeMs: number | null;
  /**
   * Downtime as the hypervisor reports it.
   */
  downtimeMs: number | null;
  /**
   * Downtime as the hypervisor reports it minus its own estimate of the time spent on the network (libvirt's downtime_net; it relies on the hosts' clocks agreeing); null where the hypervisor has no such figure (QEMU).
   */
  downtimeNetMs: number | null;
  /**
   * Largest gap between probe replies seen from the observer.
   */
  observedDowntimeMs: number | null;
  /**
   * Largest gap between guest heartbeats, timestamped on arrival at the hosts.
   */
  guestPauseMs: number | null;
  setupTimeMs: number | null;
  /**
   * Bytes the hypervisor says it sent.
   */
  transferredBytes: number | null;
  /**
   * Bytes counted on the source's migration link, both directions.
   */
  wireBytes: number | null;
  /**
   * Memory passes (dirty sync count).
   */
  iterations: number | null;
  /**
   * Largest dirty page rate the hypervisor observed.
   */
  dirtyRatePagesPerSec: number | null;
  /**
   * From the source's STOP event to the destination's RESUME event (two host clocks).
   */
  stopToResumeMs: number | null;
  /**
   * Storage migration: from starting the disk mirror to the mirror being ready (disk copied once, in sync).
   */
  mirrorTimeMs: number | null;
  /**
   * Storage migration: bytes the mirror job reports as copied.
   */
  diskBytes: number | null;
  /**
   * Bytes of the memory migration stream on the wire (IP packets, both directions).
   */
  wireRamBytes: number | null;
  /**
   * Bytes of the disk copy (NBD) stream on the wire (IP packets, both directions).
   */
  wireDiskBytes: number | null;
  /**
   * The probe's silence around the switchover: last reply at or before the source's STOP event to the first after it. Unlike observedDowntimeMs (the largest gap anywhere), it leaves out stalls elsewhere in the migration.
   */
  observedSwitchoverMs: number | null;
  /**
   * The heartbeat's silence around the source's STOP event.
   */
  guestSwitchoverPauseMs: number | null;
}
/**
 * Where each non-null metric came from.
 *
 * This interface was referenced by `ResultsFile`'s JSON-Schema
 * via the `definition` "MetricSources".
 */
export interface MetricSources {
  [k: string]: 'hypervisor' | 'probe' | 'guest' | 'wire' | 'runner';
}
/**
 * This interface was referenced by `ResultsFile`'s JSON-Schema
 * via the `definition` "ProbeSummary".
 */
export interface ProbeSummary {
  tool: 'migbench-probe' | 'ping';
  /**
   * Address probed.
   */
  target: string;
  intervalMs: number;
  sent: number;
  received: number;
  lossCount: number;
  gapThresholdMs: number;
  /**
   * Largest gap during the migration window (null when it never closed).
   */
  largestGapMs: number | null;
  /**
   * Largest gap before the migration started: the probe's noise floor.
   */
  baselineLargestGapMs: number | null;
  gaps: Gap[];
}
/**
 * This interface was referenced by `ResultsFile`'s JSON-Schema
 * via the `definition` "Gap".
 */
export interface Gap {
  /**
   * Last signal before the gap, ms after the migrate command.
   */
  startMs: number;
  /**
   * First signal after the gap (or end of observation when open).
   */
  endMs: number;
  durationMs: number;
  /**
   * Sequence numbers never received inside the gap.
   */
  missing: number;
  /**
   * True when no signal came back before observation ended.
   */
  open: boolean;
}
/**
 * This interface was referenced by `ResultsFile`'s JSON-Schema
 * via the `definition` "HeartbeatSummary".
 */
export interface HeartbeatSummary {
  periodMs: number;
  received: number;
  largestGapMs: number | null;
  /**
   * How far the guest's own clock advanced across the largest gap: its clock stops while paused, so this shows what the guest can tell by itself.
   */
  guestClockGapMs: number | null;
  gapThresholdMs: number;
  gaps: Gap[];
}
/**
 * This interface was referenced by `ResultsFile`'s JSON-Schema
 * via the `definition` "WireCounters".
 */
export interface WireCounters {
  host: string;
  interface: string;
  txBytes: number;
  rxBytes: number;
  txPackets: number;
  rxPackets: number;
}
/**
 * Migration parameters in force on the source when the migration started, as the hypervisor reported them.
 *
 * This interface was referenced by `ResultsFile`'s JSON-Schema
 * via the `definition` "MigrationParameters".
 */
export interface MigrationParameters {
  downtimeLimitMs?: number;
  maxBandwidthMiBps?: number;
  multifdChannels?: number;
  xbzrleCacheMiB?: number;
  cpuThrottleInitialPercent?: number;
  cpuThrottleIncrementPercent?: number;
  maxCpuThrottlePercent?: number;
  announceInitialMs?: number;
  announceMaxMs?: number;
  announceRounds?: number;
  announceStepMs?: number;
}
/**
 * This interface was referenced by `ResultsFile`'s JSON-Schema
 * via the `definition` "ProgressSample".
 */
export interface ProgressSample {
  /**
   * ms after the migrate command.
   */
  tMs: number;
  status: string;
  transferredBytes: number | null;
  remainingBytes: number | null;
  totalBytes: number | null;
  dirtyRatePagesPerSec: number | null;
  /**
   * Throughput the hypervisor reports, 10^6 bits per second.
   */
  bandwidthMbps: number | null;
  iteration: number | null;
  expectedDowntimeMs: number | null;
}
/**
 * This interface was referenced by `ResultsFile`'s JSON-Schema
 * via the `definition` "HypervisorEvent".
 */
export interface HypervisorEvent {
  side: 'source' | 'destination';
  name: string;
  /**
   * ms after the migrate command, from the host's own timestamp.
   */
  tMs: number;
  detail?: string;
}
/**
 * This interface was referenced by `ResultsFile`'s JSON-Schema
 * via the `definition` "Integrity".
 */
export interface Integrity {
  /**
   * Where the guest runs after the attempt.
   */
  location: 'source' | 'destination';
  /**
   * The migrated guest instance still runs and answers at the end: not restarted, not panicked, heartbeats and probe replies flowing.
   */
  guestAlive: boolean;
  /**
   * The guest agent started again after the migration: the migrated instance died and what answers is a fresh boot.
   */
  restarted: boolean;
  /**
   * null when the guest has no migbench agent to ask.
   */
  memoryIntact: boolean | null;
  pagesChecked: number | null;
  badPages: number | null;
  /**
   * The first page the verification pass found damaged, in the agent's numbering (pattern pages from 0, then the working set). Only when a page was.
   */
  firstBadPage?: number;
  /**
   * What was wrong with the guest afterwards (panic, restart, silence, damaged pages), in words.
   */
  problem: string | null;
  /**
   * Every disk block the guest wrote reads back as written after the migration (O_DIRECT); null when the guest has no disk data to check.
   */
  diskIntact: boolean | null;
  blocksChecked: number | null;
  badBlocks: number | null;
  /**
   * The first 4 KiB block of the disk's data region that did not read back as written. Only when a block did not.
   */
  firstBadBlock?: number;
}
/**
 * This interface was referenced by `ResultsFile`'s JSON-Schema
 * via the `definition` "Environment".
 */
export interface Environment {
  migbenchVersion: string;
  gitSha: string | null;
  nodeVersion: string;
  source: HostEnvironment;
  destination: HostEnvironment;
}
/**
 * This interface was referenced by `ResultsFile`'s JSON-Schema
 * via the `definition` "HostEnvironment".
 */
export interface HostEnvironment {
  host: string;
  kernel: string;
  cpuModel: string;
  cpuCount: number;
  hypervisorVersion: string;
  /**
   * kvm or tcg for QEMU; the vendor's name elsewhere.
   */
  accel: string;
  /**
   * Why this accelerator was chosen.
   */
  accelReason?: string;
  /**
   * MTU of the host's migration interface, when it could be read: a host-level setting that changes migration throughput.
   */
  migrationMtu?: number;
  /**
   * Host configuration files that shape migration, by name, as sha256:<first 12 hex digits> (qemu.conf for libvirt), or 'absent'; and 'guest image', the kernel and initrd migbench boots there (QEMU and libvirt).
   */
  settings?: {
    [k: string]: string;
  };
}
export interface RecordWarning {
  /**
   * The step that failed, e.g. "destroy guest mb1a2b3c".
   */
  step: string;
  /**
   * migbench's stable error code (MB_SSH_LOST, MB_CLEANUP, ...).
   */
  code: string;
  /**
   * What failed, with host and command.
   */
  message: string;
}
/**
 * Storage migration details. Times are ms from the record's origin (the migrate command); the mirror starts before it, so mirrorStartMs is negative.
 *
 * This interface was referenced by `ResultsFile`'s JSON-Schema
 * via the `definition` "StorageSummary".
 */
export interface StorageSummary {
  mirrorStartMs: number | null;
  mirrorReadyMs: number | null;
  /**
   * The mirror job's len when it finished.
   */
  jobLenBytes: number | null;
  /**
   * The mirror job's offset when it finished (bytes copied, including re-copies of blocks the guest rewrote).
   */
  jobOffsetBytes: number | null;
  /**
   * How long block-job-cancel took to bring the copy in sync after the memory migration completed (the destination stays paused meanwhile).
   */
  cancelMs: number | null;
  /**
   * 4 KiB blocks the guest wrote from the start of the mirror to the end of the migration.
   */
  guestBlocksWritten: number | null;
}
