import { badSetting, WorkbenchError } from './errors';
import { SIMULATION_LIMITS } from './limits';
import { createRandom } from './random';

/** What the echo server does to traffic on purpose. Chances are probabilities in [0, 1]; times are in ms. */
export interface SimulationSettings {
  readonly seed: number;
  /** Chance a received datagram is dropped before any reply. */
  readonly dropInbound: number;
  /** Chance a reply is dropped instead of sent. */
  readonly dropOutbound: number;
  readonly delayMs: number;
  /** Extra delay drawn uniformly from 0 to jitterMs (whole ms). */
  readonly jitterMs: number;
  /** Chance a reply is sent twice. */
  readonly duplicate: number;
  /** Chance a reply is held back long enough for later replies to overtake it. */
  readonly reorder: number;
}

export const NO_SIMULATION: SimulationSettings = Object.freeze({
  seed: 1,
  dropInbound: 0,
  dropOutbound: 0,
  delayMs: 0,
  jitterMs: 0,
  duplicate: 0,
  reorder: 0,
});

export interface ReplyCopy {
  readonly delayMs: number;
  readonly duplicate: boolean;
  readonly reordered: boolean;
}

/** What happens to one reply: dropped (no copies), or one copy, or two when duplicated. */
export interface ReplyPlan {
  readonly dropped: boolean;
  readonly copies: ReadonlyArray<ReplyCopy>;
}

/**
 * How much longer than the longest ordinary delay a reordered reply waits: any reply planned within this
 * time after it is sent first.
 */
export const REORDER_HOLD_MS = 100;

const PROBABILITIES = ['dropInbound', 'dropOutbound', 'duplicate', 'reorder'] as const;
const TIMES = ['delayMs', 'jitterMs'] as const;

/** Returns a frozen copy of valid settings, or throws BAD_SETTING naming the field, its value and the allowed range. */
export function validateSimulation(settings: SimulationSettings): SimulationSettings {
  if (!Number.isSafeInteger(settings.seed)) throw badSimulation('seed', settings.seed, 'a whole number');
  for (const field of PROBABILITIES) {
    const value = settings[field];
    if (!(typeof value === 'number' && value >= 0 && value <= 1)) throw badSimulation(field, value, 'a chance from 0 to 1');
  }
  for (const field of TIMES) {
    const value = settings[field];
    if (!(Number.isInteger(value) && value >= 0 && value <= SIMULATION_LIMITS.maxDelayMs)) {
      throw badSimulation(field, value, `a whole number of milliseconds from 0 to ${SIMULATION_LIMITS.maxDelayMs}`);
    }
  }
  const { seed, dropInbound, dropOutbound, delayMs, jitterMs, duplicate, reorder } = settings;
  return Object.freeze({ seed, dropInbound, dropOutbound, delayMs, jitterMs, duplicate, reorder });
}

function badSimulation(field: string, value: unknown, range: string): WorkbenchError {
  return badSetting(`Simulation setting ${field}`, value, range, 'Correct it in the simulation settings.', 'open-settings');
}

const CLEAN_REPLY: ReplyPlan = Object.freeze({
  dropped: false,
  copies: Object.freeze([Object.freeze({ delayMs: 0, duplicate: false, reordered: false })]),
});
const DROPPED_REPLY: ReplyPlan = Object.freeze({ dropped: true, copies: Object.freeze([]) });

/**
 * The simulation's decisions, one datagram at a time. Deterministic: the same settings and the same sequence
 * of calls give the same decisions, whatever the timing.
 */
export class Impairment {
  readonly settings: SimulationSettings;
  /** False when every chance and time is zero: then no decision draws a number and replies go out at once. */
  readonly active: boolean;
  private readonly random: () => number;

  constructor(settings: SimulationSettings) {
    this.settings = validateSimulation(settings);
    this.random = createRandom(this.settings.seed);
    const s = this.settings;
    this.active = s.dropInbound + s.dropOutbound + s.delayMs + s.jitterMs + s.duplicate + s.reorder > 0;
  }

  /** Draws one number. */
  dropsInbound(): boolean {
    return this.active && this.random() < this.settings.dropInbound;
  }

  /** Always draws four numbers (loss, jitter, duplicate, reorder), so one setting never shifts another's decisions. */
  planReply(): ReplyPlan {
    if (!this.active) return CLEAN_REPLY;
    const s = this.settings;
    const dropped = this.random() < s.dropOutbound;
    const jitterMs = Math.floor(this.random() * (s.jitterMs + 1));
    const duplicate = this.random() < s.duplicate;
    const reordered = this.random() < s.reorder;
    if (dropped) return DROPPED_REPLY;
    const delayMs = s.delayMs + jitterMs + (reordered ? s.jitterMs + REORDER_HOLD_MS : 0);
    const copy: ReplyCopy = { delayMs, duplicate: false, reordered };
    return { dropped: false, copies: duplicate ? [copy, { delayMs, duplicate: true, reordered }] : [copy] };
  }
}
