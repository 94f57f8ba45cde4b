// @ts-check
// Binding to 0.0.0.0 from the palette: a modal asks first (Cancel binds nothing), the answer is
// remembered, and while the server runs the status bar warns and the log says it is reachable from
// other machines. Nothing is sent anywhere.
import assert from 'node:assert/strict';
import { answerInput, answerReplyMode, readOutputPanel, readStatusBar, readStatusBarTooltip, runCommand, waitFor } from './workbench.mjs';
/** @import { Page } from 'playwright-core' */
/** @import { ScenarioContext } from './workbench.mjs' */

const DIALOG = '.monaco-dialog-box';
const EXPOSED_ITEM = /0\.0\.0\.0:\d+\s+↓\d+ ↑\d+ ✗\d+/;

/**
 * @param {Page} page
 * @param {string} server
 */
async function startFromPalette(page, server) {
  await runCommand(page, 'UDP: Start Echo Server');
  await answerInput(page, server, { title: 'Start Echo Server' });
  await answerReplyMode(page);
}

/** @param {Page} page */
async function readDialog(page) {
  const dialog = page.locator(DIALOG);
  await waitFor('the confirmation dialog', () => dialog.isVisible());
  /** @param {string} selector */
  const text = async (selector) => (await dialog.locator(selector).innerText()).replace(/\u00a0/g, ' ').trim();
  return {
    message: await text('.dialog-message-text'),
    detail: await text('.dialog-message-detail'),
    buttons: (await dialog.locator('.dialog-buttons .monaco-button').allInnerTexts()).map((b) => b.trim()),
    click: (/** @type {string} */ label) => dialog.locator('.dialog-buttons .monaco-button', { hasText: label }).click(),
  };
}

/**
 * The UDP status bar item: its text, whether it shows the warning icon, and whether it has the warning background.
 * @param {Page} page
 */
async function udpStatusItem(page) {
  const item = page.locator('.part.statusbar .statusbar-item', { hasText: /↓\d+ ↑\d+ ✗\d+/ }).first();
  return {
    text: (await item.innerText()).replace(/\u00a0/g, ' ').trim(),
    warningIcon: (await item.locator('.codicon-warning').count()) > 0,
    warningBackground: await item.evaluate((el) => el.classList.contains('warning-kind')),
  };
}

/** @param {ScenarioContext} context */
export async function run({ page, log, screenshot }) {
  // Cancel: nothing is bound, the status bar stays calm.
  await startFromPalette(page, '0.0.0.0:0');
  const asked = await readDialog(page);
  log(`dialog: "${asked.message}" / "${asked.detail}" / [${asked.buttons.join(', ')}]`);
  assert.equal(asked.message, 'Bind the echo server to 0.0.0.0?');
  assert.equal(
    asked.detail,
    'Other machines that can reach this one will be able to send to it, and it will answer them. 127.0.0.1 keeps it on this machine.',
  );
  assert.deepEqual([...asked.buttons].sort(), ['Bind to 0.0.0.0', 'Cancel']); // the order depends on the platform
  await screenshot('exposed-bind-confirmation');
  await asked.click('Cancel');
  await waitFor('the dialog to close', async () => !(await page.locator(DIALOG).isVisible()));
  const calm = await udpStatusItem(page);
  assert.match(calm.text, /^UDP\s+↓0 ↑0 ✗0$/, `after Cancel the status bar reads "${calm.text}"`);
  assert.equal(calm.warningIcon || calm.warningBackground, false);

  // Asked again after a Cancel; Bind starts the server, exposed.
  await startFromPalette(page, '0.0.0.0:0');
  const again = await readDialog(page);
  assert.equal(again.message, 'Bind the echo server to 0.0.0.0?');
  await again.click('Bind to 0.0.0.0');
  const shown = await readStatusBar(page, EXPOSED_ITEM);
  const exposed = await udpStatusItem(page);
  log(`status bar: "${shown}", warning icon ${exposed.warningIcon}, warning background ${exposed.warningBackground}`);
  assert.equal(exposed.warningIcon, true, 'no $(warning) icon in the status bar');
  assert.equal(exposed.warningBackground, true, 'the status bar item has no warning background');
  const tooltip = await readStatusBarTooltip(page, '0.0.0.0:');
  assert.match(tooltip.replace(/\s+/g, ' '), /reachable from other machines/);
  const output = await readOutputPanel(page, 'UDP Workbench', { waitForText: 'reachable from other machines' });
  assert.match(output.replace(/\s+/g, ' '), /echo server listening on 0\.0\.0\.0:\d+ — reachable from other machines/);
  await screenshot('exposed-bind-status');

  await runCommand(page, 'UDP: Stop Echo Server');
  await waitFor('the status bar without the exposed server', async () => /^UDP\s+↓/.test((await udpStatusItem(page)).text));
  const stopped = await udpStatusItem(page);
  assert.equal(stopped.warningIcon || stopped.warningBackground, false, 'the warning outlived the server');

  // Remembered: the second bind to 0.0.0.0 does not ask again, and still warns.
  await startFromPalette(page, '0.0.0.0:0');
  await readStatusBar(page, EXPOSED_ITEM);
  assert.equal(await page.locator(DIALOG).isVisible(), false, 'asked again for an address already confirmed');
  assert.equal((await udpStatusItem(page)).warningIcon, true);
  await runCommand(page, 'UDP: Stop Echo Server');
  await waitFor('the status bar without the exposed server', async () => /^UDP\s+↓/.test((await udpStatusItem(page)).text));
}
