// The UDP view in the activity bar, used with the mouse only: its welcome, Start Echo Server from the Servers
// title bar, the server listed with its counts, a click on a target that sends the current line there, and the
// inline Stop. Its screenshot is the README's picture of the view.
// @ts-check
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { answerInput, answerReplyMode, openFile, openUdpView, readStatusBar, runCommand, udpPane, waitFor } from './workbench.mjs';
import { echo, freeUdpPort } from './udp.mjs';
/** @import { Locator } from 'playwright-core' */
/** @import { ScenarioContext, ScenarioOptions } from './workbench.mjs' */

/** @type {ScenarioOptions} */
export const options = { settings: {} };

/**
 * Clicks a title bar action of a view (shown while the pointer is over its header).
 * @param {Locator} pane
 * @param {string} label
 */
async function clickTitleAction(pane, label) {
  await pane.locator('.pane-header').hover();
  const action = pane.locator(`.pane-header .actions a.action-label[aria-label^="${label}"]`).first();
  await waitFor(`the "${label}" title action`, async () => (await action.count()) > 0 && action.isVisible());
  await action.click();
}

/**
 * A tree row of a view, by text it shows.
 * @param {Locator} pane
 * @param {string | RegExp} text
 */
function row(pane, text) {
  return pane.locator('.monaco-list-row', { hasText: text }).first();
}

/** @param {ScenarioContext} context */
export async function run({ page, log, screenshot, workspace }) {
  await openUdpView(page);
  const servers = udpPane(page, 'Servers');
  const welcome = servers.locator('.welcome-view-content');
  await waitFor('the welcome of the empty Servers view', async () => /No echo server or proxy is running/.test(await welcome.innerText()));
  assert.ok(await welcome.locator('text=Open an Example .udp File').isVisible(), 'the welcome offers the example file');

  const port = await freeUdpPort();
  const address = `127.0.0.1:${port}`;
  await clickTitleAction(servers, 'Start Echo Server');
  await answerInput(page, address, { title: 'Start Echo Server' });
  await answerReplyMode(page, 'Mirror');
  const serverRow = row(servers, address);
  await waitFor(`${address} listed in the Servers view`, async () => (await serverRow.count()) > 0);
  for (let i = 1; i <= 3; i++) assert.equal(await echo(port, `ping ${i}`), `ping ${i}`);
  const counted = await waitFor('the counts on the row', async () => {
    const text = (await serverRow.innerText()).replace(/\s+/g, ' ');
    return /↓3 ↑3 ✗0 · mirror/.test(text) && text;
  });
  log(`server row: ${counted}`);
  // At the side bar's default width the counts are in view, not cut off by the ellipsis: the row's end is static.
  const countsEnd = await serverRow.locator('.label-description').evaluate((description) => {
    const text = description.firstChild;
    const at = description.textContent?.indexOf('✗0') ?? -1;
    if (!text || at === -1) return undefined;
    const range = document.createRange();
    range.setStart(text, at);
    range.setEnd(text, at + 2);
    const container = description.closest('.monaco-icon-label-container') ?? description;
    return { counts: range.getBoundingClientRect().right, visible: container.getBoundingClientRect().right };
  });
  assert.ok(countsEnd && countsEnd.counts <= countsEnd.visible, `the counts are cut off: ${JSON.stringify(countsEnd)}`);

  // A target: sent to once from the palette, then again with a click in the Targets view.
  fs.writeFileSync(path.join(workspace, 'lines.txt'), 'first line\nsecond line\n');
  await openFile(page, 'lines.txt');
  await page.keyboard.press('Control+Home');
  await runCommand(page, 'UDP: Send Selection To…');
  await answerInput(page, address, { title: 'Send Selection To…' });
  await waitFor('the first line answered', async () => /↓4 ↑4/.test(await serverRow.innerText()));
  const targets = udpPane(page, 'Targets');
  const targetRow = row(targets, address);
  await waitFor(`${address} in the Targets view`, async () => (await targetRow.count()) > 0);
  await page.locator('.part.editor .monaco-editor textarea').first().focus();
  await page.keyboard.press('Control+End');
  await page.keyboard.press('ArrowUp'); // the second line
  await targetRow.click();
  await waitFor('the second line answered after a click on the target', async () => /↓5 ↑5/.test(await serverRow.innerText()));
  log(`status bar: ${await readStatusBar(page, /bytes back|radio-tower|127\.0\.0\.1/)}`);

  // The Request Files view lists the workspace's .udp files.
  fs.writeFileSync(path.join(workspace, 'hello.udp'), `### hello\n@target ${address}\nhello\n`);
  const requestFiles = udpPane(page, 'Request Files');
  await waitFor('hello.udp in the Request Files view', async () => (await row(requestFiles, 'hello.udp').count()) > 0);
  // Its block, sent with the inline action: the row shows how it went.
  const block = requestFiles.locator('.monaco-list-row', { has: page.locator('.label-name', { hasText: /^hello$/ }) }).first();
  await waitFor('the hello block', async () => (await block.count()) > 0);
  await block.hover();
  const send = block.locator('.actions a.action-label[aria-label^="Send Block"]').first();
  await waitFor('the inline Send action', async () => (await send.count()) > 0 && send.isVisible());
  await send.click();
  await waitFor('the result on the block row', async () => /✓/.test(await block.innerText()));
  log(`block row: ${(await block.innerText()).replace(/\s+/g, ' ')}`);
  // The side bar wide enough for the whole row, as someone watching the counts would have it.
  const sideBar = await page.locator('.part.sidebar').boundingBox();
  if (sideBar) {
    const edge = { x: sideBar.x + sideBar.width + 1, y: sideBar.y + sideBar.height / 2 };
    await page.mouse.move(edge.x, edge.y);
    await page.mouse.down();
    await page.mouse.move(edge.x + 180, edge.y, { steps: 5 });
    await page.mouse.up();
  }
  await screenshot('udp-view');

  // Stop, inline on the row.
  await serverRow.hover();
  const stop = serverRow.locator('.actions a.action-label[aria-label^="Stop"]').first();
  await waitFor('the inline Stop action', async () => (await stop.count()) > 0 && stop.isVisible());
  await stop.click();
  await waitFor('the server gone from the view', async () => (await row(servers, address).count()) === 0);
  await waitFor('the welcome back', async () => /No echo server or proxy is running/.test(await welcome.innerText()));
  assert.ok(await echo(port, 'anyone?').then((reply) => reply === undefined), 'the server still answers after Stop');
}
