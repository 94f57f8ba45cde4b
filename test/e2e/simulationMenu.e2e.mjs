// @ts-check
// The simulation as a person sets it: the status bar item's menu, a preset, then a custom line that
// is checked as it is typed; the log says what each server now simulates.
import assert from 'node:assert/strict';
import {
  answerInput,
  answerReplyMode,
  inputMessage,
  quickPickItems,
  readOutputPanel,
  readStatusBar,
  runCommand,
  waitFor,
} from './workbench.mjs';
import { freeUdpPort } from './udp.mjs';
/** @import { ScenarioContext } from './workbench.mjs' */

/** @param {ScenarioContext} context */
export async function run({ page, log }) {
  const server = `127.0.0.1:${await freeUdpPort()}`;
  await runCommand(page, 'UDP: Start Echo Server');
  await answerInput(page, server, { title: 'Start Echo Server' });
  await answerReplyMode(page);
  await readStatusBar(page, server);

  // A click on the status bar item opens the menu, which offers the simulation while a server runs.
  await page.locator('.part.statusbar .statusbar-item', { hasText: server }).first().click();
  const menu = await waitFor('the UDP menu', async () => {
    const items = await quickPickItems(page);
    return items.some((item) => item.includes('Configure Simulation')) && items;
  });
  log('menu:', menu.join(' | '));
  await answerInput(page, 'Configure Simulation', { pick: 'Configure Simulation' });
  await waitFor('the simulation presets', async () => (await quickPickItems(page)).includes('Busy Wi-Fi'));
  await answerInput(page, 'Busy Wi-Fi', { pick: 'Busy Wi-Fi' });
  await readOutputPanel(page, 'UDP Workbench', {
    waitForText: 'simulation: 5% lost in, 40 ms + up to 30 ms jitter, 1% reordered (seed 1)',
  });

  // Custom…: a mistake is pointed out in the input box before anything changes.
  await runCommand(page, 'UDP: Configure Simulation');
  await waitFor('the simulation presets', async () => (await quickPickItems(page)).includes('Custom…'));
  await answerInput(page, 'Custom…', { pick: 'Custom…' });
  await waitFor(
    'the custom simulation input',
    async () => (await page.locator('.quick-input-widget .quick-input-title', { hasText: 'Configure Simulation' }).count()) > 0,
  );
  await page.locator('.quick-input-widget .quick-input-box input').fill('loss=10% lag=5ms');
  const complaint = await waitFor('the validation message', async () => {
    const message = await inputMessage(page);
    return message.includes('"lag=5ms" is not a simulation setting') && message;
  });
  log('validation:', complaint);
  await answerInput(page, 'loss=20% seed=7', { title: 'Configure Simulation' });
  const text = await readOutputPanel(page, 'UDP Workbench', {
    waitForText: /simulation: 20% lost in, 40 ms \+ up to 30 ms\s+jitter, 1% reordered \(seed 7\)/,
  });
  assert.doesNotMatch(text, /simulation: 10% lost in/, 'the rejected line was applied');
}
