// The entry point of the suite that runs in a folder VS Code does not trust (Restricted Mode):
//   node test/host/runIntegration.mjs --workspace-trust \
//     --workspace test/integration/fixtures/untrusted-workspace --tests out/test/integration/untrusted/index.js
import { runTestsIn } from '../index';

export function run(): Promise<void> {
  return runTestsIn(__dirname);
}
