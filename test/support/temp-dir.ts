// Every test file gets a folder of its own as TMPDIR, removed after the file. os.tmpdir()
// reads TMPDIR on each call and child processes (the CLI, npm, sshd's clients) inherit it,
// so what a test makes with mkdtemp(tmpdir()) — results, configs, keys, dated folders the
// CLI writes beside them — goes with it, passed or failed. Before, the unit tests alone
// left 100 folders in /tmp each run, and a self-hosted runner keeps /tmp.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

const outer = process.env.TMPDIR;
const dir = mkdtempSync(join(tmpdir(), 'migbench-test-'));
process.env.TMPDIR = dir;

// Registered before the file's own hooks, so it runs after them (vitest runs after-hooks
// as a stack): their cleanups still find their folders.
afterAll(() => {
  if (outer === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = outer;
  rmSync(dir, { recursive: true, force: true });
});
