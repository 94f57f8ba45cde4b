// Phase 'sources': a flood from 1,000 source addresses against a hostile folder's log settings, and against replies
// too large to send.
import { fmt, heading, table } from './report';
import { floodFromSources, type SourceFlood } from './sourceFlood';
import { check, TARGET } from './targets';
import { DEFAULT_BATCHING } from '../src/core/log/logBatcher';

const SOURCE_FLOOD = { sources: 1000, size: 512, durationMs: 5000, maxDatagrams: 500_000 };

/** What a hostile folder may set: every datagram as a hex dump of up to 64 KiB. */
const HOSTILE_LOG = { previewBytes: 65_536, hexDump: 'always' } as const;

const HOSTILE_FLOOD = 'mirror, log settings 64 KiB + hex dump always';

const ERROR_FLOOD = 'every reply too large to send (an error each)';

/** Runs the phase, prints its figures and records its checks; returns what goes into the results file. */
export async function runSources(): Promise<Record<string, unknown>> {
  heading(
    `Flood from ${fmt.int(SOURCE_FLOOD.sources)} source addresses, ${SOURCE_FLOOD.size} B random, ${SOURCE_FLOOD.durationMs / 1000} s each, ours + batched log`,
  );
  const sourceFloods = {
    [HOSTILE_FLOOD]: await floodFromSources({ log: HOSTILE_LOG }, SOURCE_FLOOD),
    [ERROR_FLOOD]: await floodFromSources({ replyMode: 'template', template: 'x'.repeat(65_600) }, SOURCE_FLOOD),
  };
  printSourceFloods(sourceFloods);
  return { sourceFloods };
}

function printSourceFloods(floods: Record<string, SourceFlood>): void {
  const rows = [
    [
      'flood',
      'sent/s',
      'received',
      'errors',
      'sender CPU',
      'server CPU',
      'log lines/s',
      'log KB/s',
      'flushes/s',
      'not shown',
      'max delay',
      'max 5 ms gap',
    ],
  ];
  for (const [name, f] of Object.entries(floods)) {
    rows.push([
      name,
      fmt.int(f.sent / (f.durationMs / 1000)),
      fmt.int(f.received),
      fmt.int(f.serverErrors),
      fmt.pct(f.senderCpuPercent, 0),
      fmt.pct(f.serverCpuPercent, 0),
      fmt.int(f.logLinesPerSecond),
      (f.logBytesPerSecond / 1024).toFixed(1),
      f.flushesPerSecond.toFixed(2),
      fmt.int(f.notShown),
      fmt.ms(f.maxDelayMs),
      fmt.ms(f.maxTimerGapMs),
    ]);
    const stall = Math.max(f.maxDelayMs, f.maxTimerGapMs);
    if (name === HOSTILE_FLOOD) check(`largest event-loop stall, ${name}`, fmt.ms(stall), `< ${TARGET.stallMs} ms`, stall < TARGET.stallMs);
    check(
      `log lines written per second, ${name}`,
      fmt.int(f.logLinesPerSecond),
      `≤ ${fmt.int(TARGET.logLinesPerSecond)}`,
      f.logLinesPerSecond <= TARGET.logLinesPerSecond,
    );
    check(
      `log bytes written per second, ${name}`,
      fmt.kb(f.logBytesPerSecond),
      `≤ ${fmt.kb(TARGET.logBytesPerSecond)}`,
      f.logBytesPerSecond <= TARGET.logBytesPerSecond,
    );
  }
  console.log(table(rows));
  console.log('  received: of the datagrams sent, those that reached the server (the rest overflowed its socket buffer in the kernel).');
  console.log('  In the server process: lines as the Output panel shows them (a hex dump is several) and their UTF-8 bytes, per second');
  console.log('  over the flood and half a second after; the largest event-loop delay (perf_hooks) and gap between ticks of a 5 ms timer.');
  console.log(`  ${ERROR_FLOOD}: the server builds a 64 KiB reply per datagram that the kernel refuses; that work, not the log, sets`);
  console.log(`  its stalls (printed for information); what it shows is that error lines keep within the log's budget.`);
  console.log(
    `  The log's budget per flush: ${DEFAULT_BATCHING.maxEventsPerFlush} entries, ${fmt.int(DEFAULT_BATCHING.maxLinesPerFlush)} lines, ${fmt.kb(DEFAULT_BATCHING.maxBytesPerFlush)}, plus summary lines.`,
  );
}
