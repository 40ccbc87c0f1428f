// Processes on this machine, by pid: whether one still runs, and stopping a set of them
// (SIGTERM, then SIGKILL for what has not gone within 3 s).
import { readFileSync } from 'node:fs';
import type { CommandRunner } from '../exec/runner.js';
import { sleep } from '../model/time.js';

/** Running, as opposed to gone or a zombie (this machine's PID 1 may be slow to reap). */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

export async function killAll(pids: number[]): Promise<void> {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // Already gone.
    }
  }
  const deadline = Date.now() + 3000;
  while (pids.some(alive) && Date.now() < deadline) await sleep(50);
  for (const pid of pids.filter(alive)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Gone meanwhile.
    }
  }
}

/** The pids running in a network namespace (`ip netns pids`). */
export async function namespacePids(runner: CommandRunner, netns: string): Promise<number[]> {
  const out = await runner.run(['ip', 'netns', 'pids', netns], { check: false });
  return out.stdout
    .split(/\s+/)
    .filter(Boolean)
    .map(Number)
    .filter((n) => Number.isInteger(n) && n > 0);
}
