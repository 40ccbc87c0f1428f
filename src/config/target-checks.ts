// Checks of one target: the settings block its hypervisor needs (and none it cannot use),
// and the hosts it names: none on the embedded lab, all of them on real hosts (their host
// keys are checked when migbench connects: src/engine/route.ts says against what).
import type { Target as TargetConfig } from '../generated/config.js';
import { VENDOR_HYPERVISORS, type VendorHypervisor, type VendorKind } from '../hypervisors/registry.js';
import type { ConfigIssue } from './issues.js';
import { BUILTIN_TARGETS } from './targets.js';
import { FragmentError, parseDomainFragment, qemuArgProblems } from '../model/tuning.js';

type At = (...rest: string[]) => string[];

export function targetIssues(name: string, target: TargetConfig): ConfigIssue[] {
  const at: At = (...rest) => ['targets', name, ...rest];
  const onLab = Boolean(BUILTIN_TARGETS[name] || target.lab);
  return [...vendorSettingsIssues(target, at), ...guestSettingsIssues(target, at), ...(onLab ? labHostIssues(target, at) : realHostIssues(target, at))];
}

// The vendor drivers reach hosts migbench does not build, each through its own settings block.
function vendorSettingsIssues(target: TargetConfig, at: At): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  for (const [kind, v] of Object.entries(VENDOR_HYPERVISORS) as Array<[VendorKind, VendorHypervisor]>) {
    const settings = target[kind] as { passwordEnv?: string; passwordFile?: string } | undefined;
    if (target.hypervisor !== kind) {
      if (settings) issues.push({ segments: at(kind), message: `${kind} settings belong to a ${kind} target, not ${target.hypervisor}` });
      continue;
    }
    if (target.lab) issues.push({ segments: at('lab'), message: `${v.product} does not run in the embedded lab; give the ${v.hosts} instead` });
    const api = settings as { url?: string; insecure?: boolean } | undefined;
    if (api?.url?.startsWith('http://') && !api.insecure)
      issues.push({
        segments: at(kind, 'url'),
        message: 'http:// would send the password unencrypted: use https://, or set insecure: true for a lab or simulator on this machine',
      });
    if (!settings) issues.push({ segments: at(), message: `a ${kind} target needs its ${kind} settings (${v.required})` });
    else if (v.password && !settings.passwordEnv && !settings.passwordFile)
      issues.push({ segments: at(kind), message: `give the ${v.password} password as passwordEnv or passwordFile (never in the config itself)` });
  }
  return issues;
}

// QEMU settings apply to the guests migbench starts (itself or through libvirt); libvirt's to libvirt only.
function guestSettingsIssues(target: TargetConfig, at: At): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  if (target.qemu && target.hypervisor !== 'qemu' && target.hypervisor !== 'libvirt')
    issues.push({ segments: at('qemu'), message: `qemu settings belong to a qemu or libvirt target, not ${target.hypervisor}` });
  if (target.libvirt && target.hypervisor !== 'libvirt') issues.push({ segments: at('libvirt'), message: `libvirt settings belong to a libvirt target, not ${target.hypervisor}` });
  return [...issues, ...tuningIssues(target, at)];
}

// What a config adds to the guest's machine comes from an allow-list (src/model/tuning.ts).
function tuningIssues(target: TargetConfig, at: At): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  if (target.qemu?.cpus && target.hypervisor !== 'qemu') {
    issues.push({ segments: at('qemu', 'cpus'), message: 'CPU pinning (taskset) is for qemu targets' });
  }
  const extraArgs = target.qemu?.extraArgs;
  if (extraArgs?.length && target.hypervisor !== 'qemu') {
    issues.push({ segments: at('qemu', 'extraArgs'), message: 'extra QEMU options are for qemu targets; a libvirt target takes libvirt.domainXml' });
  } else if (extraArgs) {
    for (const p of qemuArgProblems(extraArgs)) issues.push({ segments: [...at('qemu', 'extraArgs'), p.index], message: p.message });
  }
  const domainXml = target.libvirt?.domainXml;
  if (domainXml !== undefined) {
    try {
      parseDomainFragment(domainXml);
    } catch (error) {
      if (!(error instanceof FragmentError)) throw error;
      issues.push({ segments: at('libvirt', 'domainXml'), message: error.message });
    }
  }
  return issues;
}

function labHostIssues(target: TargetConfig, at: At): ConfigIssue[] {
  return (['source', 'destination', 'observer', 'guestNetwork'] as const)
    .filter((key) => target[key] !== undefined)
    .map((key) => ({ segments: at(key), message: `the embedded lab provides ${key}; remove it or set lab: false` }));
}

function realHostIssues(target: TargetConfig, at: At): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  for (const key of ['source', 'destination', 'guestNetwork'] as const) {
    if (target[key] === undefined) issues.push({ segments: at(key), message: `a target on real hosts needs ${key}` });
  }
  for (const side of ['source', 'destination'] as const) {
    const host = target[side];
    if (host?.workDir?.includes(',')) issues.push({ segments: at(side, 'workDir'), message: 'must not contain a comma (QEMU option syntax)' });
  }
  return issues;
}
