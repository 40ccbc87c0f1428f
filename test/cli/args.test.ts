import { describe, expect, test } from 'vitest';
import { parseCommand } from '../../src/cli/args.js';

describe(parseCommand, () => {
  test('run with every option, repeatable ones repeated', () => {
    expect(parseCommand(['run', '--config', 'c.yaml', '--suite', 'a', '--suite', 'b', '--scenario', 'x', '--matrix', 'm', '--repeat', '5', '--out', 'o', '--keep-lab'])).toEqual({
      name: 'run',
      options: { config: 'c.yaml', suites: ['a', 'b'], scenarios: ['x'], matrices: ['m'], repeat: 5, out: 'o', keepLab: true },
    });
    expect(parseCommand(['start'])).toEqual({
      name: 'start',
      options: { config: undefined, suites: [], scenarios: [], matrices: [], repeat: undefined, out: 'results', keepLab: false },
    });
  });

  test('shards and merges', () => {
    expect(parseCommand(['run', '--matrix', 'study', '--shard', '2/3'])).toMatchObject({ options: { matrices: ['study'], shard: { index: 2, total: 3 } } });
    expect(() => parseCommand(['run', '--shard', '4/3'])).toThrow('--shard needs I/N with 1 ≤ I ≤ N, got "4/3"');
    expect(parseCommand(['merge', '--out', 'm', 'a.json', 'b.json'])).toEqual({ name: 'merge', out: 'm', inputs: ['a.json', 'b.json'], force: false });
    expect(parseCommand(['merge', '--force', '--out', 'm', 'a.json'])).toMatchObject({ force: true });
    expect(() => parseCommand(['merge', 'a.json'])).toThrow('merge needs --out DIR');
  });

  test('an A/B run takes two configs', () => {
    expect(parseCommand(['compare', '--samples', 'a', 'b'])).toMatchObject({ name: 'compare', options: { base: 'a', head: 'b', samples: true, json: false } });
    expect(parseCommand(['run', '--ab', 'a.yaml', 'b.yaml', '--repeat', '6'])).toMatchObject({ name: 'run', options: { ab: { base: 'a.yaml', head: 'b.yaml' }, repeat: 6 } });
    expect(() => parseCommand(['run', '--ab', 'a.yaml'])).toThrow('--ab needs two configs: --ab BASE_CONFIG HEAD_CONFIG');
    expect(() => parseCommand(['run', 'stray'])).toThrow('run: unexpected argument "stray"');
    expect(() => parseCommand(['start', 'stray'])).toThrow(/Unexpected argument|unexpected argument/);
  });

  test('lab, report, validate, setup, help', () => {
    expect(parseCommand(['lab', 'up'])).toEqual({ name: 'lab', action: 'up', withLibvirt: false });
    expect(parseCommand(['lab', 'up', '--with', 'libvirt'])).toEqual({ name: 'lab', action: 'up', withLibvirt: true });
    expect(parseCommand(['report'])).toEqual({ name: 'report', results: 'results/results.json', html: false });
    expect(parseCommand(['report', '--html', 'r.json'])).toEqual({ name: 'report', results: 'r.json', html: true });
    expect(parseCommand(['validate', '--config', 'x.yaml'])).toEqual({ name: 'validate', config: 'x.yaml', credentials: true });
    expect(parseCommand(['validate', '--skip-credentials'])).toEqual({ name: 'validate', config: undefined, credentials: false });
    expect(parseCommand(['setup'])).toEqual({ name: 'setup', testTools: false });
    expect(parseCommand(['setup', '--test-tools'])).toEqual({ name: 'setup', testTools: true });
    expect(parseCommand(['run', '--quiet', '--junit', 'j.xml'])).toMatchObject({ options: { quiet: true, junit: 'j.xml' } });
    expect(parseCommand([])).toEqual({ name: 'help' });
    expect(parseCommand(['--help'])).toEqual({ name: 'help' });
  });

  test('mistakes are usage errors that say what was wrong', () => {
    expect(() => parseCommand(['lab'])).toThrow('lab needs one of: up, down, status');
    expect(() => parseCommand(['lab', 'sideways'])).toThrow('lab needs one of: up, down, status');
    expect(() => parseCommand(['lab', 'up', '--with', 'xen'])).toThrow('lab up --with: unknown component "xen" (known: libvirt)');
    expect(() => parseCommand(['run', '--repeat', 'x'])).toThrow('--repeat needs a whole number from 1 to 1000, got "x"');
    expect(() => parseCommand(['run', '--repeat', '0'])).toThrow(/got "0"/);
    expect(() => parseCommand(['run', '--colour'])).toThrow(/run: Unknown option '--colour'/);
    expect(() => parseCommand(['fly'])).toThrow('unknown command "fly" (try: migbench help)');
    try {
      parseCommand(['fly']);
    } catch (error) {
      expect(error).toMatchObject({ code: 'MB_USAGE', userError: true });
    }
  });
});
