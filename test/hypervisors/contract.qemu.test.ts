// The QEMU driver keeps the Hypervisor contract against recorded QEMU 7.2 conversations
// (fixtures/qmp/, replayed by test/fakes/qmp-replay.ts) and fake hosts that answer the
// commands it runs and log them. The recordings hold no query-status, which inspect sends:
// here each replayed QEMU answers it from the events it has replayed so far (running until
// STOP, postmigrate once the source's migration completed, running on the destination
// from RESUME). A failed migration was recorded separately (a refused connection, without
// the set-up the driver now does first): its migrate and answers follow the completed
// recording's set-up.
import { Duplex } from 'node:stream';
import type { TargetHost } from '../../src/hypervisors/hypervisor.js';
import { QemuHypervisor } from '../../src/hypervisors/qemu/driver.js';
import type { Side } from '../../src/model/side.js';
import { scenarioFor } from '../fixtures.js';
import { firstEventMs, loadTranscript, QmpReplay, type ReplayOptions, type TranscriptLine } from '../fakes/qmp-replay.js';
import { FakeRunner, type Answer } from '../fakes/runner.js';
import { hypervisorContract, type ContractScenario, type ContractWorld } from './contract.js';

const image = {
  dir: '/cache/guest',
  kernel: { name: 'vmlinuz', localPath: '/cache/guest/vmlinuz', sha256: 'a'.repeat(64) },
  initrd: { name: 'initrd.img', localPath: '/cache/guest/initrd.img', sha256: 'b'.repeat(64) },
  kernelPackage: 'linux-image-6.1.0-56-amd64 6.1.192-2',
  kernelVersion: '6.1.0-56-amd64',
  modules: [],
};
const probeTool = { name: 'migbench-probe', localPath: '/cache/tools/migbench-probe', sha256: 'c'.repeat(64) };

/** A replayed QEMU that also answers query-status, from the events replayed so far. */
class ReplayWithStatus extends Duplex {
  readonly replay: QmpReplay;
  status: string;
  private pending = '';
  private received = '';

  constructor(
    private readonly side: Side,
    transcript: readonly TranscriptLine[],
    options: ReplayOptions,
  ) {
    super();
    this.status = side === 'source' ? 'running' : 'inmigrate';
    this.replay = new QmpReplay(transcript, options);
    this.replay.on('data', (chunk: Buffer) => this.relay(chunk.toString()));
    this.replay.on('error', (error) => this.destroy(error));
  }

  override _read(): void {}

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.pending += chunk.toString();
    let newline: number;
    while ((newline = this.pending.indexOf('\n')) >= 0) {
      const line = this.pending.slice(0, newline);
      this.pending = this.pending.slice(newline + 1);
      const command = JSON.parse(line) as { execute: string; id?: string };
      if (command.execute === 'query-status')
        this.push(`${JSON.stringify({ return: { status: this.status, running: this.status === 'running', singlestep: false }, id: command.id })}\r\n`);
      else this.replay.write(`${line}\n`);
    }
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.replay.destroy();
    callback(error);
  }

  private relay(text: string): void {
    this.received += text;
    let newline: number;
    while ((newline = this.received.indexOf('\n')) >= 0) {
      const line = this.received.slice(0, newline + 1);
      this.received = this.received.slice(newline + 1);
      this.follow(JSON.parse(line) as { event?: string; data?: { status?: string } });
      this.push(line);
    }
  }

  /** What QEMU's run state would be after this event. */
  private follow(message: { event?: string; data?: { status?: string } }): void {
    const migration = message.event === 'MIGRATION' ? message.data?.status : undefined;
    if (message.event === 'STOP') this.status = this.side === 'source' ? 'finish-migrate' : 'paused';
    else if (message.event === 'RESUME') this.status = 'running';
    else if (message.event === 'SHUTDOWN') this.status = 'shutdown';
    else if (migration === 'completed' && this.side === 'source') this.status = 'postmigrate';
    else if ((migration === 'cancelled' || migration === 'failed') && this.side === 'source') this.status = 'running';
    // An incoming migration that fails ends the destination QEMU.
    else if (migration === 'failed') this.status = 'shutdown';
  }
}

interface FakeQemuHost {
  readonly host: TargetHost;
  readonly runner: FakeRunner;
  /** The QMP connections made, the last one the live one. */
  readonly replays: ReplayWithStatus[];
}

function qemuHost(role: Side, transcript: readonly TranscriptLine[], timeShiftMs: number): FakeQemuHost {
  const name = role === 'source' ? 'src' : 'dst';
  const replays: ReplayWithStatus[] = [];
  const answer = (argv: readonly string[]): Answer => {
    if (argv[0] === 'sha256sum') {
      const file = [image.kernel, image.initrd, probeTool].find((f) => f.localPath === argv[1]);
      return file ? { stdout: `${file.sha256}  ${argv[1]}\n` } : { exitCode: 1 };
    }
    if (argv[0] === 'uname') return { stdout: `${name} 6.1.0-28-amd64\n` };
    if (argv.join(' ') === 'cat /proc/cpuinfo')
      return { stdout: 'processor\t: 0\nmodel name\t: Intel(R) Xeon(R) CPU E5-2680 v4\nprocessor\t: 1\nmodel name\t: Intel(R) Xeon(R) CPU E5-2680 v4\n' };
    if (argv[1] === '--version') return { stdout: 'QEMU emulator version 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)\n' };
    if (argv[1] === 'daemon') return { stdout: role === 'source' ? '4242\n' : '4343\n' };
    // QEMU has exited once it was told to quit.
    if (argv[0] === 'cat' && argv[1]?.startsWith('/proc/')) return { exitCode: 1 };
    if (argv[0] === 'tail') return { stdout: '' };
    return {};
  };
  const runner = new FakeRunner(`${name} (replay)`, answer, () => {
    const replay = new ReplayWithStatus(role, transcript, { lenientPolling: true, timeShiftMs });
    replays.push(replay);
    return replay;
  });
  const host = { role, runner, migrationAddress: role === 'source' ? '10.78.0.11' : '10.78.0.12', migrationInterface: 'mig0', bridge: 'br0', workDir: '/run/migbench' };
  return { host, runner, replays };
}

/** The failed migration: the completed recording up to its migrate, the failed one's migrate and answers, then its quit. */
function failedSource(): TranscriptLine[] {
  const completed = loadTranscript('migrate-completed.source.txt');
  const failed = loadTranscript('migrate-failed.source.txt');
  const at = (t: readonly TranscriptLine[], command: string) => t.findIndex((l) => l.direction === '>' && l.json.execute === command);
  return [...completed.slice(0, at(completed, 'migrate')), ...failed.slice(at(failed, 'migrate'), at(failed, 'no-such-command')), ...failed.slice(at(failed, 'quit'))];
}

function transcripts(scenario: ContractScenario): Record<Side, TranscriptLine[]> {
  if (scenario === 'completes') return { source: loadTranscript('migrate-completed.source.txt'), destination: loadTranscript('migrate-completed.destination.txt') };
  if (scenario === 'times-out') return { source: loadTranscript('migrate-cancelled.source.txt'), destination: loadTranscript('migrate-cancelled.destination.txt') };
  return { source: failedSource(), destination: loadTranscript('migrate-cancelled.destination.txt') };
}

/** What the driver created on a host and did not remove, from the commands it ran there. */
function leftoversOn(side: FakeQemuHost): string[] {
  const calls = side.runner.calls.map((c) => c.join(' '));
  const lastIndex = (text: string) => calls.lastIndexOf(text);
  const left: string[] = [];
  for (const tap of new Set(side.runner.calls.filter((c) => c.slice(0, 3).join(' ') === 'ip tuntap add').map((c) => c[4]!))) {
    if (lastIndex(`ip link del ${tap}`) < lastIndex(`ip tuntap add dev ${tap} mode tap`)) left.push(`${side.runner.host}: tap ${tap}`);
  }
  for (const dir of new Set(side.runner.calls.filter((c) => c[0] === 'mkdir' && c[2]?.includes('/vms/')).map((c) => c[2]!))) {
    if (lastIndex(`rm -rf ${dir}`) < lastIndex(`mkdir -p ${dir}`)) left.push(`${side.runner.host}: folder ${dir}`);
  }
  const qemu = side.replays.at(-1);
  if (qemu && !qemu.replay.received.includes('quit') && !calls.some((c) => c.startsWith('kill -KILL'))) left.push(`${side.runner.host}: QEMU never told to quit`);
  return left;
}

async function world(scenario: ContractScenario): Promise<ContractWorld> {
  const recorded = transcripts(scenario);
  // Both recordings shifted by the same offset, so they replay as if now, cross-host intervals intact.
  const shift = Date.now() + 1000 - firstEventMs(recorded.source);
  const source = qemuHost('source', recorded.source, shift);
  const destination = qemuHost('destination', recorded.destination, shift);
  const hypervisor = new QemuHypervisor({ source: source.host, destination: destination.host, image, probeTool, accel: 'tcg', pollIntervalMs: 1 });
  const base = scenarioFor({}).migration;
  return {
    hypervisor,
    launch: {
      vmId: 'mb0c0002',
      guest: { memoryMiB: 256, vcpus: 1, diskMiB: 0, diskDataMiB: 0 },
      network: { address: '10.77.0.100/24', mac: '52:54:00:00:0c:02' },
      agent: { hb_ms: '1' },
      storage: 'shared',
    },
    // The cancelled recording was made at 4 MiB/s (its migrate-set-parameters).
    plan: scenario === 'times-out' ? { ...base, maxBandwidthMiBps: 4, timeoutMs: 200 } : base,
    leftovers: async () => [...leftoversOn(source), ...leftoversOn(destination)],
    close: () => hypervisor.close(),
  };
}

hypervisorContract('QEMU (recorded QMP)', {
  kind: 'qemu',
  // QEMU's query-migrate (time, downtime, set-up, bytes, dirty-sync count, dirty rate) and STOP→RESUME; no disk in a memory migration.
  reports: ['totalTimeMs', 'downtimeMs', 'setupTimeMs', 'transferredBytes', 'iterations', 'dirtyRatePagesPerSec', 'stopToResumeMs'],
  agent: 'endpoint',
  optional: { pause: true, interfaceCounters: false, pingPong: true },
  cannot: { 'migrates-back': 'the recorded conversation holds one migration, not the way back: the lab runs it (test/integration/contract.test.ts)' },
  world,
});
