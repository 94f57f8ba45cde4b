// Phase 'delay': the longest simulated delay against a flood: the delay queue's cap keeps memory flat.
import { capFor, delayFlood, type DelayFlood, type DelayFloodOptions } from './delayFlood';
import { fmt, heading, table } from './report';
import { CAPTURE_BUFFER_SIZE } from './shippedViews';
import { SIMULATION_LIMITS } from '../src/core/limits';
import { MAX_BUFFERED_BYTES } from '../src/core/capture/captureBuffer';
import { check, log, TARGET } from './targets';

/**
 * The longest simulated delay (60 s) against a flood: small datagrams fill the delay queue's count first, large
 * ones its bytes. 15 s each is enough: the cap is reached in the first 2 s, and no reply leaves before 60 s.
 */
const DELAY_FLOODS: readonly DelayFloodOptions[] = [
  { size: 64, perSecond: 5000, durationMs: 15_000, sampleEveryMs: 3000 },
  { size: 8192, perSecond: 3000, durationMs: 15_000, sampleEveryMs: 3000 },
];

/** What each held reply may cost besides its bytes (timer, reply record, peer, map entry; ~1.1 KB measured). */
const DELAYED_REPLY_OVERHEAD_BYTES = 1536;

/** The rest of the server process under a flood: log batching between flushes holds payloads, V8 frees lazily. */
const DELAY_FLOOD_SLACK_BYTES = 16 * 1024 * 1024;

const MAX_DELAY_S = SIMULATION_LIMITS.maxDelayMs / 1000;

/** Runs the phase, prints its figures and records its checks; returns what goes into the results file. */
export async function runDelay(): Promise<Record<string, unknown>> {
  heading(
    `Delay flood: a ${MAX_DELAY_S} s simulated delay, flooded from 127.0.0.1 (${DELAY_FLOODS.map((f) => `${f.size} B`).join(', then ')}; ${DELAY_FLOODS[0].durationMs / 1000} s each)`,
  );
  const delayFloods = [];
  for (const options of DELAY_FLOODS) delayFloods.push(await delayFlood(options));
  printDelayFloods(delayFloods);
  return { delayFloods };
}

function printDelayFloods(floods: readonly DelayFlood[]): void {
  for (const { options, before, samples, uncappedBytes } of floods) {
    const cap = capFor(options.size);
    // The capture's ring buffer keeps the most recent datagrams too, as in the extension: received ones, here.
    const captureBytes = Math.min(MAX_BUFFERED_BYTES, CAPTURE_BUFFER_SIZE * options.size);
    const allowed = cap.bytes + cap.replies * DELAYED_REPLY_OVERHEAD_BYTES + captureBytes + DELAY_FLOOD_SLACK_BYTES;
    const rows = [['time', 'sent', 'received', 'replies held', 'dropped: queue full', 'kept memory', 'growth', 'RSS']];
    rows.push(['start', '0', '0', '0', '0', fmt.mb(before.keptBytes), '', fmt.mb(before.rssBytes)]);
    for (const sample of samples) {
      rows.push([
        `${(sample.atMs / 1000).toFixed(1)} s`,
        fmt.int(sample.sent),
        fmt.int(sample.received),
        fmt.int(sample.pending),
        fmt.int(sample.queueFullDrops),
        fmt.mb(sample.keptBytes),
        fmt.signedMb(sample.keptBytes - before.keptBytes),
        fmt.mb(sample.rssBytes),
      ]);
    }
    console.log(
      `\n  ${options.size} B datagrams at ${fmt.int(options.perSecond)}/s: the cap is ${fmt.int(cap.replies)} replies, ${fmt.mb(cap.bytes)} of them (${cap.binding} binds first)`,
    );
    console.log(table(rows));
    const last = samples[samples.length - 1];
    const growth = last.keptBytes - before.keptBytes;
    const held = samples.filter((sample) => sample.pending >= cap.replies);
    const rise = held.length > 0 ? Math.max(...held.map((sample) => sample.keptBytes)) - held[0].keptBytes : NaN;
    // What one held reply cost here, bookkeeping included: what every datagram received would cost without the cap.
    const perReply = growth / last.pending;
    log(
      `each held reply kept ≈ ${fmt.kb(perReply)} here; without the cap the ${fmt.int(last.received)} datagrams received would keep ≈ ${fmt.mb(perReply * last.received)}`,
    );
    log(`(${fmt.mb(uncappedBytes)} of it payload), growing until the first reply left after ${MAX_DELAY_S} s`);
    log(`kept memory: heap used + external after a garbage collection in the server process. Allowed growth: the cap's bytes`);
    log(
      `+ ${fmt.kb(DELAYED_REPLY_OVERHEAD_BYTES)} per held reply + the capture buffer's ${fmt.mb(captureBytes)} + ${fmt.mb(DELAY_FLOOD_SLACK_BYTES)} for the rest of the process = ${fmt.mb(allowed)}; once the queue is full it must stay flat.`,
    );
    check(
      `delay flood ${options.size} B: replies held`,
      fmt.int(last.pending),
      `≤ ${fmt.int(cap.replies)} (the cap)`,
      last.pending <= cap.replies,
    );
    check(`delay flood ${options.size} B: kept memory growth`, fmt.signedMb(growth), `≤ ${fmt.mb(allowed)}`, growth <= allowed);
    check(
      `delay flood ${options.size} B: rise once the queue is full`,
      Number.isNaN(rise) ? 'queue never full' : fmt.signedMb(rise),
      `≤ ${fmt.mb(TARGET.delayFloodRiseBytes)}`,
      rise <= TARGET.delayFloodRiseBytes,
    );
  }
}
