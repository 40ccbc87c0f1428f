// PowerShell for Hyper-V, built in one place: every value is a single-quoted literal
// (psQuote), every script is sent as -EncodedCommand (UTF-16LE, base64), so no value ever
// reaches a shell's parser. Scripts end in ConvertTo-Json; errors are caught and returned
// as JSON too, so a failure is data, not a stack trace on stderr.
import { psQuote } from '../../exec/quote.js';

const jsonTail = '| ConvertTo-Json -Compress -Depth 4';

function guarded(body: string): string {
  return `$ErrorActionPreference = 'Stop'\ntry {\n${body}\n} catch {\n  @{ error = $_.Exception.Message; id = $_.FullyQualifiedErrorId } ${jsonTail}\n}`;
}

export interface MoveRequest {
  readonly vm: string;
  readonly destinationHost: string;
  /** Storage migration: where the VM's files go on the destination. */
  readonly destinationStoragePath?: string;
}

/** Starts the move as a job and says which. */
export function moveVmScript(r: MoveRequest): string {
  const storage = r.destinationStoragePath !== undefined ? ` -IncludeStorage -DestinationStoragePath ${psQuote(r.destinationStoragePath)}` : '';
  return guarded(
    [
      `  $started = (Get-Date).ToUniversalTime().ToString('o')`,
      `  $job = Move-VM -Name ${psQuote(r.vm)} -DestinationHost ${psQuote(r.destinationHost)}${storage} -AsJob`,
      `  @{ jobId = $job.Id; state = [string]$job.State; started = $started } ${jsonTail}`,
    ].join('\n'),
  );
}

/**
 * The "Hyper-V VM Live Migration" counters migbench reads (Microsoft's property names).
 * SMBTransportBytesSent counts the same payload again on the SMB transport: not read.
 */
export const LIVE_MIGRATION_COUNTERS = ['MemoryWalkerUncompressedBytesSent', 'CompressorCompressedBytesSent', 'TransferPassNumber'] as const;

/** The adapter statistics properties migbench reads (Microsoft's property names). */
export const ADAPTER_STATISTICS = ['ReceivedBytes', 'SentBytes', 'ReceivedUnicastPackets', 'SentUnicastPackets'] as const;

/** The job's state, its times and its error, and the migration's progress while it runs. */
export function jobStatusScript(jobId: number, vm: string): string {
  return guarded(
    [
      `  $job = Get-Job -Id ${Math.trunc(jobId)}`,
      `  $vmId = (Get-VM -Name ${psQuote(vm)} -ErrorAction SilentlyContinue).Id`,
      `  $m = Get-CimInstance -Namespace root\\virtualization\\v2 -ClassName Msvm_MigrationJob | Where-Object { $_.VirtualSystemName -eq [string]$vmId } | Select-Object -First 1`,
      `  $reason = if ($job.State -eq 'Failed') { [string]$job.ChildJobs[0].JobStateInfo.Reason.Message } else { $null }`,
      // The live-migration counter instances exist only while a migration runs: every poll
      // samples them and the driver keeps the last values seen.
      `  $lm = @(Get-CimInstance -ClassName Win32_PerfRawData_LmPerfProvider_HyperVVMLiveMigration -ErrorAction SilentlyContinue | Select-Object Name, ${LIVE_MIGRATION_COUNTERS.join(', ')})`,
      `  @{ state = [string]$job.State; begin = $job.PSBeginTime.ToUniversalTime().ToString('o'); end = if ($job.PSEndTime) { $job.PSEndTime.ToUniversalTime().ToString('o') } else { $null }; reason = $reason; percent = $m.PercentComplete; migrationJobState = $m.JobState; liveMigration = $lm } ${jsonTail}`,
    ].join('\n'),
  );
}

/** A network adapter's byte and packet counters: the migration network's wire bytes. */
export function adapterStatisticsScript(adapter: string): string {
  return guarded(`  Get-NetAdapterStatistics -Name ${psQuote(adapter)} | Select-Object ${ADAPTER_STATISTICS.join(', ')} ${jsonTail}`);
}

/** Blackout (downtime) events of the VMMS admin log since the move started. */
export function blackoutScript(since: string): string {
  return guarded(
    [
      `  $events = Get-WinEvent -FilterHashtable @{ LogName = 'Microsoft-Windows-Hyper-V-VMMS-Admin'; Id = 20415, 20417; StartTime = [datetime]::Parse(${psQuote(since)}).ToUniversalTime() } -ErrorAction SilentlyContinue`,
      `  @($events | ForEach-Object { @{ id = $_.Id; time = $_.TimeCreated.ToUniversalTime().ToString('o'); blackoutSeconds = [double]$_.Properties[2].Value } }) ${jsonTail}`,
    ].join('\n'),
  );
}

/** Asks the running migration job to terminate (RequestedState 4). */
export function cancelScript(vm: string): string {
  return guarded(
    [
      `  $vmId = (Get-VM -Name ${psQuote(vm)}).Id`,
      `  $m = Get-CimInstance -Namespace root\\virtualization\\v2 -ClassName Msvm_MigrationJob | Where-Object { $_.VirtualSystemName -eq [string]$vmId } | Select-Object -First 1`,
      `  $r = Invoke-CimMethod -InputObject $m -MethodName RequestStateChange -Arguments @{ RequestedState = [uint16]4 }`,
      `  @{ returnValue = [int]$r.ReturnValue } ${jsonTail}`,
    ].join('\n'),
  );
}

/** Where the VM runs and in which state. */
export function vmStateScript(vm: string): string {
  return guarded(`  $v = Get-VM -Name ${psQuote(vm)}\n  @{ state = [string]$v.State; computerName = [string]$v.ComputerName } ${jsonTail}`);
}
