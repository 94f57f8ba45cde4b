// @ts-check
// Errors offer the action that fixes them, in the real workbench: a busy port gets "Use Any Free
// Port", and a send to a port nothing listens on gets "Start Echo Server", after which it is sent again;
// with two servers running, Stop Echo Server asks which one to stop.
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import fs from 'node:fs';
import path from 'node:path';
import {
  answerInput,
  answerReplyMode,
  clickNotificationButton,
  openFile,
  quickPickItems,
  readOutputPanel,
  readStatusBar,
  runCommand,
  waitFor,
} from './workbench.mjs';
import { freeUdpPort } from './udp.mjs';
/** @import { ScenarioContext } from './workbench.mjs' */

/** @param {ScenarioContext} context */
export async function run({ page, log, workspace }) {
  let port;
  const busy = dgram.createSocket('udp4');
  await /** @type {Promise<void>} */ (new Promise((resolve) => busy.bind(0, '127.0.0.1', resolve)));
  const busyPort = busy.address().port;
  try {
    await runCommand(page, 'UDP: Start Echo Server');
    await answerInput(page, `127.0.0.1:${busyPort}`, { title: 'Start Echo Server' });
    await answerReplyMode(page);
    const message = await clickNotificationButton(page, 'already in use', 'Use Any Free Port');
    log('error:', message);
    assert.match(message, new RegExp(`${busyPort}.*already in use`));
    const item = await readStatusBar(page, '127.0.0.1:');
    port = Number(/127\.0\.0\.1:(\d+)/.exec(item)?.[1]);
    assert.ok(port > 0 && port !== busyPort, `the server should be on another port: ${item}`);
  } finally {
    busy.close();
  }

  const silentPort = await freeUdpPort();
  fs.writeFileSync(path.join(workspace, 'hello.txt'), 'anyone there?\n');
  await openFile(page, 'hello.txt');
  await runCommand(page, 'UDP: Send Selection To…');
  await answerInput(page, `127.0.0.1:${silentPort}`, { title: 'Send Selection To…' });
  const refused = await clickNotificationButton(page, 'Nothing is listening', 'Start Echo Server');
  log('error:', refused);
  assert.match(refused, new RegExp(`Nothing is listening on 127\\.0\\.0\\.1:${silentPort}`));
  await readStatusBar(page, '2 servers');
  await readOutputPanel(page, 'UDP Workbench', {
    waitForText: new RegExp(`reply from 127\\.0\\.0\\.1:${silentPort} in .*"anyone there\\?"`),
  });

  // With two servers running, Stop Echo Server asks which one.
  await runCommand(page, 'UDP: Stop Echo Server');
  const both = [`127.0.0.1:${port}`, `127.0.0.1:${silentPort}`];
  const offered = await waitFor('both servers in the quick pick', async () => {
    const items = await quickPickItems(page);
    return both.every((server) => items.some((label) => label.includes(server))) && items;
  });
  log('stop which:', offered.join(' | '));
  await answerInput(page, `127.0.0.1:${silentPort}`, { pick: `127.0.0.1:${silentPort}` });
  await readStatusBar(page, `127.0.0.1:${port} `);
}
