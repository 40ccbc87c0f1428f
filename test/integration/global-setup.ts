// Integration tests run against the real embedded lab: brought up here (and the guest
// image built) unless it is already up, and taken down afterwards only if we brought it up.
import { labDown, labStatus, labUp } from '../../src/lab/lab.js';
import { holdLabForChildren } from '../../src/lab/lock.js';
import { LocalRunner } from '../../src/exec/local.js';
import { ensureGuestImage } from '../../src/setup/image.js';
import { ensureProbeTool } from '../../src/setup/tools.js';

export default async function setup(): Promise<() => Promise<void>> {
  const log = (line: string) => process.stderr.write(`${line}\n`);
  await ensureGuestImage(new LocalRunner(), log);
  await ensureProbeTool(log);
  // The tests hold the lab, and lend it to the migbench runs they start: a `migbench run`
  // started on this machine meanwhile waits instead of taking the tests' guests for leftovers.
  const lock = await holdLabForChildren('the integration tests (vitest)', log);
  const wasUp = (await labStatus()).up;
  if (!wasUp) await labUp({ log });
  return async () => {
    try {
      if (!wasUp) await labDown({ log });
    } finally {
      await lock.release();
    }
  };
}
