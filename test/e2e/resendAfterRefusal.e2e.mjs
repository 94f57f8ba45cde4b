// @ts-check
// A send to a server that was just stopped is refused; its "Start Echo Server" button starts a server
// on that port and sends again, and the reply comes back: round after round, from Send Selection and
// from a request file's block, never the refusal a second time; and when a server came up there meanwhile,
// the button sends to it instead of binding a second one.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  answerInput,
  answerReplyMode,
  clickNotificationButton,
  openFile,
  readNotifications,
  readStatusBar,
  runCommand,
  waitFor,
} from './workbench.mjs';
import { freeUdpPort } from './udp.mjs';
/** @import { Page } from 'playwright-core' */
/** @import { ScenarioContext } from './workbench.mjs' */

const ROUNDS = 3;

/** @param {Page} page */
async function stopServer(page) {
  await runCommand(page, 'UDP: Stop Echo Server');
  await readStatusBar(page, /^\s*UDP\s+↓/);
}

/**
 * Starts a server on `server` from the palette and stops it again, so the port is freshly unbound.
 * @param {Page} page
 * @param {string} server
 */
async function startAndStop(page, server) {
  await runCommand(page, 'UDP: Start Echo Server');
  await answerInput(page, server, { title: 'Start Echo Server' });
  await answerReplyMode(page);
  await readStatusBar(page, server);
  await stopServer(page);
}

/**
 * The status bar's ↓ count: datagrams received by servers plus replies received by sends.
 * @param {Page} page
 */
async function receivedCount(page) {
  const text = await readStatusBar(page, '↓');
  return Number(/↓(\d+)/.exec(text)?.[1]);
}

/** @param {ScenarioContext} context */
export async function run({ page, log, workspace }) {
  const port = await freeUdpPort();
  const server = `127.0.0.1:${port}`;
  fs.writeFileSync(path.join(workspace, 'hello.udp'), `### hello\n@target ${server}\n@expect equals "anyone there?"\nanyone there?\n`);

  // One file for both paths: Send Selection sends the line under the cursor, Send Block the block around it.
  await openFile(page, 'hello.udp');
  for (let round = 1; round <= ROUNDS; round++) {
    await startAndStop(page, server);
    const before = await receivedCount(page);
    await runCommand(page, 'UDP: Send Selection To…');
    // The first time there is no recent target, so it asks for one; then it offers this one.
    await answerInput(page, server, round === 1 ? { title: 'Send Selection To…' } : { pick: server });
    const refused = await clickNotificationButton(page, `Nothing is listening on ${server}`, 'Start Echo Server');
    // The resent datagram reaches the new server, and its reply comes back: ↓ grows by two.
    const after = await waitFor(`round ${round}: the resent datagram and its reply`, async () => {
      const count = await receivedCount(page);
      return count >= before + 2 && count;
    });
    assert.equal(after, before + 2, `round ${round}: ↓ went from ${before} to ${after}`);
    await readStatusBar(page, server);
    log(`round ${round}: refused ("${refused}"), started, resent, answered`);
    await stopServer(page);
  }

  // The request file's block, sent with the cursor in it, gets the same fix.
  await startAndStop(page, server);
  const before = await receivedCount(page);
  await runCommand(page, 'UDP: Send Block at Cursor');
  await clickNotificationButton(page, `Nothing is listening on ${server}`, 'Start Echo Server');
  const after = await waitFor('the block resent and answered', async () => {
    const count = await receivedCount(page);
    return count >= before + 2 && count;
  });
  assert.equal(after, before + 2, `the request file: ↓ went from ${before} to ${after}`);
  log('request file: refused, started, resent, answered');

  // A server that came up there after the refusal (here from the palette) is used, not bound a second time.
  await stopServer(page);
  await runCommand(page, 'UDP: Send Selection To…');
  await answerInput(page, server, { pick: server });
  await waitFor('the refusal', async () =>
    (await readNotifications(page)).some((text) => text.includes(`Nothing is listening on ${server}`)),
  );
  await runCommand(page, 'UDP: Start Echo Server');
  await answerInput(page, server, { title: 'Start Echo Server' });
  await answerReplyMode(page);
  await readStatusBar(page, server);
  const beforeClick = await receivedCount(page);
  await clickNotificationButton(page, `Nothing is listening on ${server}`, 'Start Echo Server');
  const afterClick = await waitFor('the resend to the server started meanwhile', async () => {
    const count = await receivedCount(page);
    return count >= beforeClick + 2 && count;
  });
  assert.equal(afterClick, beforeClick + 2, `started meanwhile: ↓ went from ${beforeClick} to ${afterClick}`);
  const notes = await readNotifications(page);
  assert.ok(!notes.some((text) => text.includes('already in use')), `no second server was bound: ${notes.join(' | ')}`);
  log('started meanwhile: resent to it');
}
