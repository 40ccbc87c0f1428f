// Repetitions of a scenario migrate one running guest back and forth (ping-pong, as
// Avocado-VT's multi-host migration tests do): a chain holds the guest between its samples,
// so a sample costs a migration rather than a boot. A fresh guest boots for the first
// sample, after a sample that failed or found the guest damaged, for `fresh: true`, and
// where the driver cannot take a guest back.
import { errorMessage, runCleanups } from '../model/errors.js';
import type { GuestChain as ChainRecord } from '../generated/results.js';
import type { GuestHandle } from '../hypervisors/hypervisor.js';
import type { ConnectedTarget } from './target.js';

/** What the agent's earlier taps learnt of a guest the next tap no longer sees start. */
export interface AgentMemory {
  /** The agent's start-up line (its parameters, whether it has a disk). */
  readonly info: Readonly<Record<string, string>> | null;
  /** The last heartbeat seen: a later tap seeing a lower one means the agent restarted. */
  readonly lastSeq: number;
}

/** A guest between two samples, on the source of `target`. */
export interface HeldGuest {
  /** The target as the next sample sees it: its source is where the guest runs now. */
  readonly target: ConnectedTarget;
  readonly guest: GuestHandle;
  readonly agent: AgentMemory | null;
  /** Samples this guest gave so far. */
  readonly position: number;
  /** The next sample's direction. */
  readonly direction: ChainRecord['direction'];
}

/** What a sample starts from: the held guest, or the reason a fresh one boots. */
export type ChainStart = { readonly held: HeldGuest } | { readonly freshBecause: string };

/** Guest addresses held by a chain's guest in this process, by address. */
const holders = new Map<string, GuestChain>();

/** How long a chain keeps a guest: the scenario's `fresh` and `samplesPerBoot`. */
export interface ChainLimits {
  readonly fresh: boolean;
  readonly samplesPerBoot: number;
}

export class GuestChain {
  private held: HeldGuest | null = null;
  private address: string | null = null;
  private parked = false;
  private freshBecause = 'the first sample of its scenario';

  constructor(
    readonly label: string,
    private readonly limits: ChainLimits,
  ) {
    if (limits.fresh) this.freshBecause = 'fresh: true in the scenario';
  }

  /**
   * The guest the next sample migrates, taken out of the chain (a sample that does not
   * give it back leaves the chain empty), resumed if it waited paused. Every other chain's
   * guest is paused meanwhile: an A/B run's other side must not take CPU from this one.
   */
  async take(): Promise<ChainStart> {
    await parkOthers(this);
    const held = this.held;
    if (!held) return { freshBecause: this.freshBecause };
    if (this.parked) {
      try {
        await held.target.hypervisor.setPaused!(held.guest, false);
      } catch (error) {
        // The guest is lost to the chain, not the sample: it boots a fresh one.
        await this.end(`resuming the guest kept from the last sample failed: ${errorMessage(error)}`).catch(() => undefined);
        return { freshBecause: this.freshBecause };
      }
      this.parked = false;
    }
    this.held = null;
    return { held };
  }

  /**
   * Why the guest of a sample on `target`, the `position`th of its boot, cannot stay for
   * the next one whatever the sample measured; null when it may.
   */
  noHold(target: ConnectedTarget, position: number): string | null {
    if (this.limits.fresh) return 'fresh: true in the scenario';
    if (this.limits.samplesPerBoot === 1) return 'samplesPerBoot is 1: every sample boots its own guest';
    if (position >= this.limits.samplesPerBoot) return `the guest gave the ${this.limits.samplesPerBoot} samples a boot gives (samplesPerBoot)`;
    if (!target.hypervisor.turnAround || !target.hypervisor.setPaused) return `the ${target.hypervisor.kind} driver does not migrate a guest back`;
    return null;
  }

  hold(held: HeldGuest): void {
    this.held = held;
  }

  /** The sample's guest is gone (failed, damaged, or turning around failed): the next one boots. */
  drop(freshBecause: string): void {
    this.held = null;
    this.release();
    this.freshBecause = freshBecause;
  }

  /**
   * The guest address a fresh guest of this chain boots with: its own if it had one, else
   * the target's first one no other chain's guest holds. When all are held, the guest
   * holding the target's main address is ended to free it.
   */
  async claimAddress(target: ConnectedTarget): Promise<string> {
    const { address, spareAddresses = [] } = target.guestNetwork;
    const candidates = [address, ...spareAddresses];
    const free = (this.address && candidates.includes(this.address) ? [this.address] : []).concat(candidates.filter((a) => !holders.has(a) || holders.get(a) === this));
    const chosen = free[0] ?? address;
    const holder = holders.get(chosen);
    if (holder && holder !== this) await holder.end(`its guest address ${chosen} was needed by ${this.label}`);
    this.release();
    this.address = chosen;
    holders.set(chosen, this);
    return chosen;
  }

  /** Destroys the held guest (the chain's samples are done, or its address is needed elsewhere). */
  async end(freshBecause = 'the chain was ended'): Promise<void> {
    const held = this.held;
    this.drop(freshBecause);
    this.parked = false;
    if (held) await runCleanups([[`destroy guest ${held.guest.vmId}`, () => held.target.hypervisor.destroyGuest(held.guest)]]);
  }

  /** Pauses the held guest until its chain's next sample. */
  async park(): Promise<void> {
    if (!this.held || this.parked) return;
    await this.held.target.hypervisor.setPaused!(this.held.guest, true);
    this.parked = true;
  }

  private release(): void {
    if (this.address && holders.get(this.address) === this) holders.delete(this.address);
    this.address = null;
  }
}

async function parkOthers(chain: GuestChain): Promise<void> {
  for (const other of new Set(holders.values())) {
    if (other === chain) continue;
    // A guest that cannot be paused must not run beside the measured one: it goes.
    await other.park().catch((error: unknown) => other.end(`pausing it while ${chain.label} ran failed: ${errorMessage(error)}`).catch(() => undefined));
  }
}

const views = new WeakMap<ConnectedTarget, ConnectedTarget>();

/**
 * The target with source and destination swapped, driven by `hypervisor` (the driver's
 * reversed self): a guest a migration left on the destination goes back from this view's
 * source. One view per target, so the environment is read once; the original closes both.
 */
export function reverseTarget(target: ConnectedTarget, hypervisor: ConnectedTarget['hypervisor']): ConnectedTarget {
  let view = views.get(target);
  if (!view) {
    view = {
      ...target,
      hypervisor,
      source: { ...target.destination, role: 'source' },
      destination: { ...target.source, role: 'destination' },
      close: async () => undefined,
    };
    views.set(target, view);
    views.set(view, target);
  }
  return view;
}
