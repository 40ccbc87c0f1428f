// `migbench doctor`: what this machine lacks to run migbench's embedded lab and local
// targets, each with the command that fixes it. Read-only: it installs nothing, so a job
// can run it on every start and fail fast; `migbench setup` (as root, once, by the runner's
// admin) is what installs.
import { constants } from 'node:fs';
import type { CommandRunner } from '../exec/runner.js';
import { MigbenchError } from '../model/errors.js';
import { delimiter, join } from 'node:path';
import { pathExists } from '../model/paths.js';
import { builtGuestImage } from './image.js';
import { probeToolPath } from './tools.js';

export interface Finding {
  readonly what: string;
  readonly ok: boolean;
  /** Where it was found, or why it is missing. */
  readonly detail: string;
  /** The command that fixes it (absent when ok). */
  readonly fix?: string;
}

/** The programs the lab and a local QEMU target run, and the Debian package of each. */
export const REQUIRED_PROGRAMS: ReadonlyArray<readonly [program: string, debianPackage: string]> = [
  ['qemu-system-x86_64', 'qemu-system-x86'],
  ['qemu-img', 'qemu-utils'],
  ['sshd', 'openssh-server'],
  ['ssh-keygen', 'openssh-client'],
  ['ip', 'iproute2'],
  ['tc', 'iproute2'],
  ['nft', 'nftables'],
  ['ping', 'iputils-ping'],
  ['busybox', 'busybox-static'],
  ['gcc', 'gcc'],
  // Unpacks the guest kernel so it boots without decompressing itself (src/setup/image.ts).
  ['xz', 'xz-utils'],
];

/** The system's directories for administrators' programs too: sshd lives in /usr/sbin. */
function searchPath(path: string | undefined): string[] {
  return [...new Set([...(path ?? '').split(delimiter).filter(Boolean), '/usr/local/sbin', '/usr/sbin', '/sbin'])];
}

async function findProgram(name: string, path: string | undefined): Promise<string | null> {
  for (const dir of searchPath(path)) {
    const file = join(dir, name);
    if (await pathExists(file, constants.X_OK)) return file;
  }
  return null;
}

export function nodeFinding(version: string = process.versions.node): Finding {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  const ok = major > 20 || (major === 20 && minor >= 19);
  return { what: 'Node.js ≥ 20.19', ok, detail: `Node ${version}`, ...(!ok && { fix: 'install Node 20.19+ or 22 (nodejs.org, NodeSource or nvm); Debian 12 ships 18' }) };
}

export function rootFinding(uid: number | undefined = process.getuid?.()): Finding {
  const ok = uid === 0;
  return {
    what: 'root (the lab makes network namespaces, taps and runs QEMU)',
    ok,
    detail: `uid ${uid ?? 'unknown'}`,
    ...(!ok && { fix: 'run as root (sudo) to use the embedded lab' }),
  };
}

async function programFindings(path: string | undefined): Promise<Finding[]> {
  const findings: Finding[] = [];
  for (const [program, pkg] of REQUIRED_PROGRAMS) {
    const found = await findProgram(program, path);
    findings.push({ what: program, ok: found !== null, detail: found ?? 'not found', ...(found === null && { fix: `apt-get install ${pkg}` }) });
  }
  return findings;
}

async function builtFindings(): Promise<Finding[]> {
  const image = await builtGuestImage();
  const probe = await probeToolPath();
  const probeBuilt = await pathExists(probe, constants.X_OK);
  return [
    { what: 'guest image', ok: image !== null, detail: image ? image.dir : 'not built for this migbench', ...(!image && { fix: 'migbench setup' }) },
    { what: 'migbench-probe', ok: probeBuilt, detail: probeBuilt ? probe : 'not built for this migbench', ...(!probeBuilt && { fix: 'migbench setup' }) },
  ];
}

/** Every check, in the order a fix should be applied. */
export async function doctor(env: NodeJS.ProcessEnv = process.env): Promise<Finding[]> {
  return [nodeFinding(), rootFinding(), ...(await programFindings(env.PATH)), ...(await builtFindings())];
}

/** The report: one line per check, then the fixes gathered (apt packages in one command). */
export function doctorReport(findings: readonly Finding[]): string {
  const lines = findings.map((f) => `${f.ok ? 'ok     ' : 'MISSING'}  ${f.what}: ${f.detail}`);
  const missing = findings.filter((f) => !f.ok);
  if (!missing.length) return `${lines.join('\n')}\n\nEverything migbench needs is here.\n`;
  const packages = [...new Set(missing.flatMap((f) => (f.fix?.startsWith('apt-get install ') ? [f.fix.slice('apt-get install '.length)] : [])))];
  const others = [...new Set(missing.flatMap((f) => (f.fix && !f.fix.startsWith('apt-get install ') ? [f.fix] : [])))];
  const fixes = [...(packages.length ? [`apt-get update && apt-get install -y ${packages.join(' ')}`] : []), ...others];
  return `${lines.join('\n')}\n\nTo fix, as root:\n${fixes.map((f) => `  ${f}`).join('\n')}\n`;
}

/**
 * `migbench setup`'s first step: the Debian packages of the programs this machine lacks,
 * installed with apt-get (the runner admin's one-time step; never at job time).
 */
export async function installMissingPackages(runner: CommandRunner, log: (line: string) => void, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const missing = (await programFindings(env.PATH)).filter((f) => !f.ok);
  if (!missing.length) return;
  const packages = [...new Set(missing.map((f) => f.fix!.slice('apt-get install '.length))), 'libc6-dev'];
  const apt = await findProgram('apt-get', env.PATH);
  if (!apt || process.getuid?.() !== 0) {
    throw new MigbenchError(
      'MB_SETUP',
      `missing ${missing.map((f) => f.what).join(', ')}: install the packages ${packages.join(' ')} (as root on Debian: apt-get install ${packages.join(' ')})`,
    );
  }
  log(`setup: installing Debian packages: ${packages.join(' ')}`);
  await runner.run([apt, 'update', '-qq'], { timeoutMs: 600_000 });
  await runner.run(['env', 'DEBIAN_FRONTEND=noninteractive', apt, 'install', '-y', '-qq', '--no-install-recommends', ...packages], { timeoutMs: 1_800_000 });
}
