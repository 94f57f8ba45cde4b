import type { Workbench } from '../core/workbench/workbench';
import type { WorkbenchEvent } from '../core/events';
import { DEFAULT_BATCHING, LogBatcher, type LogWriter } from '../core/log/logBatcher';
import { settingDefault } from './defaults';
import { paint, type Terminal } from './terminal';

/**
 * The workbench's events on stdout: the lines the editor's log shows (batched the same way, so a flood costs a few
 * writes a second), or with `json` every event as one JSON object per line, payloads in base64.
 */
export function logEvents(workbench: Workbench, terminal: Terminal, json: boolean): { flush(): void; dispose(): void } {
  if (json) {
    const subscription = workbench.events.subscribe((event) => terminal.out.write(`${eventJson(event)}\n`));
    return { flush: () => undefined, dispose: () => subscription.dispose() };
  }
  const line = (level: string, colour: 'dim' | 'yellow' | 'red') => (text: string) =>
    terminal.out.write(`${paint(terminal, colour, `${new Date().toISOString()} [${level}]`)} ${text}\n`);
  const writer: LogWriter = { info: line('info', 'dim'), warn: line('warning', 'yellow'), error: line('error', 'red') };
  const batcher = new LogBatcher(writer, {
    ...DEFAULT_BATCHING,
    previewBytes: settingDefault('log.previewBytes'),
    hexDump: settingDefault('log.hexDump'),
  });
  const subscription = workbench.events.subscribe(batcher.add);
  return {
    flush: () => batcher.flush(),
    dispose: () => {
      subscription.dispose();
      batcher.dispose();
    },
  };
}

/** Buffers (payloads) as base64; everything else as it is. */
function eventJson(event: WorkbenchEvent): string {
  return JSON.stringify(event, (_key, value: unknown) =>
    value !== null && typeof value === 'object' && (value as { type?: unknown }).type === 'Buffer' && 'data' in value
      ? Buffer.from((value as { data: number[] }).data).toString('base64')
      : value,
  );
}
