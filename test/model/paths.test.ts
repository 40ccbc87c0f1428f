// Where a lab keeps its files, by its name: the default lab where it always was, another
// lab beside it and never inside it, and a name that cannot be a namespace prefix refused.
import { afterEach, describe, expect, test } from 'vitest';
import { labDir, labName, labRoot, labSharedDir, labWorkDir } from '../../src/model/paths.js';
import { labNamespaces, labPlan } from '../../src/lab/topology.js';

const saved = { lab: process.env.MIGBENCH_LAB, dir: process.env.MIGBENCH_LAB_DIR };
afterEach(() => {
  for (const [key, value] of [
    ['MIGBENCH_LAB', saved.lab],
    ['MIGBENCH_LAB_DIR', saved.dir],
  ] as const) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
});

describe('the lab by name (MIGBENCH_LAB)', () => {
  test('the default lab, mb, keeps its files under /run/migbench', () => {
    delete process.env.MIGBENCH_LAB;
    delete process.env.MIGBENCH_LAB_DIR;
    expect([labName(), labRoot(), labDir(), labWorkDir('src'), labSharedDir()]).toEqual(['mb', '/run/migbench', '/run/migbench/lab', '/run/migbench/src', '/run/migbench/shared']);
    expect(labNamespaces(labPlan())).toEqual(['mb-switch', 'mb-src', 'mb-dst', 'mb-obs']);
  });

  test('another lab has namespaces and files of its own, beside the default one', () => {
    process.env.MIGBENCH_LAB = 'mbt2';
    delete process.env.MIGBENCH_LAB_DIR;
    expect([labRoot(), labDir(), labWorkDir('dst'), labSharedDir()]).toEqual([
      '/run/migbench-mbt2',
      '/run/migbench-mbt2/lab',
      '/run/migbench-mbt2/dst',
      '/run/migbench-mbt2/shared',
    ]);
    expect(labNamespaces(labPlan())).toEqual(['mbt2-switch', 'mbt2-src', 'mbt2-dst', 'mbt2-obs']);
  });

  test('a name that cannot prefix a namespace is refused, naming the variable', () => {
    for (const name of ['Lab', '1ab', 'a-b', 'toolongname', '../x']) {
      process.env.MIGBENCH_LAB = name;
      expect(() => labRoot()).toThrow(`MIGBENCH_LAB must be 1-8 lowercase letters or digits, starting with a letter, not ${JSON.stringify(name)}`);
    }
  });
});
