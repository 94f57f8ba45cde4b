// The "UDP Traffic" panel in the real workbench: start a server that loses a quarter of what it gets, open the view,
// send datagrams, and read them back from the view's webview: rows, counts, a filter, a hex dump and the charts'
// data. Then save what it holds as a capture. Its screenshot is the README's picture of the view.
// @ts-check
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { answerInput, answerReplyMode, openFile, runCommand, waitFor } from './workbench.mjs';
import { echo, freeUdpPort } from './udp.mjs';
/** @import { Page } from 'playwright-core' */
/** @import { ScenarioContext, ScenarioOptions } from './workbench.mjs' */

/** @type {ScenarioOptions} */
export const options = {
  settings: {
    'udpWorkbench.simulation.dropInboundPercent': 25,
    'udpWorkbench.simulation.seed': 3,
  },
};

const BINARY = Buffer.from([0xca, 0xfe, 0xff, 0x00, 0x41, 0x0a]);

/**
 * The traffic view's page: VS Code puts a webview in an iframe that holds another.
 * @param {Page} page
 */
function trafficFrame(page) {
  return page.frameLocator('iframe.webview.ready').frameLocator('iframe#active-frame');
}

/** @param {ScenarioContext} context */
export async function run({ page, log, screenshot, workspace }) {
  const port = await freeUdpPort();
  const server = `127.0.0.1:${port}`;
  await runCommand(page, 'UDP: Start Echo Server');
  await answerInput(page, server, { title: 'Start Echo Server' });
  await answerReplyMode(page, 'Mirror');

  await runCommand(page, 'UDP: Show Traffic');
  const view = trafficFrame(page);
  const status = view.locator('#status');
  await waitFor('the traffic view to show its counts', async () => (await status.getAttribute('data-in', { timeout: 1000 })) === '0');

  // Twelve text datagrams and one binary one, each until it is answered at most five times: some are lost.
  let sent = 0;
  let replies = 0;
  let binarySent = 0;
  let binaryAnswered = false;
  for (let i = 1; i <= 12; i++) {
    sent++;
    if ((await echo(port, `ping ${i} from the e2e test`)) !== undefined) replies++;
  }
  for (let attempt = 1; attempt <= 5; attempt++) {
    sent++;
    binarySent++;
    if ((await echo(port, BINARY)) !== undefined) {
      replies++;
      binaryAnswered = true;
      break;
    }
  }
  const lost = sent - replies;
  log(`sent ${sent}, ${replies} answered, ${lost} lost`);
  assert.ok(
    lost > 0 && binaryAnswered,
    `the simulation should lose some and answer the binary datagram (sent ${sent}, answered ${replies})`,
  );

  // The counts shown are the datagrams on the wire: every request in, every reply out.
  await waitFor(
    `the view to count ${sent} in and ${replies} out`,
    async () => (await status.getAttribute('data-in')) === String(sent) && (await status.getAttribute('data-out')) === String(replies),
  );
  const rows = view.locator('#rows .row');
  await waitFor('rows in the packet list', async () => (await rows.count()) > 0);
  const firstRows = await rows.allInnerTexts();
  log(`the list shows ${firstRows.length} of ${sent + replies} rows (virtual scrolling), last: ${firstRows.at(-1)?.replace(/\s+/g, ' ')}`);
  assert.ok(
    firstRows.some((row) => /dropped/.test(row)),
    'no dropped row in view',
  );

  // The charts drew the same numbers: in and out per second, simulated loss apart from timeouts.
  const chart = (/** @type {string} */ title) => view.locator(`.chart[data-chart="${title}"]`);
  const rate = chart('Datagrams / s');
  await waitFor(
    'the rate chart to sum up every datagram',
    async () => (await rate.getAttribute('data-in')) === String(sent) && (await rate.getAttribute('data-out')) === String(replies),
  );
  assert.equal(await rate.getAttribute('data-points'), '60');
  assert.equal(await chart('Loss / s').getAttribute('data-simulated'), String(lost));
  assert.equal(await chart('Loss / s').getAttribute('data-timed-out'), '0', 'nothing the workbench sent timed out');
  assert.equal(await rate.locator('canvas').count(), 1, 'the rate chart has no canvas');

  // A send from the editor waits for its reply: the round-trip chart gets its first point.
  fs.writeFileSync(path.join(workspace, 'traffic.txt'), 'round trip from the editor\n');
  await openFile(page, 'traffic.txt');
  await page.keyboard.press('Control+Home');
  await page.keyboard.press('Shift+End');
  await runCommand(page, 'UDP: Send Selection To…');
  await answerInput(page, server, { title: 'Send Selection To…' });
  const rtt = chart('Round trip (ms)');
  const p50 = await waitFor('a round trip in the chart', async () => {
    const value = Number(await rtt.getAttribute('data-p50'));
    return value > 0 && value;
  });
  log(`round-trip chart: p50 ${p50} ms, p99 ${await rtt.getAttribute('data-p99')} ms`);
  assert.ok(Number(await rtt.getAttribute('data-p99')) >= p50);
  // The panel at full height for the pictures, as a user watching traffic would have it.
  await runCommand(page, 'View: Toggle Maximized Panel');
  await waitFor('more rows once the panel is taller', async () => (await rows.count()) > firstRows.length);
  await screenshot('traffic-view');

  // The filter: bytes given in hex find the binary datagram and its reply, and nothing else.
  await view.locator('#filter').fill('hex:cafeff');
  const binaryRows = binarySent + 1;
  await waitFor(
    `${binaryRows} rows for hex:cafeff`,
    async () => (await status.getAttribute('data-matched')) === String(binaryRows) && (await rows.count()) === binaryRows,
  );
  const filtered = await rows.allInnerTexts();
  assert.ok(
    filtered.every((row) => row.includes('\\xca\\xfe\\xff')),
    filtered.join('\n'),
  );
  await view.locator('#filter').fill('out');
  // Every datagram out is a reply: to the test's echoes and to the editor's send.
  await waitFor(
    'only replies for "out"',
    async () =>
      (await status.getAttribute('data-matched')) === (await status.getAttribute('data-out')) &&
      (await rows.allInnerTexts()).every((row) => /← out/.test(row)),
  );

  // Select the binary reply: the detail pane shows its bytes and the exchange it belongs to.
  await view.locator('#filter').fill('hex:cafeff out');
  await waitFor('the binary reply alone', async () => (await rows.count()) === 1);
  await rows.first().click();
  const hexdump = view.locator('#hexdump');
  await waitFor('the hex dump', async () => (await hexdump.count()) > 0);
  const dump = await hexdump.innerText();
  log('hex dump:\n' + dump);
  assert.match(dump, /^0000 {2}ca fe ff 00 41 0a {33}\|\.\.\.\.A\.\|$/m);
  const exchange = await view.locator('#exchange .row').allInnerTexts();
  assert.equal(exchange.length, 2, `the exchange: ${exchange.join(' / ')}`);
  assert.match(exchange[0], /replied/);
  assert.match(exchange[1], /reply/);
  await view.locator('#filter').fill('');
  await waitFor('every row again', async () => Number(await status.getAttribute('data-matched')) > sent + replies);
  await screenshot('traffic-view-detail');

  // Save what the view holds as a capture: the save dialog takes a path.
  const file = path.join(workspace, 'traffic.pcapng');
  await runCommand(page, 'UDP: Save Capture…');
  await answerInput(page, file, { title: 'Save Capture' });
  await waitFor('the capture file', () => fs.existsSync(file) && fs.statSync(file).size > 0);
  const bytes = fs.readFileSync(file);
  assert.equal(bytes.readUInt32LE(0), 0x0a0d0d0a, 'not a pcapng file');
  const packets = bytes.toString('latin1').split('ping ').length - 1;
  log(`capture: ${bytes.length} bytes, ${packets} text datagrams`);
  assert.ok(packets >= 12, `the capture holds ${packets} of the text datagrams and replies`);
}
