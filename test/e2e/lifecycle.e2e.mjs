// @ts-check
// Stop, start again, and reload the window (which deactivates the extension and ends its extension
// host): after each, this process binds the server's port on 127.0.0.1, and it must succeed at once.
import assert from 'node:assert/strict';
import { answerInput, answerReplyMode, readStatusBar, runCommand, waitFor, waitForWorkbench } from './workbench.mjs';
import { canBind, echo, freeUdpPort } from './udp.mjs';
/** @import { Page } from 'playwright-core' */
/** @import { ScenarioContext } from './workbench.mjs' */
/** @typedef {typeof globalThis & { udpwBeforeReload?: boolean }} MarkedWindow  the page's globals, marked before a reload */

/**
 * @param {Page} page
 * @param {string} server
 */
async function startFromPalette(page, server) {
  await runCommand(page, 'UDP: Start Echo Server');
  await answerInput(page, server, { title: 'Start Echo Server' });
  await answerReplyMode(page);
  return readStatusBar(page, server);
}

/**
 * The status bar once no server runs: "UDP  ↓… ↑… ✗…" without an address.
 * @param {Page} page
 * @param {string} [counts]
 */
async function readIdleStatusBar(page, counts = '') {
  const item = page.locator('.part.statusbar .statusbar-item', { hasText: /^\s*UDP\s+↓\d+ ↑\d+ ✗\d+\s*$/ });
  return waitFor(`the idle UDP status bar item${counts ? ` with ${counts}` : ''}`, async () => {
    if ((await item.count()) === 0) return false;
    const text = (await item.first().innerText()).replace(/\u00a0/g, ' ').trim();
    return text.includes(counts) && text;
  });
}

/** @param {ScenarioContext} context */
export async function run({ page, log }) {
  const port = await freeUdpPort();
  const server = `127.0.0.1:${port}`;
  const timings = [];

  // Start, stop, start, stop: the port is held while running and free as soon as the status bar says stopped.
  for (let round = 1; round <= 2; round++) {
    await startFromPalette(page, server);
    assert.equal(await canBind(port), false, `round ${round}: the server does not hold ${server}`);
    assert.equal(await echo(port, `round ${round}`), `round ${round}`);
    const stopped = Date.now();
    await runCommand(page, 'UDP: Stop Echo Server');
    await readIdleStatusBar(page);
    assert.equal(await canBind(port), true, `round ${round}: ${server} is still bound after Stop Echo Server`);
    timings.push(`stop ${round}: free ${Date.now() - stopped} ms after the command`);
  }

  // Running when the window reloads: deactivate closes the socket, and the old extension host is gone.
  await startFromPalette(page, server);
  assert.equal(await echo(port, 'before reload'), 'before reload');
  await page.evaluate(() => {
    /** @type {MarkedWindow} */ (globalThis).udpwBeforeReload = true;
  });
  const reloaded = Date.now();
  await runCommand(page, 'Developer: Reload Window');
  await waitFor(
    'the window to reload',
    async () => await page.evaluate(() => /** @type {MarkedWindow} */ (globalThis).udpwBeforeReload !== true),
    { timeoutMs: 60_000 },
  );
  await waitForWorkbench(page);
  // A fresh extension host: counts start again from zero.
  const idle = await readIdleStatusBar(page, '↓0 ↑0 ✗0');
  const afterReload = Date.now() - reloaded;
  assert.equal(await canBind(port), true, `${server} is still bound after Developer: Reload Window`);
  timings.push(`reload: status bar "${idle}" and ${server} free ${afterReload} ms after the command`);

  // And the new extension host can take the port again.
  await startFromPalette(page, server);
  assert.equal(await echo(port, 'after reload'), 'after reload');
  await runCommand(page, 'UDP: Stop Echo Server');
  await readIdleStatusBar(page);
  assert.equal(await canBind(port), true, `${server} is still bound after the last stop`);
  log(timings.join('; '));
}
