// @ts-check
// udpWorkbench.server.autoStart in the user's settings: the echo server is up when the window
// opens, without a command, and answers on the port the status bar shows.
import assert from 'node:assert/strict';
import { readStatusBar } from './workbench.mjs';
import { echo } from './udp.mjs';
/** @import { ScenarioContext, ScenarioOptions } from './workbench.mjs' */

/** @type {ScenarioOptions} */
export const options = { settings: { 'udpWorkbench.server.autoStart': true, 'udpWorkbench.server.port': 0 } };

/** @param {ScenarioContext} context */
export async function run({ page, log }) {
  const item = await readStatusBar(page, '127.0.0.1:', { timeoutMs: 30_000 });
  log('status bar at startup:', item);
  const port = Number(/127\.0\.0\.1:(\d+)/.exec(item)?.[1]);
  assert.ok(port > 0, `no port in the status bar item "${item}"`);
  assert.equal(await echo(port, 'started by itself'), 'started by itself');
}
