import { describe, expect, test } from 'vitest';
import { closestName } from '../../src/config/issues.js';

describe(closestName, () => {
  test('closest names: typos and case, nothing for unrelated words', () => {
    expect(closestName('downtimeMS', ['totalTimeMs', 'downtimeMs'])).toBe('downtimeMs');
    expect(closestName('cpus', ['memoryMiB', 'vcpus'])).toBe('vcpus');
    expect(closestName('latencyMs', ['totalTimeMs', 'downtimeMs'])).toBeUndefined();
  });
});
