#!/usr/bin/env node
// @ts-check
// `npm start`: try the extension by hand.
//   With a desktop VS Code (`code` on PATH): build, then open it with the extension under development.
//   Without one: build, then serve VS Code (code-server) on 127.0.0.1 with the extension loaded as a
//   development extension, keep esbuild watching, and print the URL. After an edit, run
//   "Developer: Reload Window" in the browser. Ctrl-C stops everything, and so do SIGTERM and SIGHUP, sent
//   to this script or to the npm that runs it (a task runner stopping `npm start`).
//
//   node test/host/start.mjs [--web] [--no-watch] [--extension DIR] [--folder DIR]
//     --web        use code-server even when `code` exists
//   env: PORT      port to serve on (default: a free one)
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { CACHE, REPO } from './config.mjs';
import { exitWithLauncher, log, newRunDir, startCodeServer } from './lib.mjs';

const { values: opts } = parseArgs({
  options: {
    web: { type: 'boolean', default: false },
    watch: { type: 'boolean', default: true },
    'no-watch': { type: 'boolean', default: false },
    extension: { type: 'string', default: REPO },
    folder: { type: 'string', default: path.join(CACHE, 'playground') },
  },
});
exitWithLauncher();
const extensionPath = path.resolve(opts.extension);
const folder = path.resolve(opts.folder);
const watch = opts.watch && !opts['no-watch'];
const isOwnRepo = extensionPath === REPO;

function build() {
  if (!isOwnRepo) return;
  const r = spawnSync(process.execPath, ['esbuild.mjs'], { cwd: REPO, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

const hasDesktopCode = spawnSync('code', ['--version'], { stdio: 'ignore' }).status === 0;
if (hasDesktopCode && !opts.web) {
  build();
  log('opening desktop VS Code with the extension under development');
  const r = spawnSync('code', [`--extensionDevelopmentPath=${extensionPath}`, folder], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}

const setup = spawnSync(process.execPath, [path.join(REPO, 'test', 'host', 'setup.mjs')], { stdio: 'inherit' });
if (setup.status !== 0) process.exit(setup.status ?? 1);
build();
fs.mkdirSync(folder, { recursive: true });

const watcher =
  watch && isOwnRepo
    ? spawn(process.execPath, ['esbuild.mjs', '--watch'], { cwd: REPO, stdio: ['ignore', 'inherit', 'inherit'] })
    : undefined;
process.on('exit', () => watcher?.kill());

const runDir = newRunDir('start');
const port = process.env.PORT ? Number(process.env.PORT) : undefined;
// The workbench loads a development extension from the `payload` URL parameter only with
// VS Code's smoke-test driver switched on; the server still listens on 127.0.0.1 alone.
const server = await startCodeServer({ runDir, port, smokeTestDriver: true });
const url = server.workbenchUrl(folder, [
  ['extensionDevelopmentPath', server.remoteUri(extensionPath)],
  ['skipWelcome', 'true'],
]);
console.log(`
  UDP Workbench in VS Code ${watch ? '(esbuild is watching: after an edit, run "Developer: Reload Window")' : ''}
  Open: ${url}

  Folder: ${folder}
  Logs:   ${runDir}
  Ctrl-C to stop.
`);
const code = await server.closed;
log(`code-server exited (${code}); see ${server.logFile}`);
process.exit(1);
