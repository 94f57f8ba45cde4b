// @ts-check
// "UDP: Show Log" from the Command Palette brings up the extension's log in the Output panel.
import assert from 'node:assert/strict';
import { activeOutputChannel, readOutputPanel, runCommand, waitFor } from './workbench.mjs';
/** @import { ScenarioContext } from './workbench.mjs' */

/** @param {ScenarioContext} context */
export async function run({ page, log, screenshot }) {
  await runCommand(page, 'UDP: Show Log');
  const shown = await waitFor('the Output panel to show a channel', () => activeOutputChannel(page));
  assert.equal(shown, 'UDP Workbench', 'UDP: Show Log opened another channel');
  const text = await readOutputPanel(page, 'UDP Workbench');
  log(`the log shows ${text.split('\n').filter(Boolean).length} line(s)`);
  await screenshot('show-log');
}
