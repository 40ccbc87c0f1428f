import { mkdtemp, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { doctor, doctorReport, nodeFinding, REQUIRED_PROGRAMS, rootFinding } from '../../src/setup/doctor.js';

afterEach(() => vi.unstubAllEnvs());

describe(doctor, () => {
  test('Node older than 20.19 and a user other than root are named with their fix', () => {
    expect(nodeFinding('18.19.0')).toMatchObject({ ok: false, fix: expect.stringContaining('Debian 12 ships 18') });
    expect(nodeFinding('20.18.3').ok).toBe(false);
    expect(nodeFinding('20.19.0').ok).toBe(true);
    expect(nodeFinding('22.1.0').ok).toBe(true);
    expect(rootFinding(1000)).toMatchObject({ ok: false, detail: 'uid 1000' });
    expect(rootFinding(0).ok).toBe(true);
  });

  test('an empty cache: the guest image and probe are missing, and `migbench setup` builds them', async () => {
    vi.stubEnv('MIGBENCH_CACHE_DIR', await mkdtemp(join(tmpdir(), 'migbench-doctor-')));
    const findings = await doctor();
    expect(findings.find((f) => f.what === 'guest image')).toMatchObject({ ok: false, fix: 'migbench setup' });
    expect(findings.find((f) => f.what === 'migbench-probe')).toMatchObject({ ok: false, fix: 'migbench setup' });
  });

  test('programs are found on PATH (and the sbin folders); the missing ones become one apt-get line', async () => {
    const bin = await mkdtemp(join(tmpdir(), 'migbench-doctor-path-'));
    await writeFile(join(bin, 'qemu-img'), '#!/bin/sh\n');
    await chmod(join(bin, 'qemu-img'), 0o755);
    await writeFile(join(bin, 'gcc'), 'not executable\n');
    const findings = await doctor({ PATH: bin });
    expect(findings.find((f) => f.what === 'qemu-img')).toMatchObject({ ok: true, detail: join(bin, 'qemu-img') });
    // This machine has the sbin tools; only what is in no searched folder may be reported missing.
    const gcc = findings.find((f) => f.what === 'gcc')!;
    expect(gcc.ok).toBe(false);
    expect(gcc.fix).toBe('apt-get install gcc');
    const report = doctorReport(findings);
    expect(report).toMatch(/^MISSING {2}gcc: not found$/m);
    expect(report).toMatch(/^ {2}apt-get update && apt-get install -y .*\bgcc\b/m);
    expect(report.match(/apt-get install/g)).toHaveLength(1);
    expect(findings.filter((f) => REQUIRED_PROGRAMS.some(([p]) => p === f.what))).toHaveLength(REQUIRED_PROGRAMS.length);
  });

  test('all present: says so', () => {
    expect(doctorReport([{ what: 'x', ok: true, detail: '/x' }])).toBe('ok       x: /x\n\nEverything migbench needs is here.\n');
  });
});
