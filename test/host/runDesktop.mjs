#!/usr/bin/env node
// @ts-check
// The integration suite in desktop VS Code, for a machine with internet: @vscode/test-electron
// downloads VS Code into .vscode-test/ and runs the same out/test/integration/index.js there.
// (This machine has no such download; there, test/host/runIntegration.mjs is the route.)
//
//   npm run build && tsc -p . && node test/host/runDesktop.mjs
//   env: UDPW_TEST_*  passed on into the extension host (UDPW_TEST_GREP filters tests)
import path from 'node:path';
import { runTests } from '@vscode/test-electron';
import { REPO } from './config.mjs';

try {
  const exitCode = await runTests({
    extensionDevelopmentPath: REPO,
    extensionTestsPath: path.join(REPO, 'out', 'test', 'integration', 'index.js'),
    extensionTestsEnv: Object.fromEntries(Object.entries(process.env).filter(([key]) => key.startsWith('UDPW_TEST_'))),
    launchArgs: [path.join(REPO, 'test', 'integration', 'fixtures', 'workspace'), '--disable-extensions', '--disable-workspace-trust'],
  });
  process.exit(exitCode);
} catch (err) {
  console.error(`[desktop] the tests did not run: ${err instanceof Error ? err.message : err}`);
  process.exit(1);
}
