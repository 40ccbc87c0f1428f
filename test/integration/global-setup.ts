// Integration tests run against real embedded labs, one per worker (labs.ts): each brought
// up here (and the guest image built) unless it is already up, and taken down afterwards
// only if we brought it up.
import { labDown, labStatus, labUp } from '../../src/lab/lab.js';
import { holdLabForChildren, type LabLock } from '../../src/lab/lock.js';
import { LocalRunner } from '../../src/exec/local.js';
import { ensureGuestImage } from '../../src/setup/image.js';
import { ensureProbeTool } from '../../src/setup/tools.js';
import { TEST_LABS, testLabName } from './labs.js';

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
  const log = (line: string) => process.stderr.write(`${line}\n`);
  await ensureGuestImage(new LocalRunner(), log);
  await ensureProbeTool(log);
  const held: Array<{ name: string; lock: LabLock; wasUp: boolean }> = [];
  for (let poolId = 1; poolId <= TEST_LABS; poolId++) {
    const name = testLabName(poolId);
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
