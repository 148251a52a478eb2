/**
 * What a process's ticks keep of the rollouts they tick, so that the lease statement need not send it again: the plan,
 * which never changes after create (migration 0007 refuses an UPDATE of it), and the state this process last wrote,
 * which is the state of exactly that version (every write of a state adds one to the version). A state kept for
 * version v is used only when the row is still at v; any other writer moves the version and the row's state is read.
 * Both maps are bounded and drop the rollout used longest ago; a dropped entry only costs a read.
 */
import type { RolloutState } from '../model/state.ts';
import type { Plan } from '../spec/plan.ts';

/** Enough for every rollout one engine process drives at the scale benchmark's largest size (5,000). */
const DEFAULT_MAX_ROLLOUTS = 10_000;

/** A Map that forgets its least recently used key beyond `max` entries. */
class RecentMap<V> {
  private readonly map = new Map<string, V>();
  constructor(private readonly max: number) {}

  get(key: string): V | undefined {
    const value = this.map.get(key);
    if (value !== undefined) {
      // Moved to the end: a Map iterates in insertion order, so the first key is the one used longest ago.
      this.map.delete(key);
      this.map.set(key, value);
    }
    return value;
  }

  set(key: string, value: V): void {
    this.map.delete(key);
    this.map.set(key, value);
    if (this.map.size > this.max) this.map.delete(this.map.keys().next().value!);
  }

  delete(key: string): void {
    this.map.delete(key);
  }

  get size(): number {
    return this.map.size;
  }
}

export interface KnownState {
  version: number;
  /** Shared by the ticks that read it: never changed in place (decide works on a copy). */
  state: Readonly<RolloutState>;
}

export class TickCache {
  private readonly plans: RecentMap<Plan>;
  private readonly states: RecentMap<KnownState>;

  constructor(maxRollouts = DEFAULT_MAX_ROLLOUTS) {
    this.plans = new RecentMap(maxRollouts);
    this.states = new RecentMap(maxRollouts);
  }

  plan(id: string): Plan | undefined {
    return this.plans.get(id);
  }

  state(id: string): KnownState | undefined {
    return this.states.get(id);
  }

  rememberPlan(id: string, plan: Plan): void {
    this.plans.set(id, plan);
  }

  rememberState(id: string, version: number, state: RolloutState): void {
    this.states.set(id, { version, state });
  }

  /** A finished rollout is not ticked again unless a command comes; it is read afresh then. */
  forget(id: string): void {
    this.plans.delete(id);
    this.states.delete(id);
  }

  get size(): { plans: number; states: number } {
    return { plans: this.plans.size, states: this.states.size };
  }
}
