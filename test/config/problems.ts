// Shared by the config tests: the smallest valid config, and the problems a config is refused with.
import { expect } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { InputFileError } from '../../src/model/errors.js';

export const minimal = `suites:
  memory-migration:
    scenarios:
      - name: idle-256
        guest: { memoryMiB: 256 }
        migration: { kind: memory }
`;

export function problems(text: string): string[] {
  try {
    parseConfig(text, 'cfg.yaml');
  } catch (error) {
    expect(error).toBeInstanceOf(InputFileError);
    expect((error as InputFileError).code).toBe('MB_CONFIG_INVALID');
    expect((error as InputFileError).userError).toBe(true);
    return (error as InputFileError).issues.map((i) => `${i.path}: ${i.message}`);
  }
  throw new Error('expected the config to be refused');
}
