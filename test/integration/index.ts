// The mocha entry point VS Code's extension host loads (extensionTestsPath): runs every
// *.test.js compiled beside this file, inside the host, and settles with the result.
// Suites that need another window (untrusted/: a folder in Restricted Mode) have their own entry point.
import * as fs from 'node:fs';
import * as path from 'node:path';
import Mocha from 'mocha';
import { leakHooks } from '../unit/leaks';

const LAST = 'deactivate.test.js';

export function run(): Promise<void> {
  return runTestsIn(__dirname);
}

/** Runs the *.test.js files of `dir` (not of its subfolders). */
export function runTestsIn(dir: string): Promise<void> {
  const mocha = new Mocha({ ui: 'bdd', reporter: 'spec', color: false, timeout: 20_000 });
  // UDPW_TEST_GREP reaches the extension host through the runner's extensionEnvironment.
  const grep = process.env.UDPW_TEST_GREP;
  if (grep) mocha.grep(grep);
  mocha.rootHooks(leakHooks('extension-host'));
  // deactivate.test.js shuts the extension down, so it runs after every other file.
  const files = fs.readdirSync(dir).filter((file) => file.endsWith('.test.js'));
  for (const file of files.sort((a, b) => Number(a === LAST) - Number(b === LAST) || a.localeCompare(b))) {
    mocha.addFile(path.join(dir, file));
  }
  return new Promise((resolve, reject) => {
    try {
      mocha.run((failures) => (failures > 0 ? reject(new Error(`${failures} integration test(s) failed`)) : resolve()));
    } catch (err) {
      reject(err);
    }
  });
}
