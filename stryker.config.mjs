// @ts-check
// Mutation testing (StrykerJS): changes the code of the pure core modules one small edit at a time and checks
// that a unit test fails on each. `npm run test:mutation` runs it; see "Mutation testing" in CONTRIBUTING.md.
// One module at a time: npm run test:mutation -- --mutate src/core/net/rateLimit.ts

/** The pure core modules, by name in whichever wing of src/core they live: no socket, no timer, no file. */
const PURE_MODULES = [
  'simulationSpec',
  'impairment',
  'payload',
  'payloadDecoding',
  'endpoint',
  'requestFile',
  'requestHeaders',
  'requestVariables',
  'expectation',
  'trafficFilter',
  'trafficRates',
  'pcapng',
  'rateLimit',
];

/**
 * The unit tests that exercise them; none of these needs a network namespace or a test host. parserFuzz is left out:
 * it bounds each parse's time, which instrumented code exceeds.
 */
export const TESTS = [
  'simulationSpec',
  'linkImpairment',
  'impairment',
  'payload',
  'endpoint',
  'escapeText',
  'requestFile',
  'burstHeaders',
  'requestVariables',
  'expectation',
  'trafficView',
  'pcapng',
  'rateLimit',
  'random',
];

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  mutate: PURE_MODULES.map((name) => `src/core/**/${name}.ts`),
  testRunner: 'mocha',
  // The tests run compiled, as `npm run test:unit` runs them: the sandbox compiles the mutated sources once.
  buildCommand: 'tsc -p tsconfig.mutation.json',
  mochaOptions: {
    spec: TESTS.map((name) => `out/test/unit/${name}.test.js`),
    // Tests that bound a parse's time: instrumented code is slower, and speed is the benchmark's business anyway.
    grep: '^(?!.*(quickly|linear)).*$',
    // Without .mocharc.json: its root hooks watch for leaked handles, and Stryker's own workers hold some.
    'no-config': true,
  },
  coverageAnalysis: 'perTest',
  // A mutant in a module-level constant runs every test again (tens of seconds each): left out of the score.
  ignoreStatic: true,
  // Two cores, shared: one mutant at a time by default (`--concurrency 2` on a quiet machine).
  concurrency: 1,
  incremental: true,
  incrementalFile: 'reports/stryker-incremental.json',
  reporters: ['clear-text', 'progress-append-only', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/mutation.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  clearTextReporter: { allowColor: false, logTests: false, reportMutants: false, reportScoreTable: true },
  ignorePatterns: ['out', 'dist', 'dist-vsix', '.vscode-test', 'bench-results', 'test-results', 'reports', 'media'],
  thresholds: { high: 90, low: 80, break: null },
  timeoutMS: 10000,
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
};
