#!/usr/bin/env node
// @ts-check
// Runs the e2e scenarios: the packaged .vsix installed into a real VS Code (code-server),
// driven through the workbench in headless Chromium as a person would.
//
//   node test/host/runE2e.mjs [--vsix FILE] [SCENARIO ...]
//     --vsix     default dist-vsix/udp-workbench-<version>.vsix (npm run package names it after package.json's version)
//     SCENARIO   names or parts of names of test/e2e/*.e2e.mjs (default: all)
//   env: UDPW_UPDATE_SCREENSHOTS=1   screenshots go to media/screenshots/ (else test-results/screenshots/)
//        UDPW_E2E_TIMEOUT_MS=ms      per scenario (default 120000)
// Exit code: 0 all passed, 1 otherwise.
//
// A scenario is a module exporting
//   export const options = { settings: {...}, workspaceTrust: false };   // optional
//   export async function run({ page, log, screenshot, workspace }) { ... }  // throw to fail
// Each one gets its own code-server, browser and copy of test/e2e/fixtures/workspace.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { REPO, VSIX } from './config.mjs';
import { errorText, log, newRunDir, installVsix, startCodeServer, launchBrowser } from './lib.mjs';
import { screenshot, waitForWorkbench, SCREENSHOT_DIR } from '../e2e/workbench.mjs';
/** @import { Scenario } from '../e2e/workbench.mjs' */

const E2E_DIR = path.join(REPO, 'test', 'e2e');
const FIXTURE = path.join(E2E_DIR, 'fixtures', 'workspace');
const { values: opts, positionals: filters } = parseArgs({
  allowPositionals: true,
  options: { vsix: { type: 'string', default: VSIX } },
});
const vsix = path.resolve(opts.vsix);
const timeoutMs = Number(process.env.UDPW_E2E_TIMEOUT_MS || 240_000);

if (!fs.existsSync(vsix)) {
  console.error(`[e2e] ${path.relative(REPO, vsix)} is missing: run \`npm run package\` first.`);
  process.exit(1);
}
const scenarios = fs
  .readdirSync(E2E_DIR)
  .filter((f) => f.endsWith('.e2e.mjs'))
  .filter((f) => filters.length === 0 || filters.some((part) => f.includes(part)))
  .sort();
if (scenarios.length === 0) {
  console.error(`[e2e] no scenario in test/e2e matches ${filters.join(' ') || '*.e2e.mjs'}`);
  process.exit(1);
}

/**
 * @template T
 * @param {Promise<T>} promise
 * @param {number} ms
 * @param {string} what
 */
function withTimeout(promise, ms, what) {
  /** @type {NodeJS.Timeout | undefined} */
  let timer;
  /** @type {Promise<never>} */
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms / 1000}s`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** @param {string} file */
async function runScenario(file) {
  const name = file.replace(/\.e2e\.mjs$/, '');
  /** @type {Partial<Scenario>} */
  const scenario = await import(pathToFileURL(path.join(E2E_DIR, file)).href);
  if (typeof scenario.run !== 'function') throw new Error(`${file} exports no run() function`);
  const { settings = {}, workspaceTrust = false } = scenario.options ?? {};
  const runDir = newRunDir(`e2e-${name}`);
  const workspace = path.join(runDir, 'workspace');
  fs.cpSync(FIXTURE, workspace, { recursive: true });
  installVsix(runDir, vsix);
  const server = await startCodeServer({ runDir, settings, workspaceTrust });
  const browser = await launchBrowser(runDir);
  const page = browser.pages()[0] ?? (await browser.newPage());
  const consoleLog = fs.createWriteStream(path.join(runDir, 'browser-console.log'));
  page.on('console', (msg) => consoleLog.write(`[${msg.type()}] ${msg.text()}\n`));
  const started = Date.now();
  try {
    await page.goto(server.workbenchUrl(workspace));
    await waitForWorkbench(page);
    await withTimeout(
      scenario.run({
        page,
        workspace,
        log: (...args) => console.log(`    [${name}]`, ...args),
        screenshot: async (shot) => {
          const saved = await screenshot(page, shot);
          console.log(`    [${name}] screenshot ${path.relative(REPO, saved)}`);
          return saved;
        },
      }),
      timeoutMs,
      name,
    );
    console.log(`  ✔ ${name} (${((Date.now() - started) / 1000).toFixed(1)}s)`);
    return true;
  } catch (err) {
    console.log(`  ✘ ${name}: ${errorText(err)}`);
    const failure = path.join(runDir, 'failure.png');
    await page.screenshot({ path: failure }).catch(() => {});
    console.log(`    logs: ${runDir} (failure.png, code-server.log, browser-console.log, user-data/logs/)`);
    return false;
  } finally {
    await browser.close().catch(() => {});
    await server.stop();
    consoleLog.end();
  }
}

log(`e2e: ${scenarios.length} scenario(s) with ${path.relative(REPO, vsix)}; screenshots to ${path.relative(REPO, SCREENSHOT_DIR)}`);
let passed = 0;
let failed = 0;
for (const file of scenarios) {
  let ok = false;
  try {
    ok = await runScenario(file);
  } catch (err) {
    console.log(`  ✘ ${file}: could not start: ${errorText(err)}`);
  }
  if (ok) passed++;
  else failed++;
}
console.log(`e2e: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
