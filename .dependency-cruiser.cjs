// The architecture's import rules (CONTRIBUTING.md, "Layout"), checked by `npm run lint`: one named rule each.
// src/core is a handful of base modules at its root and one folder ("wing") per capability beneath them.
const CORE_BASE = '^src/core/[^/]+\\.ts$';
const CORE_WING = '^src/core/[^/]+/';
// `import 'vscode'` resolves to its type declarations: the editor's API.
const VSCODE_API = '^node_modules/@types/vscode/';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'No module reaches itself again through its imports: src, bench and the tests alike.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'wings-one-way',
      severity: 'error',
      comment: 'No two folders import each other, directly or round a loop: every wing depends only downward.',
      scope: 'folder',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'base-imports-no-wing',
      severity: 'error',
      comment: "The core's base modules (events, errors, limits, …) sit beneath every wing and import none.",
      from: { path: CORE_BASE },
      to: { path: CORE_WING },
    },
    {
      name: 'core-is-plain-node',
      severity: 'error',
      comment: 'src/core never reaches the editor, the webview or the command line: they are faces over it.',
      from: { path: '^src/core/' },
      to: { path: [VSCODE_API, '^src/(vscode|webview|cli)/', '^src/extension\\.ts$'] },
    },
    {
      name: 'cli-runs-without-vscode',
      severity: 'error',
      comment: 'The command line is a second face over the core: what it needs is decided in src/core, never in the editor.',
      from: { path: '^src/cli/' },
      to: { path: [VSCODE_API, '^src/(vscode|webview)/', '^src/extension\\.ts$'] },
    },
    {
      name: 'webview-shares-only-messages',
      severity: 'error',
      comment: 'The webview runs in a browser frame: it takes only the message types from the core.',
      from: { path: '^src/webview/' },
      to: { path: [VSCODE_API, '^src/(vscode|cli)/', '^src/core/'], pathNot: '^src/core/traffic/messages\\.ts$' },
    },
    {
      name: 'webview-has-no-node',
      severity: 'error',
      comment: 'The webview runs in a browser frame: Node modules are not there.',
      from: { path: '^src/webview/' },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'no-orphans',
      severity: 'error',
      comment: 'A module nothing imports is dead code (entry points and declaration files aside).',
      from: {
        orphan: true,
        pathNot: ['\\.d\\.ts$', '^src/extension\\.ts$', '^src/webview/main\\.ts$', '^src/cli/main\\.ts$', '^(test|bench|scripts)/'],
      },
      to: {},
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'Every import resolves.',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(out|dist|\\.vscode-test)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
