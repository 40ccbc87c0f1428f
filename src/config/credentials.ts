// Credentials: whether what the targets need to log in is there, never what it is.
import { accessSync, constants as fsConstants, statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import type { MigbenchConfig, Target as TargetConfig } from '../generated/config.js';
import type { ConfigIssue } from './issues.js';
import { invalidConfigError, type LoadedConfig } from './load.js';
import { matrixNames, resolveMatrix, resolveScenarios, suiteNames } from './scenarios.js';
import { isLabTarget, vendorHypervisor } from './targets.js';

type Environment = Readonly<Record<string, string | undefined>>;

/** The targets the config's suites and matrices run scenarios on. */
export function scenarioTargets(config: MigbenchConfig): string[] {
  const targets = new Set<string>();
  for (const suite of suiteNames(config)) for (const s of resolveScenarios(config, suite)) targets.add(s.target);
  for (const matrix of matrixNames(config)) for (const p of resolveMatrix(config, matrix)) targets.add(p.resolved.target);
  return [...targets];
}

/**
 * Checks that every credential the named targets log in with is where the config says:
 * passwordEnv variables set (and not empty), password, identity and known_hosts files
 * readable. Names the target and the variable or file; never reads or prints a password.
 */
export function assertCredentials(loaded: Pick<LoadedConfig, 'path' | 'config'>, targets: readonly string[], env: Environment = process.env): void {
  const { config } = loaded;
  const issues = [...new Set(targets)].flatMap((name) => {
    const target = config.targets?.[name];
    return !target || isLabTarget(config, name) ? [] : [...passwordIssues(name, target, env), ...sshFileIssues(name, target)];
  });
  if (issues.length) throw invalidConfigError(loaded.path, config, issues);
}

function passwordIssues(name: string, target: TargetConfig, env: Environment): ConfigIssue[] {
  const vendor = vendorHypervisor(target.hypervisor);
  const settings = vendor?.password ? (target[target.hypervisor as 'xenserver' | 'vsphere'] as { passwordEnv?: string; passwordFile?: string } | undefined) : undefined;
  if (!vendor?.password || !settings) return [];
  if (settings.passwordEnv) {
    const value = env[settings.passwordEnv];
    if (value) return [];
    return [
      {
        segments: ['targets', name, target.hypervisor, 'passwordEnv'],
        message: `expected the environment variable ${settings.passwordEnv} to hold the ${vendor.password} password of target ${name}, found it ${value === undefined ? 'unset' : 'empty'}`,
      },
    ];
  }
  const problem = settings.passwordFile ? unreadable(settings.passwordFile) : null;
  return problem
    ? [
        {
          segments: ['targets', name, target.hypervisor, 'passwordFile'],
          message: `expected a readable file holding the ${vendor.password} password of target ${name}, found ${problem}`,
        },
      ]
    : [];
}

function sshFileIssues(name: string, target: TargetConfig): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  for (const side of ['source', 'destination'] as const) {
    const host = target[side];
    if (!host) continue;
    const identity = host.identityFile === undefined ? null : unreadable(host.identityFile);
    if (identity)
      issues.push({ segments: ['targets', name, side, 'identityFile'], message: `expected a readable SSH private key for the ${side} host of target ${name}, found ${identity}` });
    const knownHosts = host.knownHostsFile === undefined ? null : unreadable(host.knownHostsFile);
    if (knownHosts)
      issues.push({
        segments: ['targets', name, side, 'knownHostsFile'],
        message: `expected a readable known_hosts file for the ${side} host of target ${name}, found ${knownHosts}`,
      });
  }
  return issues;
}

/** Why a file cannot be read, or null if it can (its contents are never read). */
function unreadable(path: string): string | null {
  const absolute = isAbsolute(path) ? path : resolve(path);
  const shown = absolute === path ? path : `${path} (${absolute})`;
  try {
    if (statSync(absolute).isDirectory()) return `${shown}, a directory`;
    accessSync(absolute, fsConstants.R_OK);
    return null;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return `${shown}: ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'not readable by this user' : (error as Error).message} ${code ? `(${code})` : ''}`.trim();
  }
}
