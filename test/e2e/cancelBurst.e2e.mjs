// @ts-check
// A long burst from a .udp file in the real workbench: its progress notification appears with a Cancel button;
// clicking it stops the burst, and the result beside the Send link says how many went out.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { answerInput, answerReplyMode, clickNotificationButton, openFile, readStatusBar, runCommand, waitFor } from './workbench.mjs';
import { freeUdpPort } from './udp.mjs';
/** @import { Page } from 'playwright-core' */
/** @import { ScenarioContext } from './workbench.mjs' */

const LENS = '.part.editor .monaco-editor .codelens-decoration a';

/** @param {number} port */
const requestFile = (port) => `### long burst
@target 127.0.0.1:${port}
@repeat 100000
@rate 500/s
ping
`;

/** @param {Page} page */
async function lensTexts(page) {
  return (await page.locator(LENS).allInnerTexts()).map((text) => text.replace(/\u00a0/g, ' ').trim());
}

/** @param {ScenarioContext} context */
export async function run({ page, workspace, log }) {
  const port = await freeUdpPort();
  fs.writeFileSync(path.join(workspace, 'long.udp'), requestFile(port));
  await runCommand(page, 'UDP: Start Echo Server');
  await answerInput(page, `127.0.0.1:${port}`, { title: 'Start Echo Server' });
  await answerReplyMode(page);
  await readStatusBar(page, `127.0.0.1:${port}`);
  await openFile(page, 'long.udp');
  await page
    .locator('.part.editor .monaco-editor .view-lines')
    .first()
    .click({ position: { x: 100, y: 5 } });

  const send = page.locator(LENS, { hasText: 'Send' });
  await waitFor('the Send link', async () => (await send.count()) === 1);
  await send.first().click();
  // 100,000 at 500/s would take over three minutes: the notification comes after half a second, with its progress.
  await waitFor('some progress in the notification', async () => {
    const text = await page
      .locator('.notifications-toasts .notification-list-item', { hasText: 'long burst' })
      .first()
      .innerText()
      .catch(() => '');
    return /[\d,]+ of 100,000 sent/.test(text) && text;
  });
  const message = await clickNotificationButton(page, 'long burst', 'Cancel');
  log(`cancelled from the notification "${message}"`);
  const result = await waitFor('the result beside the Send link', async () => (await lensTexts(page)).find((text) => text.startsWith('⊘')));
  log(`result: ${result}`);
  const sent = Number(/^⊘ cancelled after ([\d,]+) of 100,000 sent · /.exec(result)?.[1].replace(/,/g, ''));
  assert.ok(sent > 0 && sent < 100_000, `the result reads "${result}"`);
  await waitFor(
    'the notification to close',
    async () => (await page.locator('.notifications-toasts .notification-list-item', { hasText: 'long burst' }).count()) === 0,
  );
}
