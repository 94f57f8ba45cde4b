// @ts-check
// A .udp request file in the real workbench: click the "Send" CodeLens above a block and read the result
// that appears beside it, then Run All Blocks and read every block's result and the summary in the log.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { answerInput, answerReplyMode, openFile, readOutputPanel, readStatusBar, runCommand, waitFor } from './workbench.mjs';
import { freeUdpPort } from './udp.mjs';
/** @import { Page } from 'playwright-core' */
/** @import { ScenarioContext } from './workbench.mjs' */

const LENS = '.part.editor .monaco-editor .codelens-decoration a';

/** @param {number} port */
const requestFile = (port) => `# Datagram blocks for the echo server on port ${port}. Click "Send" above a block.
@server = 127.0.0.1:${port}

### heartbeat
@target {{server}}
@timeout 500
@retries 2
@expect contains "Data received"
ping {{$seq}} at {{$timestamp}}

### binary
@target {{server}}
@encoding hex
@expect equals "Data received: hi"
68 69

### packet loss
@target {{server}}
@repeat 200
@rate 400/s
@timeout 500
ping
`;

/** @param {Page} page */
async function lensTexts(page) {
  return (await page.locator(LENS).allInnerTexts()).map((text) => text.replace(/\u00a0/g, ' ').trim());
}

/** @param {Page} page */
const results = async (page) => (await lensTexts(page)).filter((text) => text !== 'Send');

/** @param {ScenarioContext} context */
export async function run({ page, workspace, log, screenshot }) {
  const port = await freeUdpPort();
  fs.writeFileSync(path.join(workspace, 'heartbeat.udp'), requestFile(port));
  await runCommand(page, 'UDP: Start Echo Server');
  await answerInput(page, `127.0.0.1:${port}`, { title: 'Start Echo Server' });
  await answerReplyMode(page, 'Template');
  await readStatusBar(page, `127.0.0.1:${port}`);
  await openFile(page, 'heartbeat.udp');
  // As a person would: CodeLenses are only drawn once the editor has really had focus.
  // On the first line: a click further down can scroll the lenses out of view.
  await page
    .locator('.part.editor .monaco-editor .view-lines')
    .first()
    .click({ position: { x: 100, y: 5 } });

  const send = page.locator(LENS, { hasText: 'Send' });
  await waitFor('a Send link above each of the 3 blocks', async () => (await send.count()) === 3);
  await send.first().click();
  const first = await waitFor('the result beside the first Send link', async () => (await results(page))[0]);
  assert.match(first, /^✓ \d+ B in \S+ m?s$/, `the first block's result reads "${first}"`);
  log(`clicked Send: ${first}`);

  await runCommand(page, 'UDP: Run All Blocks');
  // Before Run All only the first block had a result.
  const all = await waitFor(
    'a result beside every block',
    async () => {
      const shown = await results(page);
      return shown.length === 3 && shown;
    },
    { timeoutMs: 30_000 },
  );
  log(`Run All: ${all.join(' | ')}`);
  assert.match(all[1], /^✓ 17 B in \S+ m?s$/);
  // A loaded machine may not keep the 400/s, and then says so.
  assert.match(all[2], /^✓ 200 sent · 0\.0% lost · (?:rate [\d,]+\/s of 400\/s asked · )?p50 \S+ m?s · p99 \S+ m?s$/);

  // The panel wraps long lines.
  const summary =
    /Run\s+All\s+heartbeat\.udp:\s+3\s+blocks:\s+3\s+passed,\s+0\s+failed,\s+0\s+timed\s+out;\s+round\s+trip\s+over\s+2\s+replies:\s+p50/;
  await readOutputPanel(page, 'UDP Workbench', { waitForText: summary });
  await screenshot('request-file');
}
