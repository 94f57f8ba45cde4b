// Phase 'footprint': the bundle's size and what loading and building the extension's parts costs.
import { buildProductionBundle, timeActivation, type Bundle } from './footprint';
import { fmt, heading, median } from './report';
import { check, log, repoRoot, TARGET } from './targets';

const ACTIVATION_RUNS = 5;

/** Runs the phase, prints its figures and records its checks; returns what goes into the results file. */
export async function runFootprint(): Promise<Record<string, unknown>> {
  heading('Footprint');
  const footprint = await measureFootprint();
  return { footprint };
}

async function measureFootprint(): Promise<unknown> {
  let bundle: Bundle | undefined;
  let bundleError: string | undefined;
  try {
    bundle = buildProductionBundle(repoRoot);
  } catch (error) {
    bundleError = (error as Error).message;
  }
  try {
    if (bundle) {
      log(
        `production bundle (the project's esbuild.mjs --production, built in a temp folder): ${fmt.kb(bundle.bytes)} minified, ${fmt.kb(bundle.gzipBytes)} gzipped`,
      );
      check('bundle size, minified', fmt.kb(bundle.bytes), `≤ ${fmt.kb(TARGET.bundleBytes)}`, bundle.bytes <= TARGET.bundleBytes);
    } else {
      log(`production bundle: could not build it — ${bundleError}`);
      check('bundle size, minified', 'not built', `≤ ${fmt.kb(TARGET.bundleBytes)}`, false);
    }
    log(`activate() needs VS Code, so these are its plain-Node parts, each in a fresh process (${ACTIVATION_RUNS} times):`);
    const core = await repeat(() => timeActivation(['core']));
    log(
      `  require Workbench + LogBatcher (tsc output, one file per module) and construct them: median ${fmt.ms(median(core))}, min ${fmt.ms(Math.min(...core))}`,
    );
    check('activation: core require + construct', fmt.ms(median(core)), `≤ ${TARGET.activationMs} ms`, median(core) <= TARGET.activationMs);
    let bundleLoad: number[] | string = 'no bundle';
    if (bundle) {
      try {
        bundleLoad = await repeat(() => timeActivation(['bundle', bundle!.file]));
        log(
          `  load the production bundle, 'vscode' stubbed, activate() not called: median ${fmt.ms(median(bundleLoad))}, min ${fmt.ms(Math.min(...bundleLoad))}`,
        );
        check(
          'activation: production bundle load',
          fmt.ms(median(bundleLoad)),
          `≤ ${TARGET.activationMs} ms`,
          median(bundleLoad) <= TARGET.activationMs,
        );
      } catch (error) {
        bundleLoad = (error as Error).message;
        log(`  load the production bundle: not measured — ${bundleLoad}`);
      }
    }
    return {
      bundleBytes: bundle?.bytes,
      bundleGzipBytes: bundle?.gzipBytes,
      bundleError,
      activationCoreMs: core,
      bundleLoadMs: bundleLoad,
    };
  } finally {
    bundle?.dispose();
  }
}

async function repeat(measureOnce: () => Promise<number>): Promise<number[]> {
  const values: number[] = [];
  for (let i = 0; i < ACTIVATION_RUNS; i++) values.push(await measureOnce());
  return values;
}
