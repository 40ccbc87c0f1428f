import { describe, expect, test } from 'vitest';
import { readFileSync } from 'node:fs';
import { consoleFault } from '../../src/probes/console.js';
import { projectPath } from '../../src/model/paths.js';

const consoleOf = (name: string) => readFileSync(projectPath('fixtures/console', `${name}.txt`), 'utf8');

describe(consoleFault, () => {
  // Real destination consoles of guests damaged by QEMU 7.2's TCG dirty-page loss
  // (fixtures/console/README.md): each names its first symptom.
  test.each([
    ['destination-stack-protector-panic', 'Kernel panic - not syncing: stack-protector: Kernel stack is corrupted in: try_to_wake_up+0x540/0x540'],
    ['destination-null-dereference-panic', 'BUG: kernel NULL pointer dereference, address: 0000000000000000'],
    ['destination-list-corruption-oops', 'list_add corruption. next->prev should be prev (ffff88800f8326b8), but was ffff888006014968. (next=ffff888006014968).'],
    ['destination-scheduling-while-atomic', 'BUG: scheduling while atomic: migbench-agent/102/0x00000000'],
    ['destination-agent-segfault', 'Segmentation fault'],
  ])('%s', (name, first) => {
    expect(consoleFault(consoleOf(name))).toBe(first);
  });

  test('a clean boot, or an agent that ended well, shows no fault', () => {
    expect(consoleFault(consoleOf('source-boot'))).toBeNull();
    expect(consoleFault('migbench-init: agent exited with status 0\n')).toBeNull();
    // Words that hold a fault's word are not faults.
    expect(consoleFault('udhcpc: DEBUG: lease obtained\nOopsie-daisy\n')).toBeNull();
    expect(consoleFault('')).toBeNull();
  });

  test("the agent's own failure, and a long line cut to 160 characters", () => {
    expect(consoleFault('migbench-agent: ready\nmigbench-init: agent exited with status 137\n')).toBe('migbench-init: agent exited with status 137');
    const long = consoleFault(`[    1.000000] BUG: ${'x'.repeat(300)}`);
    expect(long).toHaveLength(160);
    expect(long!.endsWith('…')).toBe(true);
  });
});
