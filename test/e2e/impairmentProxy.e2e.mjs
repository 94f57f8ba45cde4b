// A user's own client and server under a bad network: start an echo server (standing in for the user's server) and
// an impairment proxy in front of it from the Command Palette, slow one direction down with Configure Simulation,
// send through the proxy, and read both directions in the Output panel. Its screenshot is in the README.
// @ts-check
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { answerInput, answerReplyMode, openFile, readOutputPanel, readStatusBar, runCommand } from './workbench.mjs';
import { freeUdpPort } from './udp.mjs';
/** @import { ScenarioContext } from './workbench.mjs' */

/** @param {ScenarioContext} context */
export async function run({ page, log, screenshot, workspace }) {
  const server = `127.0.0.1:${await freeUdpPort()}`;
  const proxy = `127.0.0.1:${await freeUdpPort()}`;
  fs.writeFileSync(path.join(workspace, 'game.txt'), 'player 1 moves north\n');

  await runCommand(page, 'UDP: Start Echo Server');
  await answerInput(page, server, { title: 'Start Echo Server' });
  await answerReplyMode(page, 'Mirror');

  await runCommand(page, 'UDP: Start Impairment Proxy');
  await answerInput(page, proxy, { title: 'Listen Address' });
  // The running echo server is offered as the upstream.
  await answerInput(page, server, { pick: server, title: 'Upstream Server' });
  await readStatusBar(page, '1 + 1 proxy');

  await runCommand(page, 'UDP: Configure Simulation');
  await answerInput(page, proxy, { pick: proxy });
  await answerInput(page, 'client → server', { pick: 'client → server' });
  await answerInput(page, 'Custom', { pick: 'Custom' });
  await answerInput(page, 'delay=40ms jitter=10ms seed=7', { title: 'Configure Simulation' });

  await openFile(page, 'game.txt');
  await page.keyboard.press('Control+Home');
  await page.keyboard.press('Shift+End');
  await runCommand(page, 'UDP: Send Selection To…');
  await answerInput(page, proxy, { title: 'Send Selection To…' });

  await readOutputPanel(page, 'UDP Workbench', { waitForText: /server → client #1\s+forwarded/ });
  // The panel at full height, so the first lines (the proxy starting; in a remote window, where it listens) stay in view.
  await runCommand(page, 'View: Toggle Maximized Panel');
  const shown = await readOutputPanel(page, 'UDP Workbench', { waitForText: /impairment proxy listening/ });
  log('output panel:\n' + shown);
  const text = shown.replace(/\s+/g, ' ');
  assert.match(
    text,
    new RegExp(`impairment proxy listening on ${proxy.replace(/\./g, '\\.')}, forwarding to ${server.replace(/\./g, '\\.')}`),
  );
  assert.match(text, /client → server: 40 ms \+ up to 10 ms jitter \(seed 7\)/);
  assert.match(text, /client → server #1 forwarded, session 1 127\.0\.0\.1:\d+ \(after [\d.]+ ms\), 20 bytes: "player 1 moves north"/);
  assert.match(text, /server → client #1 forwarded, session 1 127\.0\.0\.1:\d+, 20 bytes: "player 1 moves north"/);
  assert.match(text, new RegExp(`reply from ${proxy.replace(/\./g, '\\.')} in [\\d.]+ ms`));
  await screenshot('impairment-proxy');
}
