import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { CommandError } from '../../src/model/errors.js';
import { LocalRunner } from '../../src/exec/local.js';

const runner = new LocalRunner();

describe(LocalRunner, () => {
  test('reports exit code, output and duration', async () => {
    const result = await runner.run(['sh', '-c', 'echo out; echo err >&2; exit 0']);
    expect(result).toMatchObject({ host: 'local', exitCode: 0, signal: null, stdout: 'out\n', stderr: 'err\n', ok: true });
    expect(result.durationMs).toBeGreaterThan(0);
  });

  test('a failing command throws a CommandError naming host and argv, unless check is off', async () => {
    const error = await runner.run(['sh', '-c', 'echo broken >&2; exit 7']).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CommandError);
    expect(error).toMatchObject({ code: 'MB_COMMAND_FAILED', host: 'local', exitCode: 7, argv: ['sh', '-c', 'echo broken >&2; exit 7'] });
    expect((error as Error).message).toContain('exited with status 7: broken');
    expect(await runner.run(['false'], { check: false })).toMatchObject({ exitCode: 1, ok: false });
  });

  test('passes stdin and kills on timeout', async () => {
    expect((await runner.run(['cat'], { stdin: 'hello' })).stdout).toBe('hello');
    const started = performance.now();
    await expect(runner.run(['sleep', '5'], { timeoutMs: 200 })).rejects.toMatchObject({ code: 'MB_COMMAND_TIMEOUT' });
    expect(performance.now() - started).toBeLessThan(3000);
  });

  test('a timeout kills what the command started too: a sleeper it forked ends with it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'migbench-local-'));
    const pidFile = join(dir, 'sleeper.pid');
    // The sleeper keeps the command's stdout open: left alive, the run would wait 30 s for it.
    const error = await runner.run(['sh', '-c', `sleep 30 & echo $! > ${pidFile}; wait`], { timeoutMs: 300 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'MB_COMMAND_TIMEOUT' });
    const sleeper = Number(await readFile(pidFile, 'utf8'));
    // Running, not a zombie waiting for whoever inherited it to reap it.
    const alive = async () => {
      const stat = await readFile(`/proc/${sleeper}/stat`, 'utf8').catch(() => null);
      return stat !== null && stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
    };
    for (let i = 0; i < 50 && (await alive()); i++) await new Promise((r) => setTimeout(r, 20));
    expect(await alive(), `sleeper ${sleeper} still running`).toBe(false);
  });

  test('a missing program is MB_COMMAND_START, not a crash', async () => {
    await expect(runner.run(['/nonexistent/migbench-tool'])).rejects.toMatchObject({ code: 'MB_COMMAND_START', message: expect.stringContaining('not found') });
  });

  test('spawn streams output and reports the exit', async () => {
    const child = runner.spawn(['sh', '-c', 'read line; echo "got $line"; echo bye >&2; exit 4']);
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.write('ping\n');
    child.endInput();
    const result = await child.done;
    expect(out).toBe('got ping\n');
    expect(result).toMatchObject({ exitCode: 4, stderr: 'bye\n' });
  });

  test('commands run inside a network namespace are wrapped with ip netns exec', async () => {
    const namespaced = new LocalRunner({ netns: 'mb-does-not-exist' });
    expect(namespaced.host).toBe('local[mb-does-not-exist]');
    await expect(namespaced.run(['true'])).rejects.toMatchObject({ argv: ['true'], message: expect.stringContaining('local[mb-does-not-exist]') });
  });
});
