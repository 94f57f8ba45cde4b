// @ts-check
// Starts the offline test host: an isolated code-server (VS Code's server with its real Node
// extension host) on 127.0.0.1, and Debian's Chromium, headless, as the workbench's window.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { setInterval } from 'node:timers';
import { setTimeout as sleep } from 'node:timers/promises';
import { chromium } from 'playwright-core';
import { PATHS, CHROMIUM, CACHE, PINS, readyStamp } from './config.mjs';

const t0 = Date.now();
/** @param {unknown[]} args */
export const log = (...args) => console.log(`[host ${((Date.now() - t0) / 1000).toFixed(1)}s]`, ...args);

/**
 * An error as a failure report shows it: its stack when it has one.
 * @param {unknown} err
 */
export const errorText = (err) => (err instanceof Error && err.stack) || String(err);

const KEEP_RUNS = 4;
const DEFAULT_SETTINGS = {
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  // The test folders live inside this repo: don't offer to open it, and keep the window uncluttered.
  'git.openRepositoryInParentFolders': 'never',
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'chat.disableAIFeatures': true,
};

/** Throws with the command that fixes it when setup.mjs has not completed for the pinned versions. */
export function assertHostInstalled() {
  /** @type {unknown} */
  let ready;
  try {
    ready = JSON.parse(fs.readFileSync(PATHS.ready, 'utf8'));
  } catch {
    // handled below
  }
  if (JSON.stringify(ready) !== JSON.stringify(readyStamp())) {
    throw new Error(`The test host (code-server ${PINS.codeServer}) is not installed in ${CACHE}. Run: node test/host/setup.mjs`);
  }
}

/** @returns {Promise<number>} */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = /** @type {net.AddressInfo} */ (server.address()); // a TCP listener's address is never a pipe's name
      server.close(() => resolve(port));
    });
  });
}

/** @param {number} pid */
const isAlive = (pid) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Keeps disk use bounded: deletes all but the newest runs, never one whose owner is still alive. */
function cleanOldRuns() {
  if (!fs.existsSync(PATHS.runs)) return;
  const runs = fs
    .readdirSync(PATHS.runs)
    .map((name) => path.join(PATHS.runs, name))
    .filter((dir) => fs.statSync(dir).isDirectory())
    .sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs);
  for (const dir of runs.slice(KEEP_RUNS)) {
    let owner = 0;
    try {
      owner = Number(fs.readFileSync(path.join(dir, 'owner.pid'), 'utf8').trim());
    } catch {
      // no owner recorded: stale
    }
    if (owner && owner !== process.pid && isAlive(owner)) continue;
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * A fresh run folder holding everything one code-server + browser session writes.
 * @param {string} label
 */
export function newRunDir(label) {
  fs.mkdirSync(PATHS.runs, { recursive: true });
  cleanOldRuns();
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const dir = fs.mkdtempSync(path.join(PATHS.runs, `${stamp}-${label}-`));
  fs.writeFileSync(path.join(dir, 'owner.pid'), `${process.pid}\n`);
  return dir;
}

/**
 * The environment code-server runs in: Node 24, XDG dirs of its own, nothing from an outer VS Code.
 * @param {string} runDir
 */
function hostEnv(runDir) {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(
      ([key]) => !key.startsWith('VSCODE_') && !['ELECTRON_RUN_AS_NODE', 'NODE_OPTIONS', 'PORT'].includes(key),
    ),
  );
  return {
    ...env,
    PATH: `${PATHS.node24Bin}${path.delimiter}${process.env.PATH}`,
    XDG_CONFIG_HOME: path.join(runDir, 'xdg-config'),
    XDG_DATA_HOME: path.join(runDir, 'xdg-data'),
    XDG_CACHE_HOME: path.join(runDir, 'xdg-cache'),
  };
}

/** @param {string} runDir */
function dirArgs(runDir) {
  return ['--user-data-dir', path.join(runDir, 'user-data'), '--extensions-dir', path.join(runDir, 'extensions')];
}

/**
 * Installs a .vsix into the run's throw-away extensions folder (before the server starts).
 * @param {string} runDir
 * @param {string} vsix
 */
export function installVsix(runDir, vsix) {
  const started = Date.now();
  const r = spawnSync(PATHS.node, [PATHS.codeServerEntry, ...dirArgs(runDir), '--install-extension', path.resolve(vsix), '--force'], {
    env: hostEnv(runDir),
    encoding: 'utf8',
  });
  fs.writeFileSync(path.join(runDir, 'install-extension.log'), `${r.stdout}${r.stderr}`);
  if (r.status !== 0 || !/successfully installed/i.test(r.stdout + r.stderr)) {
    throw new Error(`code-server --install-extension ${vsix} failed (exit ${r.status}):\n${r.stdout}${r.stderr}`);
  }
  log(`installed ${path.basename(vsix)} in ${Date.now() - started}ms`);
}

/**
 * Starts code-server on 127.0.0.1 in its own process group, with throw-away state in runDir.
 * @param {object} options
 * @param {string} options.runDir          from newRunDir()
 * @param {Record<string, unknown>} [options.settings]  user settings, merged over quiet defaults
 * @param {boolean} [options.workspaceTrust=false]  true keeps Workspace Trust on (folders start untrusted)
 * @param {boolean} [options.smokeTestDriver=false] lets the workbench honour the `payload` URL parameter
 * @param {number} [options.port]          default: a free one
 * @param {string[]} [options.extraArgs]
 */
export async function startCodeServer({ runDir, settings = {}, workspaceTrust = false, smokeTestDriver = false, port, extraArgs = [] }) {
  assertHostInstalled();
  const userDir = path.join(runDir, 'user-data', 'User');
  fs.mkdirSync(userDir, { recursive: true });
  fs.writeFileSync(path.join(userDir, 'settings.json'), JSON.stringify({ ...DEFAULT_SETTINGS, ...settings }, null, 2) + '\n');

  port ??= await freePort();
  const args = [
    PATHS.codeServerEntry,
    '--bind-addr',
    `127.0.0.1:${port}`,
    '--auth',
    'none',
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-getting-started-override',
    ...(workspaceTrust ? [] : ['--disable-workspace-trust']),
    ...(smokeTestDriver ? ['--vscode-option', 'enable-smoke-test-driver'] : []),
    ...dirArgs(runDir),
    ...extraArgs,
  ];
  const logFile = path.join(runDir, 'code-server.log');
  const logStream = fs.createWriteStream(logFile);
  const child = spawn(PATHS.node, args, { env: hostEnv(runDir), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let output = '';
  /** @type {number | NodeJS.Signals | null} */
  let exited = null;
  /** @type {Promise<number | NodeJS.Signals | null>} */
  const closed = new Promise((resolve) => child.on('exit', (code, signal) => resolve(signal ?? code)));
  /** @param {Buffer} data */
  const onData = (data) => {
    logStream.write(data);
    if (output.length < 100_000) output += data;
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  child.on('exit', (code, signal) => {
    exited = signal ?? code;
  });

  // The server, its extension hosts and helpers share one process group: kill it whole, also on our way out.
  /** @param {NodeJS.Signals} signal */
  const killGroup = (signal) => {
    if (child.pid === undefined) return; // it never started
    try {
      process.kill(-child.pid, signal);
    } catch {
      // already gone
    }
  };
  const killOnExit = () => killGroup('SIGKILL');
  process.on('exit', killOnExit);
  exitOnSignals();

  const deadline = Date.now() + 30_000;
  while (!/HTTP server listening/.test(output)) {
    if (exited !== null || Date.now() > deadline) {
      killGroup('SIGKILL');
      throw new Error(
        `code-server did not start (${exited !== null ? `exited: ${exited}` : 'timeout'}). Log ${logFile}:\n${output.slice(-4000)}`,
      );
    }
    await sleep(100);
  }
  const authority = `127.0.0.1:${port}`;
  log(`code-server pid ${child.pid} on http://${authority} (run folder ${runDir})`);
  return {
    port,
    authority,
    baseUrl: `http://${authority}`,
    runDir,
    logFile,
    /** Settles with the exit code or signal when the server process ends. */
    closed,
    /** Lines the server has written so far. */
    output: () => output,
    /** A path on this machine as the workbench addresses it. */
    remoteUri: (/** @type {string} */ p) => `vscode-remote://${authority}${path.resolve(p)}`,
    /**
     * The workbench URL for a folder, with an optional payload (needs smokeTestDriver).
     * @param {string} folder
     * @param {[string, string][]} [payload]  name and value pairs
     */
    workbenchUrl(folder, payload) {
      const query = [`folder=${encodeURIComponent(path.resolve(folder))}`];
      if (payload) query.push(`payload=${encodeURIComponent(JSON.stringify(payload))}`);
      return `http://${authority}/?${query.join('&')}`;
    },
    async stop() {
      killGroup('SIGTERM');
      for (let i = 0; i < 20 && exited === null; i++) await sleep(100);
      killGroup('SIGKILL');
      process.off('exit', killOnExit);
      logStream.end();
    },
  };
}

let signalsHandled = false;
/** Ctrl-C or a kill would end Node without its 'exit' handlers; turn them into an exit that runs them. */
export function exitOnSignals() {
  if (signalsHandled) return;
  signalsHandled = true;
  process.once('SIGINT', () => process.exit(130));
  process.once('SIGTERM', () => process.exit(143));
  process.once('SIGHUP', () => process.exit(129));
}

/**
 * Exits (running the 'exit' handlers that stop what this process started) as soon as the process that
 * launched it is gone, and on SIGINT, SIGTERM and SIGHUP. A task runner or a script stops `npm start` by
 * signalling npm alone: npm passes SIGTERM on to the shell it runs the script in, which dies of it without
 * passing it on, and npm dies of SIGHUP without passing anything on; either way no signal reaches us.
 * @param {{ intervalMs?: number }} [options]
 */
export function exitWithLauncher({ intervalMs = 500 } = {}) {
  exitOnSignals();
  const parent = process.ppid;
  // Under npm, the parent is the shell running the script, and npm is the shell's parent.
  const grandparent = process.env.npm_lifecycle_event ? parentOf(parent) : undefined;
  const timer = setInterval(() => {
    if (process.ppid === parent && (grandparent === undefined || parentOf(parent) === grandparent)) return;
    log('the process that started this one is gone: stopping everything this one started');
    process.exit(129);
  }, intervalMs);
  timer.unref();
}

/**
 * The parent process id of `pid`, or undefined when it is gone (or this system cannot tell).
 * @param {number} pid
 * @returns {number | undefined}
 */
function parentOf(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name, in parentheses, may hold spaces: the fields after it are state, then ppid.
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    if (fs.existsSync('/proc/self/stat')) return undefined;
    const ps = spawnSync('ps', ['-o', 'ppid=', '-p', String(pid)], { encoding: 'utf8' });
    return Number(ps.stdout?.trim()) || undefined;
  }
}

/**
 * Debian's Chromium, headless, with its background networking off (this machine has no network).
 * @param {string} runDir
 * @param {{ viewport?: { width: number, height: number } }} [options]
 */
export async function launchBrowser(runDir, { viewport = { width: 1400, height: 900 } } = {}) {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`No Chromium at ${CHROMIUM}: run node test/host/setup.mjs (or set UDPW_CHROMIUM)`);
  return chromium.launchPersistentContext(path.join(runDir, 'chromium'), {
    executablePath: CHROMIUM,
    headless: true,
    viewport,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
