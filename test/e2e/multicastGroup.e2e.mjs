// @ts-check
// A group listener started from the palette (Join Multicast Group…, the loopback interface picked from the list, replies
// mirrored), a plain program in the same group beside it, and a .udp block sent to the group: its result counts both
// replies, and the log lists each with its round trip. Everything stays on this machine: the group is joined on the
// loopback interface, and the block sends by it with a TTL of 0.
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import fs from 'node:fs';
import path from 'node:path';
import { answerInput, answerReplyMode, openFile, readOutputPanel, readStatusBar, runCommand, waitFor } from './workbench.mjs';
import { freeUdpPort } from './udp.mjs';
/** @import { ScenarioContext } from './workbench.mjs' */

const GROUP = '239.77.3.1';
const LENS = '.part.editor .monaco-editor .codelens-decoration a';
const DIALOG = '.monaco-dialog-box';

/**
 * A member of the group that is not ours: it answers from a socket of its own, as SSDP devices do.
 * @param {number} port
 */
async function plainMember(port) {
  const member = dgram.createSocket({ type: 'udp4', reuseAddr: true });
  const replies = dgram.createSocket('udp4');
  member.on('message', (_, from) => replies.send('HTTP/1.1 200 OK\r\nSERVER: plain member', from.port, from.address));
  await new Promise((resolve) => member.bind(port, '0.0.0.0', () => resolve(undefined)));
  member.addMembership(GROUP, '127.0.0.1');
  return () => [member, replies].forEach((socket) => socket.close());
}

/** @param {ScenarioContext} context */
export async function run({ page, workspace, log, screenshot }) {
  const port = await freeUdpPort();
  fs.writeFileSync(
    path.join(workspace, 'discover.udp'),
    `### discover\n@target ${GROUP}:${port}\n@interface lo\n@ttl 0\n@timeout 1s\nM-SEARCH * HTTP/1.1\n`,
  );
  await runCommand(page, 'UDP: Join Multicast Group…');
  await answerInput(page, `${GROUP}:${port}`, { title: 'Join Multicast Group' });
  await answerInput(page, 'lo', { pick: 'lo', title: 'Interface' });
  await answerReplyMode(page, 'Mirror');
  const dialog = page.locator(DIALOG);
  await waitFor('the question before listening on every interface', () => dialog.isVisible());
  log(`dialog: ${(await dialog.locator('.dialog-message-text').innerText()).trim()}`);
  await dialog.locator('.dialog-buttons .monaco-button', { hasText: 'Bind to 0.0.0.0' }).click();
  await readStatusBar(page, `${GROUP}:${port}`);
  await readOutputPanel(page, 'UDP Workbench', { waitForText: /joined\s+group\s+239\.77\.3\.1\s+on\s+lo/ });
  const stopMember = await plainMember(port);
  try {
    await openFile(page, 'discover.udp');
    await page
      .locator('.part.editor .monaco-editor .view-lines')
      .first()
      .click({ position: { x: 100, y: 5 } });
    const send = page.locator(LENS, { hasText: 'Send' });
    await waitFor('the Send link above the block', async () => (await send.count()) === 1);
    await send.first().click();
    const result = await waitFor('the result beside the Send link', async () => {
      const texts = (await page.locator(LENS).allInnerTexts()).map((text) => text.replace(/\u00a0/g, ' ').trim());
      return texts.find((text) => text !== 'Send');
    });
    log(`clicked Send: ${result}`);
    assert.match(result, /^✓ 2 peers answered · \S+ m?s, \S+ m?s$/);
    await readOutputPanel(page, 'UDP Workbench', {
      waitForText: new RegExp(`2\\s+peers\\s+answered\\s+${GROUP.replace(/\./g, '\\.')}:${port}\\s+within`),
    });
    await screenshot('multicast-group');
  } finally {
    stopMember();
  }
}
