// Integration tests run against real embedded labs, one per worker (labs.ts): each brought
// up here (and the guest image built) unless it is already up, and taken down afterwards
// only if we brought it up.
import { labDown, labStatus, labUp } from '../../src/lab/lab.js';
import { holdLabForChildren, type LabLock } from '../../src/lab/lock.js';
import { LocalRunner } from '../../src/exec/local.js';
import { ensureGuestImage } from '../../src/setup/image.js';
import { ensureProbeTool } from '../../src/setup/tools.js';
import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLAIMS_ENV, testLabNames } from './labs.js';

/** Runs `fn` with MIGBENCH_LAB naming `name`: the lab functions read it when called. */
async function inLab<T>(name: string, fn: () => Promise<T>): Promise<T> {
  const previous = process.env.MIGBENCH_LAB;
  process.env.MIGBENCH_LAB = name;
  try {
    return await fn();
  } finally {
    if (previous === undefined) delete process.env.MIGBENCH_LAB;
    else process.env.MIGBENCH_LAB = previous;
  }
}

export default async function setup(): Promise<() => Promise<void>> {
  // vitest runs this once per lab project, in one process: the first run does it all.
  if (process.env[CLAIMS_ENV]) return async () => undefined;
  // The folder where each worker claims its lab (labs.ts); the workers inherit its name.
  const claims = mkdtempSync(join(tmpdir(), 'migbench-test-labs-'));
  process.env[CLAIMS_ENV] = claims;
  const log = (line: string) => process.stderr.write(`${line}\n`);
  await ensureGuestImage(new LocalRunner(), log);
  await ensureProbeTool(log);
  const held: Array<{ name: string; lock: LabLock; wasUp: boolean }> = [];
  for (const name of testLabNames()) {
    // The tests hold each lab, and lend it to the migbench runs they start: a `migbench run`
    // started on this machine meanwhile waits instead of taking the tests' guests for leftovers.
    await inLab(name, async () => {
      const lock = await holdLabForChildren('the integration tests (vitest)', log);
      const wasUp = (await labStatus()).up;
      held.push({ name, lock, wasUp });
      if (!wasUp) await labUp({ log: (line) => log(`${name}: ${line}`) });
    });
  }
  return async () => {
    await rm(claims, { recursive: true, force: true });
    delete process.env[CLAIMS_ENV];
    for (const { name, lock, wasUp } of held.reverse()) {
      await inLab(name, async () => {
        try {
          if (!wasUp) await labDown({ log: (line) => log(`${name}: ${line}`) });
        } finally {
          await lock.release();
        }
      });
    }
  };
}
