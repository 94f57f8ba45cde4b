#!/usr/bin/env node
// @ts-check
// Runs the integration suite (mocha) INSIDE VS Code's real Node extension host, headless.
//
//   node test/host/runIntegration.mjs [--extension DIR] [--tests FILE] [--workspace DIR]
//     --extension  extensionDevelopmentPath (default: the repo; its package.json main is dist/extension.js)
//     --tests      extensionTestsPath (default: out/test/integration/index.js, compiled by `tsc -p .`)
//     --workspace  the folder the window opens (default: test/integration/fixtures/workspace)
//     --settings   a JSON file of user settings to start with
//     --workspace-trust  keep Workspace Trust on: the folder opens untrusted (Restricted Mode)
//   env: UDPW_TEST_GREP=text         only the tests whose full title contains text
//        UDPW_TEST_*                 passed on into the extension host
//        UDPW_TEST_TIMEOUT_MS=ms     whole run (default 300000); exit 124 when exceeded
//        UDPW_SHOW_WORKBENCH_LOG=1   print every workbench log line, not just the test output
// Exit code: 0 all passed, 1 failures (or the host failed), 124 timeout.
//
// How: code-server started with VS Code's `enable-smoke-test-driver` lets the workbench honour the
// `payload` URL parameter (extensionDevelopmentPath, extensionTestsPath, extensionEnvironment), as
// @vscode/test-web does. The extension host then require()s the tests and awaits their run(); the
// workbench reports the host's console through window.codeAutomationLog and the result through
// window.codeAutomationExit, which this runner exposes to the page.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs, format } from 'node:util';
import { REPO } from './config.mjs';
import { errorText, log, newRunDir, startCodeServer, launchBrowser } from './lib.mjs';

const { values: opts } = parseArgs({
  options: {
    extension: { type: 'string', default: REPO },
    tests: { type: 'string', default: path.join(REPO, 'out', 'test', 'integration', 'index.js') },
    workspace: { type: 'string', default: path.join(REPO, 'test', 'integration', 'fixtures', 'workspace') },
    settings: { type: 'string' },
    'workspace-trust': { type: 'boolean', default: false },
  },
});
const extensionPath = path.resolve(opts.extension);
const testsPath = path.resolve(opts.tests);
const workspace = path.resolve(opts.workspace);
const timeoutMs = Number(process.env.UDPW_TEST_TIMEOUT_MS || 300_000);
const showAll = Boolean(process.env.UDPW_SHOW_WORKBENCH_LOG);

/** @type {string} */
const main = JSON.parse(fs.readFileSync(path.join(extensionPath, 'package.json'), 'utf8')).main;
for (const [file, fix] of [
  [path.join(extensionPath, main), 'npm run build'],
  [testsPath, 'tsc -p .'],
  [workspace, 'git checkout test/integration/fixtures'],
]) {
  if (!fs.existsSync(file)) {
    console.error(`[integration] ${path.relative(REPO, file) || file} is missing: run \`${fix}\` first.`);
    process.exit(1);
  }
}

// Workbench chatter that is not the tests' output (the host is offline, so lookups fail).
const NOISE =
  /^(\[|Resolving connection|Resolved connection|Creating a socket|Updating additional|Started local|Extension host|Timed out waiting for authentication|getaddrinfo|Canceled|Failed to fetch|%c)/;
const extensionEnvironment = Object.fromEntries(Object.entries(process.env).filter(([key]) => key.startsWith('UDPW_TEST_')));

const runDir = newRunDir('integration');
const workbenchLog = fs.createWriteStream(path.join(runDir, 'workbench.log'));
const screenshot = path.join(runDir, 'final.png');
let exitCode;
let server;
const counts = { passing: 0, failing: 0, pending: 0 };
let browser;
try {
  /** @type {Record<string, unknown>} */
  const settings = opts.settings ? JSON.parse(fs.readFileSync(opts.settings, 'utf8')) : {};
  server = await startCodeServer({ runDir, smokeTestDriver: true, settings, workspaceTrust: opts['workspace-trust'] });
  /** @type {[string, string][]} */
  const payload = [
    ['extensionDevelopmentPath', server.remoteUri(extensionPath)],
    ['extensionTestsPath', server.remoteUri(testsPath)],
    ['extensionEnvironment', JSON.stringify(extensionEnvironment)],
    ['skipWelcome', 'true'],
  ];
  browser = await launchBrowser(runDir);
  const page = browser.pages()[0] ?? (await browser.newPage());
  page.on('console', (msg) => workbenchLog.write(`[browser/${msg.type()}] ${msg.text()}\n`));
  page.on('pageerror', (err) => workbenchLog.write(`[browser/pageerror] ${err.stack ?? err}\n`));
  /** @type {Promise<number>} */
  const finished = new Promise((resolve) => {
    page.exposeFunction('codeAutomationLog', (/** @type {string} */ type, /** @type {unknown} */ args) => {
      const text = format(...(Array.isArray(args) ? args : [args]));
      workbenchLog.write(`[${type}] ${text}\n`);
      if (showAll || !NOISE.test(text)) console.log(text);
      const summary = /^\s*(\d+) (passing|failing|pending)\b/.exec(text); // mocha's spec reporter
      if (summary) counts[/** @type {keyof typeof counts} */ (summary[2])] = Number(summary[1]);
    });
    page.exposeFunction('codeAutomationExit', (/** @type {unknown} */ code) => resolve(Number(code)));
  });
  /** @type {NodeJS.Timeout | undefined} */
  let timer;
  /** @type {Promise<'timeout'>} */
  const timedOut = new Promise((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  await page.goto(server.workbenchUrl(workspace, payload));
  log(`workbench opened on ${path.relative(REPO, workspace) || workspace}; the extension host runs ${path.relative(REPO, testsPath)}`);
  const result = await Promise.race([finished, timedOut]);
  clearTimeout(timer);
  if (result === 'timeout') {
    console.error(
      `[integration] TIMEOUT: the extension host did not finish the tests within ${timeoutMs / 1000}s ` +
        '(a test that never settles, or the host never loaded the extension: see the logs below). Raise UDPW_TEST_TIMEOUT_MS if the suite is just slow.',
    );
    exitCode = 124;
  } else {
    exitCode = result;
  }
  await page.screenshot({ path: screenshot }).catch(() => {});
} catch (err) {
  console.error(`[integration] the host failed: ${errorText(err)}`);
  exitCode = 1;
} finally {
  await browser?.close().catch(() => {});
  await server?.stop();
  workbenchLog.end();
}

console.log(`integration: ${counts.passing} passed, ${counts.failing} failed${counts.pending ? `, ${counts.pending} skipped` : ''}`);
if (exitCode === 0 && counts.passing === 0) {
  log('no integration test ran (is UDPW_TEST_GREP too narrow?)');
  exitCode = 1;
}
if (exitCode === 0) {
  log('integration tests passed');
} else {
  log(`integration tests FAILED (exit ${exitCode}). Logs in ${runDir}:`);
  for (const name of ['code-server.log', 'workbench.log', 'final.png', 'user-data/logs']) {
    if (fs.existsSync(path.join(runDir, name))) console.log(`  ${path.join(runDir, name)}`);
  }
}
process.exit(exitCode);
