import { quoteInput, WorkbenchError } from '../errors';
import { NO_LINK_IMPAIRMENT, validateLink, validateSimulation } from './impairment';
import { LINK_LIMITS } from '../limits';
import type { LinkSettings, SimulationSettings } from '../configuration';

/** Words users type for each setting; percentages for chances, milliseconds for times. */
const KEYS: Record<string, keyof SimulationSettings | 'loss'> = {
  loss: 'loss',
  in: 'dropInbound',
  out: 'dropOutbound',
  delay: 'delayMs',
  jitter: 'jitterMs',
  dup: 'duplicate',
  duplicate: 'duplicate',
  reorder: 'reorder',
  seed: 'seed',
};

const CHANCES = new Set<keyof SimulationSettings | 'loss'>(['loss', 'dropInbound', 'dropOutbound', 'duplicate', 'reorder']);

export const SIMULATION_SPEC_EXAMPLE = 'loss=10% delay=50ms jitter=20ms dup=1% reorder=2% seed=42';

/**
 * Reads a one-line simulation such as "loss=10% delay=50ms seed=42" on top of `base`. `loss` drops
 * inbound datagrams; `in` and `out` name the direction. `off` clears every impairment.
 */
export function parseSimulationSpec(text: string, base: SimulationSettings): SimulationSettings {
  const result: Record<keyof SimulationSettings, number> = { ...base };
  const trimmed = text.trim();
  if (trimmed === 'off' || trimmed === 'none') {
    return { ...result, dropInbound: 0, dropOutbound: 0, delayMs: 0, jitterMs: 0, duplicate: 0, reorder: 0 };
  }
  const pattern = /\S+/g;
  for (let match = pattern.exec(text); match; match = pattern.exec(text)) {
    const word = match[0];
    const parts = /^([a-z]+)=(-?\d+(?:\.\d+)?)(%|ms)?$/i.exec(word);
    const key = parts ? KEYS[parts[1].toLowerCase()] : undefined;
    if (!parts || !key) {
      throw new WorkbenchError(
        'BAD_SETTING',
        `${quoteInput(word)} is not a simulation setting.`,
        `Write name=value pairs, e.g. "${SIMULATION_SPEC_EXAMPLE}", or "off".`,
        {
          offset: match.index,
        },
      );
    }
    const value = Number(parts[2]);
    const unit = parts[3]?.toLowerCase();
    if ((CHANCES.has(key) && unit === 'ms') || (!CHANCES.has(key) && unit === '%')) {
      throw new WorkbenchError(
        'BAD_SETTING',
        `"${word}" has the wrong unit.`,
        `Chances (loss, in, out, dup, reorder) take %, times (delay, jitter) take ms.`,
        {
          offset: match.index,
        },
      );
    }
    if (key === 'loss') result.dropInbound = value / 100;
    else result[key] = CHANCES.has(key) ? value / 100 : value;
  }
  return validateSimulation(result);
}

/** "10% in, 5% out, 50 ± 20 ms, 1% duplicated, 2% reordered, seed 42", or "none". */
export function describeSimulation(s: SimulationSettings): string {
  const parts: string[] = [];
  const percent = (p: number): string => `${Number((p * 100).toFixed(2))}%`;
  if (s.dropInbound > 0) parts.push(`${percent(s.dropInbound)} lost in`);
  if (s.dropOutbound > 0) parts.push(`${percent(s.dropOutbound)} of replies lost`);
  if (s.delayMs > 0 || s.jitterMs > 0) {
    parts.push(s.jitterMs > 0 ? `${s.delayMs} ms + up to ${s.jitterMs} ms jitter` : `${s.delayMs} ms delay`);
  }
  if (s.duplicate > 0) parts.push(`${percent(s.duplicate)} duplicated`);
  if (s.reorder > 0) parts.push(`${percent(s.reorder)} reordered`);
  return parts.length === 0 ? 'no impairment' : `${parts.join(', ')} (seed ${s.seed})`;
}

/** Words users type for a proxy's link; percentages for chances, ms for times, kbit or mbit for bandwidth. */
const LINK_KEYS: Record<string, keyof LinkSettings> = {
  loss: 'loss',
  burst: 'burstLength',
  delay: 'delayMs',
  jitter: 'jitterMs',
  dup: 'duplicate',
  duplicate: 'duplicate',
  reorder: 'reorder',
  corrupt: 'corrupt',
  rate: 'rateKbps',
  queue: 'queueLimit',
  seed: 'seed',
};
const LINK_UNITS: Record<keyof LinkSettings, readonly string[]> = {
  loss: ['%'],
  duplicate: ['%'],
  reorder: ['%'],
  corrupt: ['%'],
  delayMs: ['ms', ''],
  jitterMs: ['ms', ''],
  rateKbps: ['kbit', 'mbit'],
  burstLength: [''],
  queueLimit: [''],
  seed: [''],
};

export const LINK_SPEC_EXAMPLE = 'loss=5% burst=3 delay=80ms jitter=30ms dup=1% reorder=2% corrupt=0.1% rate=2mbit queue=50 seed=42';

/** Named conditions, each a one-line spec: pick one, then adjust it with the same syntax ("4g loss=3%"). */
export const LINK_PRESETS: Readonly<Record<string, { readonly label: string; readonly spec: string }>> = Object.freeze({
  'home-wifi': { label: 'Home Wi-Fi', spec: 'loss=0.5% burst=2 delay=4ms jitter=4ms rate=50mbit queue=200' },
  'busy-wifi': { label: 'Busy Wi-Fi', spec: 'loss=3% burst=3 delay=15ms jitter=40ms reorder=1% dup=0.5% rate=8mbit queue=100' },
  '4g': { label: '4G mobile', spec: 'loss=1% burst=2 delay=35ms jitter=15ms rate=20mbit queue=300' },
  satellite: { label: 'Satellite (geostationary)', spec: 'loss=1.5% burst=2 delay=300ms jitter=20ms rate=10mbit queue=500' },
  'bad-game': {
    label: 'Bad game connection',
    spec: 'loss=5% burst=3 delay=80ms jitter=30ms dup=1% reorder=2% corrupt=0.1% rate=2mbit queue=50',
  },
});

/**
 * Reads a one-line link impairment such as "loss=5% burst=3 delay=80ms" on top of `base`; a preset's name may
 * come first ("bad-game seed=7"). `off` clears every impairment and keeps the seed.
 */
export function parseLinkSpec(text: string, base: LinkSettings): LinkSettings {
  const result: Record<keyof LinkSettings, number> = { ...base };
  const trimmed = text.trim();
  if (trimmed === 'off' || trimmed === 'none') return { ...NO_LINK_IMPAIRMENT, seed: base.seed };
  const pattern = /\S+/g;
  for (let match = pattern.exec(text); match; match = pattern.exec(text)) {
    const word = match[0];
    const preset = LINK_PRESETS[word.toLowerCase()];
    if (preset) {
      Object.assign(result, parseLinkSpec(preset.spec, { ...NO_LINK_IMPAIRMENT, seed: result.seed }));
      continue;
    }
    const parts = /^([a-z]+)=(-?\d+(?:\.\d+)?)(%|ms|kbit|mbit)?$/i.exec(word);
    const key = parts ? LINK_KEYS[parts[1].toLowerCase()] : undefined;
    if (!parts || !key) {
      throw new WorkbenchError(
        'BAD_SETTING',
        `${quoteInput(word)} is not a link setting.`,
        `Write name=value pairs, e.g. "${LINK_SPEC_EXAMPLE}", a preset (${Object.keys(LINK_PRESETS).join(', ')}) or "off".`,
        { offset: match.index },
      );
    }
    const unit = parts[3]?.toLowerCase() ?? '';
    if (!LINK_UNITS[key].includes(unit)) {
      throw new WorkbenchError(
        'BAD_SETTING',
        `"${word}" has the wrong unit.`,
        'Chances (loss, dup, reorder, corrupt) take %, times (delay, jitter) ms, rate kbit or mbit; burst, queue and seed are plain numbers.',
        {
          offset: match.index,
        },
      );
    }
    const value = Number(parts[2]);
    result[key] = unit === '%' ? value / 100 : unit === 'mbit' ? value * 1000 : value;
    if (key === 'rateKbps') checkRate(word, result.rateKbps, match.index);
  }
  return validateLink(result);
}

/** A link slower than LINK_LIMITS allows would hold its queue for weeks: said where the user typed it. */
function checkRate(word: string, rateKbps: number, offset: number): void {
  if (rateKbps === 0 || (rateKbps >= LINK_LIMITS.minRateKbps && rateKbps <= LINK_LIMITS.maxRateKbps)) return;
  throw new WorkbenchError(
    'BAD_SETTING',
    `${quoteInput(word)} is outside the rates a link can have.`,
    `Give a rate from ${LINK_LIMITS.minRateKbps}kbit to ${LINK_LIMITS.maxRateKbps / 1000}mbit, or rate=0kbit for no limit.`,
    { offset },
  );
}

/** "5% lost in bursts of 3, 80 ms + up to 30 ms jitter, 2 Mbit/s (queue 50), seed 42", or "no impairment". */
export function describeLink(s: LinkSettings): string {
  const parts: string[] = [];
  const percent = (p: number): string => `${Number((p * 100).toFixed(2))}%`;
  if (s.loss > 0) parts.push(s.burstLength > 0 ? `${percent(s.loss)} lost in bursts of ${s.burstLength}` : `${percent(s.loss)} lost`);
  if (s.delayMs > 0 || s.jitterMs > 0) {
    parts.push(s.jitterMs > 0 ? `${s.delayMs} ms + up to ${s.jitterMs} ms jitter` : `${s.delayMs} ms delay`);
  }
  if (s.duplicate > 0) parts.push(`${percent(s.duplicate)} duplicated`);
  if (s.reorder > 0) parts.push(`${percent(s.reorder)} reordered`);
  if (s.corrupt > 0) parts.push(`${percent(s.corrupt)} corrupted`);
  if (s.rateKbps > 0) {
    parts.push(
      `${s.rateKbps >= 1000 ? `${Number((s.rateKbps / 1000).toFixed(3))} Mbit/s` : `${s.rateKbps} kbit/s`} (queue ${s.queueLimit})`,
    );
  }
  return parts.length === 0 ? 'no impairment' : `${parts.join(', ')} (seed ${s.seed})`;
}
