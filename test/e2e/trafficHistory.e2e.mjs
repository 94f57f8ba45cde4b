// The "UDP Traffic" view once its buffer is full, as a user reading back through it: scrolled up (Follow off), the
// rows in view stay the same datagrams while new ones push the oldest out; Clear empties the detail pane too; a
// mistyped filter key is named; the Data column takes the width there is with the side bar open; the rate chart's
// labels fit (its screenshot, traffic-history.png, is looked at, not compared).
// @ts-check
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { answerInput, answerReplyMode, runCommand, waitFor } from './workbench.mjs';
import { freeUdpPort } from './udp.mjs';
/** @import { FrameLocator } from 'playwright-core' */
/** @import { ScenarioContext, ScenarioOptions } from './workbench.mjs' */

const KEPT = 100;

/** @type {ScenarioOptions} */
export const options = { settings: { 'udpWorkbench.capture.bufferSize': KEPT } };

/**
 * Sends `dg 0001`… one after another from one socket, `from` to `to` inclusive, with a breath every 50.
 * @param {number} port
 * @param {number} from
 * @param {number} to
 */
async function sendNumbered(port, from, to) {
  const socket = dgram.createSocket('udp4');
  for (let i = from; i <= to; i++) {
    await new Promise((resolve) => socket.send(`dg ${String(i).padStart(4, '0')}`, port, '127.0.0.1', resolve));
    if (i % 50 === 0) await new Promise((resolve) => setTimeout(resolve, 5));
  }
  socket.close();
}

/**
 * The text of the first row whose bottom is below the top of the scrolled list: the row the user reads first.
 * @param {FrameLocator} view
 */
function topRowText(view) {
  return view.locator('#scroller').evaluate((scroller) => {
    const top = scroller.getBoundingClientRect().top;
    const rows = [...scroller.querySelectorAll('.row')];
    return rows.find((row) => row.getBoundingClientRect().bottom > top + 1)?.textContent ?? '';
  });
}

/** @param {ScenarioContext} context */
export async function run({ page, log, screenshot }) {
  const port = await freeUdpPort();
  await runCommand(page, 'UDP: Start Echo Server');
  await answerInput(page, `127.0.0.1:${port}`, { title: 'Start Echo Server' });
  await answerReplyMode(page, 'Listen only');
  await runCommand(page, 'UDP: Show Traffic');
  const view = page.frameLocator('iframe.webview.ready').frameLocator('iframe#active-frame');
  const status = view.locator('#status');
  await waitFor('the traffic view', async () => (await status.getAttribute('data-in', { timeout: 1000 })) === '0');

  // A full buffer, then scrolled up to the 41st datagram: Follow turns off.
  await sendNumbered(port, 1, KEPT);
  await waitFor(`${KEPT} kept`, async () => (await status.getAttribute('data-kept')) === String(KEPT));
  await view.locator('#scroller').evaluate((scroller) => (scroller.scrollTop = 40 * 20));
  await waitFor('Follow off', async () => !(await view.locator('#follow').isChecked()));
  const before = await waitFor('dg 0041 at the top', async () => {
    const text = await topRowText(view);
    return text.includes('dg 0041') && text;
  });

  // Thirty more push the thirty oldest out; the rows in view stay where they were.
  await sendNumbered(port, KEPT + 1, KEPT + 30);
  await waitFor('30 not kept', async () => (await status.getAttribute('data-not-kept')) === '30');
  await new Promise((resolve) => setTimeout(resolve, 600)); // several of the view's updates
  const after = await topRowText(view);
  log(`top row before: ${before.replace(/\s+/g, ' ')}; after 30 more: ${after.replace(/\s+/g, ' ')}`);
  assert.ok(after.includes('dg 0041'), `the list drifted: "${after}" at the top instead of dg 0041`);
  assert.equal(await view.locator('#follow').isChecked(), false);

  // Select it; Clear empties the list and the detail pane, and a new first datagram does not bring it back.
  await view.locator('#rows .row', { hasText: 'dg 0041' }).first().click();
  const detail = view.locator('#detail');
  await waitFor('the detail of dg 0041', async () => /dg 0041|64 67 20 30 30 34 31/.test(await detail.innerText()));
  await view.locator('#clear').click();
  await waitFor('an empty list', async () => (await status.getAttribute('data-kept')) === '0');
  await sendNumbered(port, 1, 1);
  await waitFor('one datagram after Clear', async () => (await status.getAttribute('data-kept')) === '1');
  await new Promise((resolve) => setTimeout(resolve, 300));
  const afterClear = await detail.innerText();
  log(`detail after Clear: ${afterClear.replace(/\s+/g, ' ')}`);
  assert.doesNotMatch(afterClear, /0041|#41/, 'the detail pane still shows the datagram selected before Clear');
  assert.match(afterClear, /Select a datagram/);

  // A mistyped key is named, with the key meant.
  await view.locator('#filter').fill('prot:9000');
  const filterError = view.locator('#filter-error');
  await waitFor('the unknown key named', async () => /no key prot \(did you mean port:\?\)/.test(await filterError.innerText()));
  await view.locator('#filter').fill('');
  await waitFor('no filter error', async () => (await filterError.innerText()) === '');

  // The Data column takes most of the list's width, with the side bar open beside the panel.
  assert.ok(await page.locator('.part.sidebar').isVisible(), 'the side bar is closed');
  const widths = await view
    .locator('.row.header')
    .evaluate((header) => [...header.children].map((cell) => Math.round(cell.getBoundingClientRect().width)));
  const row = await view.locator('.row.header').evaluate((header) => Math.round(header.getBoundingClientRect().width));
  log(`list ${row} px wide; columns ${widths.join(', ')} px (Data last)`);
  const data = widths.at(-1) ?? 0;
  assert.ok(widths.slice(0, -1).every((width) => data > width) && data >= row * 0.3, `Data is ${data} px of ${row}: ${widths.join(', ')}`);

  // Thousands a second on the rate chart: its y axis labels (10,000 and the like) and its times, in the picture.
  await sendNumbered(port, 2, 6000);
  await waitFor('the flood counted', async () => Number(await status.getAttribute('data-in')) >= 6000, { timeoutMs: 30_000 });
  await new Promise((resolve) => setTimeout(resolve, 500));
  await screenshot('traffic-history');
}
