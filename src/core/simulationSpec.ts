import { quoteInput, WorkbenchError } from './errors';
import { validateSimulation, type SimulationSettings } from './impairment';

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
  if (trimmed === 'off' || trimmed === 'none') return { ...result, dropInbound: 0, dropOutbound: 0, delayMs: 0, jitterMs: 0, duplicate: 0, reorder: 0 };
  const pattern = /\S+/g;
  for (let match = pattern.exec(text); match; match = pattern.exec(text)) {
    const word = match[0];
    const parts = /^([a-z]+)=(-?\d+(?:\.\d+)?)(%|ms)?$/i.exec(word);
    const key = parts ? KEYS[parts[1].toLowerCase()] : undefined;
    if (!parts || !key) {
      throw new WorkbenchError('BAD_SETTING', `${quoteInput(word)} is not a simulation setting.`, `Write name=value pairs, e.g. "${SIMULATION_SPEC_EXAMPLE}", or "off".`, {
        offset: match.index,
      });
    }
    const value = Number(parts[2]);
    const unit = parts[3]?.toLowerCase();
    if ((CHANCES.has(key) && unit === 'ms') || (!CHANCES.has(key) && unit === '%')) {
      throw new WorkbenchError('BAD_SETTING', `"${word}" has the wrong unit.`, `Chances (loss, in, out, dup, reorder) take %, times (delay, jitter) take ms.`, {
        offset: match.index,
      });
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
  if (s.delayMs > 0 || s.jitterMs > 0) parts.push(s.jitterMs > 0 ? `${s.delayMs} ms + up to ${s.jitterMs} ms jitter` : `${s.delayMs} ms delay`);
  if (s.duplicate > 0) parts.push(`${percent(s.duplicate)} duplicated`);
  if (s.reorder > 0) parts.push(`${percent(s.reorder)} reordered`);
  return parts.length === 0 ? 'no impairment' : `${parts.join(', ')} (seed ${s.seed})`;
}
