// A chain's bookkeeping between samples, against a stand-in driver: which address a fresh
// guest gets, who waits paused while another chain is measured, and why a sample boots.
import { describe, expect, test } from 'vitest';
import { GuestChain, reverseTarget, type HeldGuest } from '../../src/engine/chain.js';
import type { ConnectedTarget } from '../../src/engine/target.js';
import type { GuestHandle, Hypervisor } from '../../src/hypervisors/hypervisor.js';

function fakeTarget(options: { reuse?: boolean; failResume?: boolean } = {}) {
  const calls: string[] = [];
  const hypervisor = {
    kind: 'qemu',
    destroyGuest: async (g: GuestHandle) => void calls.push(`destroy ${g.vmId}`),
    ...(options.reuse !== false && {
      turnAround: async (g: GuestHandle) => ({ hypervisor, guest: { ...g, location: 'source' } }),
      setPaused: async (g: GuestHandle, paused: boolean) => {
        if (!paused && options.failResume) throw new Error('QMP cont: guest gone');
        calls.push(`${paused ? 'pause' : 'resume'} ${g.vmId}`);
      },
    }),
  } as unknown as Hypervisor;
  const host = (role: 'source' | 'destination') => ({ role, runner: { host: role }, migrationAddress: role, migrationInterface: 'mig0', bridge: 'br0', workDir: '/w' });
  const target = {
    name: 'lab',
    lab: true,
    hypervisor,
    source: host('source'),
    destination: host('destination'),
    guestNetwork: { address: '10.77.0.100/24', bridge: 'br0', spareAddresses: ['10.77.0.101/24'] },
    close: async () => undefined,
  } as unknown as ConnectedTarget;
  return { target, calls };
}

function held(target: ConnectedTarget, vmId: string): HeldGuest {
  return { target, guest: { vmId, location: 'source' } as GuestHandle, agent: null, position: 1, direction: 'back' };
}

describe(GuestChain, () => {
  test('a chain boots its first sample, then migrates the guest it holds', async () => {
    const { target } = fakeTarget();
    const chain = new GuestChain('idle', { fresh: false, samplesPerBoot: 5 });
    expect(await chain.take()).toEqual({ freshBecause: 'the first sample of its scenario' });
    chain.hold(held(target, 'mb000001'));
    expect(await chain.take()).toEqual({ held: held(target, 'mb000001') });
    // Taken out: a sample that does not give it back leaves the chain empty.
    chain.drop('the previous sample failed (migrate)');
    expect(await chain.take()).toEqual({ freshBecause: 'the previous sample failed (migrate)' });
    await chain.end();
  });

  test('fresh: true, a boot that gave its samples and a driver that cannot migrate back end the chain, and say so', async () => {
    const reusing = fakeTarget().target;
    const fixed = fakeTarget({ reuse: false }).target;
    const fresh = new GuestChain('idle', { fresh: true, samplesPerBoot: 1 });
    expect(await fresh.take()).toEqual({ freshBecause: 'fresh: true in the scenario' });
    expect(fresh.noHold(reusing, 1)).toBe('fresh: true in the scenario');
    const chain = new GuestChain('idle', { fresh: false, samplesPerBoot: 3 });
    expect(chain.noHold(reusing, 1)).toBeNull();
    expect(chain.noHold(reusing, 2)).toBeNull();
    expect(chain.noHold(reusing, 3)).toBe('the guest gave the 3 samples a boot gives (samplesPerBoot)');
    expect(chain.noHold(fixed, 1)).toBe('the qemu driver does not migrate a guest back');
    // The default: a fresh boot per sample.
    expect(new GuestChain('idle', { fresh: false, samplesPerBoot: 1 }).noHold(reusing, 1)).toBe('samplesPerBoot is 1: every sample boots its own guest');
  });

  test('two chains get two addresses; a third takes the main one from its holder, whose guest goes', async () => {
    const { target, calls } = fakeTarget();
    const [base, head, third] = [
      new GuestChain('base idle', { fresh: false, samplesPerBoot: 5 }),
      new GuestChain('head idle', { fresh: false, samplesPerBoot: 5 }),
      new GuestChain('calibration', { fresh: true, samplesPerBoot: 1 }),
    ];
    expect(await base.claimAddress(target)).toBe('10.77.0.100/24');
    base.hold(held(target, 'mbbase01'));
    expect(await head.claimAddress(target)).toBe('10.77.0.101/24');
    head.hold(held(target, 'mbhead01'));
    // A chain booting again keeps its own address.
    expect(await head.claimAddress(target)).toBe('10.77.0.101/24');
    expect(await third.claimAddress(target)).toBe('10.77.0.100/24');
    expect(calls).toEqual(['destroy mbbase01']);
    expect(await base.take()).toEqual({ freshBecause: 'its guest address 10.77.0.100/24 was needed by calibration' });
    third.drop('done');
    await Promise.all([base.end(), head.end()]);
  });

  test('while one chain is measured the others wait paused, and resume when their turn comes', async () => {
    const { target, calls } = fakeTarget();
    const [base, head] = [new GuestChain('base idle', { fresh: false, samplesPerBoot: 5 }), new GuestChain('head idle', { fresh: false, samplesPerBoot: 5 })];
    await base.claimAddress(target);
    base.hold(held(target, 'mbbase01'));
    await head.claimAddress(target);
    expect(await head.take()).toEqual({ freshBecause: 'the first sample of its scenario' });
    head.hold(held(target, 'mbhead01'));
    expect(calls).toEqual(['pause mbbase01']);
    expect(await base.take()).toMatchObject({ held: { guest: { vmId: 'mbbase01' } } });
    expect(calls).toEqual(['pause mbbase01', 'pause mbhead01', 'resume mbbase01']);
    base.drop('done');
    await head.end();
  });

  test('a held guest that cannot be resumed is destroyed and the sample boots a fresh one', async () => {
    const { target, calls } = fakeTarget({ failResume: true });
    const [base, head] = [new GuestChain('base idle', { fresh: false, samplesPerBoot: 5 }), new GuestChain('head idle', { fresh: false, samplesPerBoot: 5 })];
    await base.claimAddress(target);
    base.hold(held(target, 'mbbase01'));
    await head.take();
    expect(await base.take()).toEqual({ freshBecause: 'resuming the guest kept from the last sample failed: QMP cont: guest gone' });
    expect(calls).toEqual(['pause mbbase01', 'destroy mbbase01']);
    await head.end();
  });
});

describe(reverseTarget, () => {
  test('source and destination swap, once per target, and reversing twice gives the target back', () => {
    const { target } = fakeTarget();
    const other = { ...target.hypervisor } as Hypervisor;
    const view = reverseTarget(target, other);
    expect(view.source).toMatchObject({ role: 'source', runner: { host: 'destination' } });
    expect(view.destination).toMatchObject({ role: 'destination', runner: { host: 'source' } });
    expect(view.hypervisor).toBe(other);
    expect(reverseTarget(target, other)).toBe(view);
    expect(reverseTarget(view, target.hypervisor)).toBe(target);
  });
});
