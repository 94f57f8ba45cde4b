// @ts-check
// The user's path in the real workbench: start an echo server that simulates loss from the Command
// Palette, select text in an editor, send it, and read the drop, the retry and the reply in the
// Output panel and the counts in the status bar. Its screenshot is the README's first picture.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  answerInput,
  answerReplyMode,
  openFile,
  quickPickItems,
  readOutputPanel,
  readStatusBar,
  runCommand,
  waitFor,
} from './workbench.mjs';
import { freeUdpPort } from './udp.mjs';
/** @import { ScenarioContext, ScenarioOptions } from './workbench.mjs' */

// With seed 18 and 50 % inbound loss the first datagram is dropped and the next ones pass,
// so one send shows a drop, a timeout, a retry and a reply.
/** @type {ScenarioOptions} */
export const options = {
  settings: {
    'udpWorkbench.simulation.dropInboundPercent': 50,
    'udpWorkbench.simulation.seed': 18,
    'udpWorkbench.send.timeoutMs': 400,
  },
};

/** @param {ScenarioContext} context */
export async function run({ page, log, screenshot, workspace }) {
  const port = await freeUdpPort();
  const server = `127.0.0.1:${port}`;
  fs.writeFileSync(path.join(workspace, 'datagrams.txt'), 'hello from the editor\nstatus?\n');

  await runCommand(page, 'UDP: Start Echo Server');
  await answerInput(page, server, { title: 'Start Echo Server' });
  // The tutorial's reply, chosen in the palette: no trip to Settings.
  await answerReplyMode(page, 'Template');
  const idle = await readStatusBar(page, server);
  assert.match(idle, new RegExp(`${server.replace(/\./g, '\\.')}\\s+↓0 ↑0 ✗0`), `status bar after start: ${idle}`);
  log('status bar after start:', idle);

  await openFile(page, 'datagrams.txt');
  await page.keyboard.press('Control+Home');
  await page.keyboard.press('Shift+End');
  await runCommand(page, 'UDP: Send Selection To…');
  await answerInput(page, server, { title: 'Send Selection To…' });

  // The panel wraps long lines: compare with the wrapping folded away.
  const shown = await readOutputPanel(page, 'UDP Workbench', { waitForText: /Data received: hello from the\s+editor/ });
  log('output panel:\n' + shown);
  const text = shown.replace(/\s+/g, ' ');
  assert.match(text, /dropped #1 from 127\.0\.0\.1:\d+ \(simulated loss on the way in\), 21 bytes: "hello from the editor"/);
  assert.match(text, new RegExp(`no reply from ${server.replace(/\./g, '\\.')} within 400 ms, sending again`));
  assert.match(
    text,
    new RegExp(
      `reply from ${server.replace(/\./g, '\\.')} in [\\d.]+ (ms|µs) \\(try 2\\), 36 bytes: "Data received: hello from the editor"`,
    ),
  );

  // ↓ the server received 2 and the sender got 1 reply; ↑ the sender sent 2 and the server replied once; ✗ 1 drop.
  const counts = await readStatusBar(page, `${server}  ↓3 ↑3 ✗1`);
  log('status bar after the send:', counts);
  await screenshot('send-selection');

  // The target is remembered: the next Send Selection To… offers it first.
  await page.locator('.part.editor .monaco-editor .view-lines').first().click();
  await page.keyboard.press('Control+End');
  await page.keyboard.press('ArrowUp');
  await runCommand(page, 'UDP: Send Selection To…');
  const offered = await waitFor('the recent targets', async () => {
    const items = await quickPickItems(page);
    return !items.some((item) => item.startsWith('UDP:')) && items.length > 0 && items;
  });
  assert.equal(offered[0], server, `recent targets: ${offered.join(', ')}`);
  await answerInput(page, server, { pick: server });
  await readOutputPanel(page, 'UDP Workbench', { waitForText: 'Data received: status?' });
}
