// Chooses KVM or TCG for a host. /dev/kvm existing is not enough: on some nested
// setups it exists and a Linux guest still hangs in its decompressor, so `auto`
// boots the guest kernel under KVM once and looks for its first words. The verdict
// is cached on the host, keyed by QEMU version, host kernel and CPU.
import { createHash } from 'node:crypto';
import type { CommandRunner } from '../../exec/runner.js';
import type { Accel } from './cmdline.js';
import { machineType } from '../../model/tuning.js';

export interface AccelChoice {
  readonly accel: Accel;
  readonly reason: string;
}

export interface AccelOptions {
  readonly binary: string;
  readonly machine: string;
  /** Guest kernel on that host, booted for the check. */
  readonly kernelPath: string;
  readonly requested: 'auto' | Accel;
  /** @default 8000 */
  readonly checkTimeoutMs?: number;
  /** @default /var/tmp/migbench */
  readonly cacheDir?: string;
}

/** The boot check passed when the kernel got as far as printing its banner. */
export function kvmBootSucceeded(consoleOutput: string): boolean {
  return /Linux version \S+/.test(consoleOutput);
}

export async function chooseAccel(runner: CommandRunner, options: AccelOptions): Promise<AccelChoice> {
  const forced = process.env.MIGBENCH_ACCEL;
  if (forced === 'kvm' || forced === 'tcg') return { accel: forced, reason: 'MIGBENCH_ACCEL' };
  if (options.requested !== 'auto') return { accel: options.requested, reason: 'configured' };
  const kvm = await runner.run(['test', '-c', '/dev/kvm'], { check: false, timeoutMs: 10_000 });
  if (!kvm.ok) return { accel: 'tcg', reason: 'no /dev/kvm' };

  const version = (await runner.run([options.binary, '--version'], { timeoutMs: 10_000 })).stdout.split('\n')[0] ?? '';
  const uname = (await runner.run(['uname', '-r'], { timeoutMs: 10_000 })).stdout.trim();
  const cpu = /^model name.*$/m.exec((await runner.run(['cat', '/proc/cpuinfo'], { timeoutMs: 10_000 })).stdout)?.[0] ?? '';
  // The kernel booted is part of the verdict: another image (the uncompressed vmlinux) may boot where the last did not.
  const key = createHash('sha256').update(`${version}\n${uname}\n${cpu}\n${options.machine}\n${options.kernelPath}`).digest('hex').slice(0, 16);
  const cacheDir = options.cacheDir ?? '/var/tmp/migbench';
  const cacheFile = `${cacheDir}/accel-${key}`;
  const cached = await runner.run(['cat', cacheFile], { check: false, timeoutMs: 10_000 });
  if (cached.ok) {
    const [accel, ...reason] = cached.stdout.trim().split(' ');
    if (accel === 'kvm' || accel === 'tcg') return { accel, reason: `${reason.join(' ')} (cached)` };
  }

  const timeoutMs = options.checkTimeoutMs ?? 8000;
  const check = await runner
    .run(
      [
        'timeout',
        '-s',
        'KILL',
        String(Math.ceil(timeoutMs / 1000)),
        options.binary,
        '-machine',
        `${machineType(options.machine)},accel=kvm`,
        '-cpu',
        'host',
        '-m',
        '128',
        '-nodefaults',
        '-no-user-config',
        '-display',
        'none',
        '-serial',
        'stdio',
        '-no-reboot',
        '-kernel',
        options.kernelPath,
        '-append',
        'console=ttyS0 earlyprintk=ttyS0 panic=-1',
      ],
      { check: false, timeoutMs: timeoutMs + 5000 },
    )
    .catch(() => null);
  const choice: AccelChoice =
    check && kvmBootSucceeded(check.stdout)
      ? { accel: 'kvm', reason: 'KVM boot check passed' }
      : { accel: 'tcg', reason: `/dev/kvm exists but a guest kernel did not boot under KVM within ${timeoutMs} ms` };
  await runner.run(['mkdir', '-p', cacheDir], { check: false });
  await runner.run(['dd', `of=${cacheFile}`, 'status=none'], { stdin: `${choice.accel} ${choice.reason}\n`, check: false });
  return choice;
}
