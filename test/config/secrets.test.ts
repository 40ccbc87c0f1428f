import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { readPassword } from '../../src/config/secrets.js';

describe(readPassword, () => {
  test('from the named variable; a missing one is named, never a value', async () => {
    expect(await readPassword('XenAPI', 'XEN_PW', undefined, { XEN_PW: 's3cret' })).toBe('s3cret');
    await expect(readPassword('XenAPI', 'XEN_PW', undefined, {})).rejects.toThrow('the XenAPI password variable XEN_PW is not set');
  });
  test('from the first line of a file; an unreadable file is named with its error code', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'migbench-secret-'));
    await writeFile(join(dir, 'pw'), 'hunter2\ntrailing\n');
    expect(await readPassword('vCenter', undefined, join(dir, 'pw'), {})).toBe('hunter2');
    await expect(readPassword('vCenter', undefined, join(dir, 'missing'), {})).rejects.toThrow(`cannot read vCenter password file ${join(dir, 'missing')}: ENOENT`);
  });
  test('neither given: says which settings to use', async () => {
    await expect(readPassword('XenAPI', undefined, undefined, {})).rejects.toThrow('no XenAPI password: set passwordEnv or passwordFile');
  });
});
