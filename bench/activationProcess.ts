// Forked fresh for each measurement, so every require is cold: `core` times what activate() builds of the core,
// `bundle <file>` times loading the production bundle with 'vscode' replaced by an empty module (its top level
// only: activate() itself needs a real extension host).
import Module from 'node:module';
import { performance } from 'node:perf_hooks';

export type ActivationMessage = { ms: number } | { error: string };

async function core(): Promise<number> {
  const started = performance.now();
  const { Workbench } = await import('../src/core/workbench/workbench');
  const { LogBatcher, DEFAULT_BATCHING } = await import('../src/core/log/logBatcher');
  const workbench = new Workbench();
  const batcher = new LogBatcher({ info() {}, warn() {}, error() {} }, { ...DEFAULT_BATCHING, previewBytes: 256, hexDump: 'auto' });
  workbench.events.subscribe(batcher.add);
  return performance.now() - started;
}

async function bundle(file: string): Promise<number> {
  const loader = Module as unknown as { _load(request: string, ...rest: unknown[]): unknown };
  const load = loader._load;
  loader._load = function (request: string, ...rest: unknown[]) {
    return request === 'vscode' ? {} : load.call(this, request, ...rest);
  };
  const started = performance.now();
  const loaded = (await import(file)) as { activate?: unknown };
  if (typeof loaded.activate !== 'function') throw new Error('the bundle exports no activate()');
  return performance.now() - started;
}

const [mode, file] = process.argv.slice(2);
(mode === 'bundle' ? bundle(file) : core()).then(
  (ms) => process.send!({ ms } satisfies ActivationMessage),
  (error: unknown) => process.send!({ error: String(error) } satisfies ActivationMessage),
);
