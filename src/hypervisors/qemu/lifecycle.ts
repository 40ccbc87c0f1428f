// What a guest's QEMU needs on its host besides itself, from its start to its end: its
// folder, its disk and its tap before it starts; QEMU stopped and all of that removed after.
import { MigbenchError } from '../../model/errors.js';
import { waitForExit } from '../../exec/host.js';
import type { GuestLaunch } from '../hypervisor.js';
import type { QmpMonitors } from './monitor.js';
import type { VmSide } from './vm.js';
import type { Side } from '../../model/side.js';

/** The side's folder, its disk (where it gets one) and its tap on the host's bridge. */
export async function prepareSide(entry: VmSide, side: Side, launch: GuestLaunch): Promise<void> {
  const { runner } = entry.host;
  // The source creates the disk; a storage migration's destination gets an empty one of the same size.
  const createsDisk = entry.diskPath && (side === 'source' || launch.storage === 'local') ? entry.diskPath : null;
  await runner.run(['mkdir', '-p', entry.dir, ...(createsDisk ? [createsDisk.slice(0, createsDisk.lastIndexOf('/')) || '/'] : [])]);
  // Disk and tap are independent: each command is a round trip to the host, so both go at once.
  const disk = async () => {
    if (createsDisk) await runner.run(['qemu-img', 'create', '-q', '-f', 'qcow2', createsDisk, `${launch.guest.diskMiB}M`], { timeoutMs: 60_000 });
  };
  const tap = async () => {
    // A stale tap of the same name (a crashed run) would make QEMU fail; replace it.
    await runner.run(['ip', 'link', 'del', entry.tap], { check: false });
    await runner.run(['ip', 'tuntap', 'add', 'dev', entry.tap, 'mode', 'tap']);
    await runner.run(['ip', 'link', 'set', 'dev', entry.tap, 'master', entry.host.bridge, 'up']);
  };
  const [diskDone, tapDone] = await Promise.allSettled([disk(), tap()]);
  for (const done of [diskDone, tapDone]) if (done.status === 'rejected') throw done.reason;
}

/** Quits the side's QEMU (killed if it does not exit), then removes its tap and its folder. */
export async function stopSide(monitors: QmpMonitors, entry: VmSide, side: Side): Promise<void> {
  const { runner } = entry.host;
  const qmp = entry.pid !== null ? await monitors.of(entry, side).catch(() => null) : entry.qmp;
  if (qmp && !qmp.closed) {
    await qmp.execute('quit', undefined, { timeoutMs: 3000 }).catch(() => undefined);
    qmp.close();
  }
  if (entry.pid !== null && !(await waitForExit(runner, entry.pid, 5000))) {
    await runner.run(['kill', '-KILL', String(entry.pid)], { check: false });
    if (!(await waitForExit(runner, entry.pid, 5000))) throw new MigbenchError('MB_GUEST', `${runner.host}: QEMU ${entry.pid} does not exit`);
  }
  // Teardown steps that do no harm twice (a connection lost under one runs it again), and
  // independent of each other: both at once.
  const [tap, dir] = await Promise.allSettled([
    runner.run(['ip', 'link', 'del', entry.tap], { check: false, idempotent: true }),
    runner.run(['rm', '-rf', entry.dir], { idempotent: true }),
  ]);
  for (const done of [tap, dir]) if (done.status === 'rejected') throw done.reason;
}
