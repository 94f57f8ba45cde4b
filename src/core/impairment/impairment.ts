import { badSetting, WorkbenchError } from '../errors';
import { LINK_LIMITS, SIMULATION_LIMITS } from '../limits';
import { createRandom } from '../random';
import type { LinkSettings, SimulationSettings } from '../configuration';

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
  checkSeedChancesAndTimes(settings, PROBABILITIES);
  const { seed, dropInbound, dropOutbound, delayMs, jitterMs, duplicate, reorder } = settings;
  return Object.freeze({ seed, dropInbound, dropOutbound, delayMs, jitterMs, duplicate, reorder });
}

/** What a server's simulation and a proxy's link have in common: a whole seed, chances from 0 to 1, delays within the limit. */
function checkSeedChancesAndTimes<S extends { readonly seed: number; readonly delayMs: number; readonly jitterMs: number }>(
  settings: S,
  chances: readonly (keyof S & string)[],
): void {
  if (!Number.isSafeInteger(settings.seed)) throw badSimulation('seed', settings.seed, 'a whole number');
  for (const field of chances) {
    const value = settings[field];
    if (!(typeof value === 'number' && value >= 0 && value <= 1)) throw badSimulation(field, value, 'a chance from 0 to 1');
  }
  for (const field of TIMES) {
    const value = settings[field];
    if (!(Number.isInteger(value) && value >= 0 && value <= SIMULATION_LIMITS.maxDelayMs)) {
      throw badSimulation(field, value, `a whole number of milliseconds from 0 to ${SIMULATION_LIMITS.maxDelayMs}`);
    }
  }
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

export const NO_LINK_IMPAIRMENT: LinkSettings = Object.freeze({
  seed: 1,
  loss: 0,
  burstLength: 0,
  delayMs: 0,
  jitterMs: 0,
  duplicate: 0,
  reorder: 0,
  corrupt: 0,
  rateKbps: 0,
  queueLimit: 100,
});

const LINK_CHANCES = ['loss', 'duplicate', 'reorder', 'corrupt'] as const;

/** Returns a frozen copy of valid settings, or throws BAD_SETTING naming the field, its value and the allowed range. */
export function validateLink(settings: LinkSettings): LinkSettings {
  checkSeedChancesAndTimes(settings, LINK_CHANCES);
  const { seed, loss, burstLength, delayMs, jitterMs, duplicate, reorder, corrupt, rateKbps, queueLimit } = settings;
  if (!(typeof burstLength === 'number' && burstLength >= 0 && burstLength <= LINK_LIMITS.maxBurstLength)) {
    throw badSimulation(
      'burstLength',
      burstLength,
      `a mean number of datagrams from 0 (independent losses) to ${LINK_LIMITS.maxBurstLength}`,
    );
  }
  // A burst cannot be shorter than the losses in a row that the loss rate alone already makes.
  if (burstLength > 0 && loss < 1 && burstLength < loss / (1 - loss)) {
    throw badSimulation(
      'burstLength',
      burstLength,
      `at least ${Number((loss / (1 - loss)).toFixed(2))} at ${Number((loss * 100).toFixed(2))}% loss`,
    );
  }
  if (!(typeof rateKbps === 'number' && (rateKbps === 0 || (rateKbps >= LINK_LIMITS.minRateKbps && rateKbps <= LINK_LIMITS.maxRateKbps)))) {
    throw badSimulation(
      'rateKbps',
      rateKbps,
      `kilobits per second from ${LINK_LIMITS.minRateKbps} to ${LINK_LIMITS.maxRateKbps}, or 0 for no limit`,
    );
  }
  if (!(Number.isInteger(queueLimit) && queueLimit >= 1 && queueLimit <= LINK_LIMITS.maxQueueLimit)) {
    throw badSimulation('queueLimit', queueLimit, `a whole number of datagrams from 1 to ${LINK_LIMITS.maxQueueLimit}`);
  }
  return Object.freeze({ seed, loss, burstLength, delayMs, jitterMs, duplicate, reorder, corrupt, rateKbps, queueLimit });
}

/** One copy of a forwarded datagram: when it leaves, and whether it is the duplicate. */
export interface ForwardCopy {
  readonly delayMs: number;
  readonly duplicate: boolean;
  readonly reordered: boolean;
}

/** The fate of one datagram on a link: lost, dropped by a full queue, or forwarded as one or two copies. */
export type LinkFate =
  | { readonly kind: 'lost' }
  | { readonly kind: 'queue-full' }
  | {
      readonly kind: 'forwarded';
      readonly copies: readonly ForwardCopy[];
      /** The bit to flip (0 is the first byte's most significant bit), or undefined. */
      readonly corruptBit: number | undefined;
      /** Time spent waiting for the bandwidth, included in each copy's delay. */
      readonly queuedMs: number;
    };

/**
 * One direction of a proxy: its decisions, one datagram at a time. Each datagram draws the same six numbers
 * whatever the settings, so the same seed and the same traffic give each datagram the same fate; only the
 * bandwidth queue depends on arrival times, as a real link's does.
 */
export class LinkImpairment {
  readonly settings: LinkSettings;
  /**
   * False when nothing is lost, delayed, duplicated, reordered, corrupted or rate-limited: every datagram is then
   * forwarded at once without a draw. Skipping the draws changes no fate: new settings start a new sequence from the seed.
   */
  readonly active: boolean;
  private readonly random: () => number;
  /** Gilbert–Elliott: in the bad state every datagram is lost. */
  private bad = false;
  private readonly enterBad: number;
  private readonly leaveBad: number;
  /** When each datagram still waiting for the bandwidth leaves, oldest first. */
  private readonly departures: number[] = [];
  private busyUntil = 0;

  constructor(settings: LinkSettings) {
    this.settings = validateLink(settings);
    this.random = createRandom(this.settings.seed);
    const { loss, burstLength, delayMs, jitterMs, duplicate, reorder, corrupt, rateKbps } = this.settings;
    this.active = loss + delayMs + jitterMs + duplicate + reorder + corrupt + rateKbps > 0;
    // Stationary share of the bad state = enter / (enter + leave) = loss; a bad run lasts 1 / leave on average.
    this.leaveBad = loss >= 1 ? 0 : burstLength > 0 ? 1 / burstLength : 1 - loss;
    this.enterBad = loss >= 1 ? 1 : burstLength > 0 ? (loss * this.leaveBad) / (1 - loss) : loss;
  }

  /** `now` in ms (any clock that only moves forward); `size` in bytes. */
  decide(size: number, now: number): LinkFate {
    if (!this.active) return UNIMPAIRED;
    const s = this.settings;
    const lossDraw = this.random();
    const jitterMs = Math.floor(this.random() * (s.jitterMs + 1));
    const duplicate = this.random() < s.duplicate;
    const reordered = this.random() < s.reorder;
    const corrupted = this.random() < s.corrupt;
    const bitDraw = this.random();
    this.bad = s.burstLength > 0 ? lossDraw < (this.bad ? 1 - this.leaveBad : this.enterBad) : lossDraw < s.loss;
    if (this.bad) return LOST;
    const queuedMs = this.queue(size, now);
    if (queuedMs === undefined) return QUEUE_FULL;
    const delayMs = queuedMs + s.delayMs + jitterMs + (reordered ? s.jitterMs + REORDER_HOLD_MS : 0);
    const copy: ForwardCopy = { delayMs, duplicate: false, reordered };
    return {
      kind: 'forwarded',
      copies: duplicate ? [copy, { delayMs, duplicate: true, reordered }] : [copy],
      corruptBit: corrupted && size > 0 ? Math.floor(bitDraw * size * 8) : undefined,
      queuedMs,
    };
  }

  /** Puts a datagram in the bandwidth queue: how long it waits there (its own sending time included), or undefined when full. */
  private queue(size: number, now: number): number | undefined {
    if (this.settings.rateKbps === 0) return 0;
    const departures = this.departures;
    let gone = 0;
    while (gone < departures.length && departures[gone] <= now) gone++;
    if (gone > 0) departures.splice(0, gone);
    if (departures.length >= this.settings.queueLimit) return undefined;
    const leaves = Math.max(now, this.busyUntil) + (size * 8) / this.settings.rateKbps;
    this.busyUntil = leaves;
    departures.push(leaves);
    return Math.ceil(leaves - now);
  }
}

const LOST: LinkFate = Object.freeze({ kind: 'lost' });
const UNIMPAIRED: LinkFate = Object.freeze({
  kind: 'forwarded',
  copies: Object.freeze([Object.freeze({ delayMs: 0, duplicate: false, reordered: false })]),
  corruptBit: undefined,
  queuedMs: 0,
});
const QUEUE_FULL: LinkFate = Object.freeze({ kind: 'queue-full' });

/** A copy of `payload` with one bit flipped. */
export function flipBit(payload: Buffer, bit: number): Buffer {
  const copy = Buffer.from(payload);
  copy[bit >> 3] ^= 0x80 >> (bit & 7);
  return copy;
}
