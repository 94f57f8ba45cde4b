// @ts-check
// The first five minutes from the palette alone: Start Echo Server asks how to reply and remembers it; a send
// that gives up says so in a notification with Retry and Start Echo Server There, and clears the last success;
// Ctrl+Alt+U goes to the last target; an empty line offers no encoding change; a datagram too large for UDP
// offers to go as several.
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import fs from 'node:fs';
import path from 'node:path';
import {
  answerInput,
  answerReplyMode,
  clickNotificationButton,
  notificationButtons,
  openFile,
  quickPickItems,
  readStatusBar,
  runCommand,
  waitFor,
} from './workbench.mjs';
import { freeUdpPort } from './udp.mjs';
/** @import { Page } from 'playwright-core' */
/** @import { ScenarioContext, ScenarioOptions } from './workbench.mjs' */

/** @type {ScenarioOptions} */
export const options = { settings: { 'udpWorkbench.send.timeoutMs': 300, 'udpWorkbench.send.retries': 1 } };

const REPLY_MODES = ['Mirror', 'Template', 'Listen only'];
/** @param {Page} page */
const replyModesOffered = async (page) => (await quickPickItems(page)).filter((item) => REPLY_MODES.includes(item));

/**
 * @param {Page} page
 * @param {string} text
 */
const statusItems = (page, text) => page.locator('.part.statusbar .statusbar-item', { hasText: text });

/**
 * @param {Page} page
 * @param {number} line
 */
async function cursorOnLine(page, line) {
  await page.locator('.part.editor .monaco-editor .view-lines').first().click();
  await page.keyboard.press('Control+Home');
  for (let i = 1; i < line; i++) await page.keyboard.press('ArrowDown');
}

/** @param {ScenarioContext} context */
export async function run({ page, log, workspace }) {
  const echoPort = await freeUdpPort();
  await runCommand(page, 'UDP: Start Echo Server');
  await answerInput(page, `127.0.0.1:${echoPort}`, { title: 'Start Echo Server' });
  const modes = await replyModesOffered(page);
  log('reply modes:', modes.join(' | '));
  assert.deepEqual(modes, REPLY_MODES);
  await answerReplyMode(page, 'Template');
  await readStatusBar(page, `127.0.0.1:${echoPort}`);

  fs.writeFileSync(path.join(workspace, 'first.txt'), `anyone there?\n\n${'x'.repeat(70_000)}\n`);
  await openFile(page, 'first.txt');
  await cursorOnLine(page, 1);
  await runCommand(page, 'UDP: Send Selection To…');
  await answerInput(page, `127.0.0.1:${echoPort}`, { title: 'Send Selection To…' });
  const success = await readStatusBar(page, `127.0.0.1:${echoPort}: 28 bytes back`);
  log('after a reply:', success);

  // A send nobody answers: the earlier success goes away, a notification says what happened and offers what to do.
  const silent = dgram.createSocket('udp4');
  await /** @type {Promise<void>} */ (new Promise((resolve) => silent.bind(0, '127.0.0.1', resolve)));
  const silentPort = silent.address().port;
  await cursorOnLine(page, 1);
  await runCommand(page, 'UDP: Send Selection To…');
  await answerInput(page, 'Another target', { pick: 'Another target…' });
  await answerInput(page, `127.0.0.1:${silentPort}`, { title: 'Send Selection To…' });
  const gaveUp = await notificationButtons(page, `No reply from 127.0.0.1:${silentPort}`);
  log('give-up:', gaveUp.message, '|', gaveUp.buttons.join(' | '));
  assert.match(gaveUp.message, /to "anyone there\?" after 2 tries/);
  assert.deepEqual(gaveUp.buttons, ['Retry', 'Start Echo Server There']);
  assert.equal(await statusItems(page, 'bytes back').count(), 0, 'the success message stays beside the failure');

  // The silent program quits; the echo server starts on its port and the datagram goes again.
  silent.close();
  await clickNotificationButton(page, `No reply from 127.0.0.1:${silentPort}`, 'Start Echo Server There');
  await readStatusBar(page, '2 servers');
  await readStatusBar(page, `127.0.0.1:${silentPort}: 13 bytes back`);
  await waitFor('the success message to time out', async () => (await statusItems(page, 'bytes back').count()) === 0);

  // Ctrl+Alt+U sends to the last target, not to the setting's 127.0.0.1:12345.
  await cursorOnLine(page, 1);
  await page.keyboard.press('Control+Alt+U');
  await readStatusBar(page, `127.0.0.1:${silentPort}: 13 bytes back`);

  // An empty line: nothing to send, and no encoding would change that.
  await cursorOnLine(page, 2);
  await page.keyboard.press('Control+Alt+U');
  const empty = await notificationButtons(page, 'Line 2 is empty');
  log('empty line:', empty.message, '|', empty.buttons.join(' | '));
  assert.deepEqual(empty.buttons, []);

  // 70,000 bytes: more than UDP carries; offered as two datagrams, not as a trip to Settings.
  await cursorOnLine(page, 3);
  await page.keyboard.press('Control+Alt+U');
  const large = await notificationButtons(page, 'The datagram is 70,000 bytes');
  log('too large:', large.message, '|', large.buttons.join(' | '));
  assert.deepEqual(large.buttons, ['Send as 2 Datagrams']);
  await clickNotificationButton(page, 'The datagram is 70,000 bytes', 'Send as 2 Datagrams');
  await readStatusBar(page, `127.0.0.1:${silentPort}: 4,493 bytes back`);

  // The reply mode chosen last is offered first next time.
  await runCommand(page, 'UDP: Start Echo Server');
  await answerInput(page, '127.0.0.1:0', { title: 'Start Echo Server' });
  const again = await waitFor('the reply modes', async () => {
    const items = await replyModesOffered(page);
    return items.length === 3 && items;
  });
  assert.equal(again[0], 'Template');
  await page.keyboard.press('Escape');
}
