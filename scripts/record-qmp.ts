// Records QMP transcripts from the real QEMU in the lab into fixtures/qmp/, for the unit
// tests of the QMP client, the translation and the driver. Run with the lab up:
//   node --import tsx scripts/record-qmp.ts
import { writeFile } from 'node:fs/promises';
import { parseConfig } from '../src/config/load.js';
import { resolveScenarios } from '../src/config/scenarios.js';
import { guestMac, PATTERN_MIB } from '../src/model/hardware.js';
import type { GuestHandle } from '../src/hypervisors/hypervisor.js';
import { AgentTap } from '../src/probes/agent.js';
import { projectPath } from '../src/model/paths.js';
import { QemuHypervisor } from '../src/hypervisors/qemu/driver.js';
import { agentParameters } from '../src/model/scenario.js';
import { connectTarget } from '../src/engine/target.js';
import type { Side } from '../src/model/side.js';

const config = parseConfig('suites:\n  r:\n    scenarios:\n      - { name: r, guest: { memoryMiB: 256 }, migration: { kind: memory } }\n', 'record');
const scenario = resolveScenarios(config, 'r')[0]!;
const lines: Record<Side, string[]> = { source: [], destination: [] };
const target = await connectTarget(config, 'lab');
const base = target.hypervisor as QemuHypervisor;
const hv = new QemuHypervisor({
  source: target.source,
  destination: target.destination,
  // Same image and tools the target uses.
  ...(base as unknown as { options: { image: never; probeTool: never } }).options,
  transcript: (side, direction, line) => lines[side].push(`${direction} ${line}`),
});

async function boot(vmId: string): Promise<GuestHandle> {
  const guest = await hv.startGuest({
    vmId,
    guest: scenario.guest,
    network: { address: target.guestNetwork.address, mac: guestMac(vmId) },
    agent: agentParameters(scenario.workload, scenario.guest, 1, PATTERN_MIB),
    storage: scenario.migration.kind === 'storage' ? 'local' : 'shared',
  });
  const tap = new AgentTap({ ...hv.agentEndpoint(guest, 'source')!, side: 'source' });
  await tap.waitFor(() => tap.heartbeats.length > 0, 90_000);
  await tap.stop();
  return guest;
}

async function save(name: string): Promise<void> {
  for (const side of ['source', 'destination'] as const) {
    if (!lines[side].length) continue;
    const file = projectPath('fixtures/qmp', `${name}.${side}.txt`);
    await writeFile(file, `${lines[side].join('\n')}\n`);
    console.log(`wrote ${file} (${lines[side].length} lines)`);
    lines[side] = [];
  }
}

// 1. A completed memory migration, both sides.
let guest = await boot('mbrec001');
await hv.prepareDestination(guest, scenario.migration);
const outcome = await hv.migrate(guest, scenario.migration);
console.log(`migration ${outcome.status}: total ${outcome.figures.totalTimeMs} ms, downtime ${outcome.figures.downtimeMs} ms`);
await hv.destroyGuest(guest);
await save('migrate-completed');

// 2. A migration to a port nobody listens on: QEMU reports it failed.
guest = await boot('mbrec002');
await hv.execute(guest, 'source', 'migrate-set-capabilities', { capabilities: [{ capability: 'events', state: true }] });
await hv.execute(guest, 'source', 'migrate', { uri: `tcp:${target.destination.migrationAddress}:1` });
for (let i = 0; i < 50; i++) {
  const info = (await hv.execute(guest, 'source', 'query-migrate')) as { status: string };
  if (info.status === 'failed') break;
  await new Promise((r) => setTimeout(r, 50));
}
// 3. QMP errors: an unknown command and a bad argument.
await hv.execute(guest, 'source', 'no-such-command').catch(() => undefined);
await hv.execute(guest, 'source', 'migrate-set-parameters', { 'downtime-limit': -5 }).catch(() => undefined);
await hv.destroyGuest(guest);
await save('migrate-failed');

// 4. A slow migration cancelled midway.
guest = await boot('mbrec003');
await hv.prepareDestination(guest, scenario.migration);
const cancelled = await hv.migrate(guest, { ...scenario.migration, maxBandwidthMiBps: 4, timeoutMs: 1500 });
console.log(`slow migration: ${cancelled.status}`);
await hv.destroyGuest(guest);
await save('migrate-cancelled');

await target.close();
