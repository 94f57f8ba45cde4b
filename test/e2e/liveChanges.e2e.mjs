// @ts-check
// A running server switched to listen-only in the settings, with no traffic at all: the log says so in one
// line and the status bar's tooltip shows it at once, without waiting for a datagram to redraw.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { answerInput, answerReplyMode, readOutputPanel, readStatusBar, readStatusBarTooltip, runCommand, waitFor } from './workbench.mjs';
import { freeUdpPort } from './udp.mjs';
/** @import { ScenarioContext } from './workbench.mjs' */

/** @param {ScenarioContext} context */
export async function run({ page, log, workspace }) {
  const port = await freeUdpPort();
  const server = `127.0.0.1:${port}`;
  await runCommand(page, 'UDP: Start Echo Server');
  await answerInput(page, server, { title: 'Start Echo Server' });
  await answerReplyMode(page);
  await readStatusBar(page, server);
  const before = await readStatusBarTooltip(page, server);
  assert.match(before, /replies: mirror/);

  fs.mkdirSync(path.join(workspace, '.vscode'), { recursive: true });
  fs.writeFileSync(path.join(workspace, '.vscode', 'settings.json'), JSON.stringify({ 'udpWorkbench.server.replyMode': 'none' }, null, 2));
  const tooltip = await waitFor(
    'the tooltip to show listen-only',
    async () => {
      const text = await readStatusBarTooltip(page, server);
      return /replies: none \(listening only\)/.test(text) && text;
    },
    { timeoutMs: 30_000 },
  );
  log('tooltip:', tooltip.replace(/\s+/g, ' '));

  const text = await readOutputPanel(page, 'UDP Workbench', { waitForText: 'replies: none (listening only)' });
  const lines = text.split('\n').filter((line) => line.includes('replies: none (listening only)'));
  assert.equal(lines.length, 1, `one log line for the change:\n${text}`);
  assert.doesNotMatch(text, /received #/, 'no datagram was involved');
}
