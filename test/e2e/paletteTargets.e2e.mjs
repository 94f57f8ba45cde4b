// Which commands the Command Palette offers, against what is running for them to act on: nothing, only an
// impairment proxy (in front of a plain program's echo socket, as the README's proxy steps have it), only an echo
// server. Every command of the manifest is classed by its target here, so a new one must say where it belongs.
// With the proxy, the status bar's ↓ ↑ ✗ count the proxy's datagrams of one kind, and add up.
// @ts-check
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { answerInput, answerReplyMode, quickPickItems, readStatusBar, readStatusBarTooltip, runCommand, waitFor } from './workbench.mjs';
import { freeUdpPort } from './udp.mjs';
/** @import { Page } from 'playwright-core' */
/** @import { ScenarioContext } from './workbench.mjs' */

/**
 * What each command acts on. 'always': it needs nothing running; 'server', 'proxy', 'server or proxy': it acts on
 * one; 'editor', 'udp editor', 'capture', 'no capture': it depends on something else, not checked here.
 * @type {Record<string, 'always' | 'server' | 'proxy' | 'server or proxy' | 'editor' | 'udp editor' | 'capture' | 'no capture'>}
 */
const TARGETS = {
  'udpWorkbench.startServer': 'always',
  'udpWorkbench.joinGroup': 'always',
  'udpWorkbench.stopServer': 'server',
  'udpWorkbench.stopAllServers': 'server',
  'udpWorkbench.configureSimulation': 'server or proxy',
  'udpWorkbench.startProxy': 'always',
  'udpWorkbench.stopProxy': 'proxy',
  'udpWorkbench.sendSelection': 'editor',
  'udpWorkbench.sendSelectionTo': 'editor',
  'udpWorkbench.showLog': 'always',
  'udpWorkbench.showTraffic': 'always',
  'udpWorkbench.showMenu': 'always',
  'udpWorkbench.sendBlock': 'udp editor',
  'udpWorkbench.runAllBlocks': 'udp editor',
  'udpWorkbench.rerunLast': 'always',
  'udpWorkbench.newDatagramFile': 'always',
  'udpWorkbench.saveCapture': 'always',
  'udpWorkbench.startCapture': 'no capture',
  'udpWorkbench.stopCapture': 'capture',
};

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The palette's commands, by title as the palette shows it ("UDP: Stop Echo Server"), with their targets. */
function paletteCommands() {
  const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  const nls = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.nls.json'), 'utf8'));
  /** @param {string} text */
  const localized = (text) => (/^%.*%$/.test(text) ? nls[text.slice(1, -1)] : text);
  /** @type {Array<{ command: string, when?: string }>} */
  const palette = manifest.contributes.menus.commandPalette;
  const hidden = new Set(palette.filter((entry) => entry.when === 'false').map((entry) => entry.command));
  /** @type {Array<{ command: string, title: string, category: string }>} */
  const commands = manifest.contributes.commands;
  return commands
    .filter(({ command }) => !hidden.has(command))
    .map(({ command, title, category }) => {
      assert.ok(command in TARGETS, `${command} is in the palette: say what it acts on in TARGETS`);
      return { command, title: `${localized(category)}: ${localized(title)}`, target: TARGETS[command] };
    });
}

/**
 * Whether the Command Palette lists the command with exactly this title.
 * @param {Page} page
 * @param {string} title
 */
async function listed(page, title) {
  await page.keyboard.press('F1');
  await page.keyboard.type(title);
  await new Promise((resolve) => setTimeout(resolve, 600));
  const labels = await quickPickItems(page);
  await page.keyboard.press('Escape');
  return labels.some((label) => label.trim() === title);
}

/**
 * Checks every command that acts on servers or proxies, and those that need nothing, against what runs.
 * @param {Page} page
 * @param {{ server: boolean, proxy: boolean }} running
 * @param {(line: string) => void} log
 */
async function checkPalette(page, running, log) {
  /** @type {Record<string, boolean>} */
  const expected = {
    always: true,
    server: running.server,
    proxy: running.proxy,
    'server or proxy': running.server || running.proxy,
  };
  const wrong = [];
  for (const { title, target } of paletteCommands()) {
    if (!(target in expected)) continue;
    // The context keys follow the start or stop a moment later: a few looks before calling it wrong.
    const shown = await waitFor(`${title} ${expected[target] ? 'listed' : 'not listed'}`, async () => {
      const now = await listed(page, title);
      return now === expected[target] ? { now } : false;
    }).catch(() => undefined);
    if (shown === undefined) wrong.push(`${title} (acts on: ${target}) is ${expected[target] ? 'missing' : 'listed'}`);
  }
  log(`palette with ${running.server ? 'a server' : 'no server'} and ${running.proxy ? 'a proxy' : 'no proxy'}: ${wrong.length} wrong`);
  assert.deepEqual(wrong, [], `the palette with ${JSON.stringify(running)}`);
}

/**
 * Sends `count` datagrams from one socket (one client: one proxy session), each waiting up to 300 ms for its echo.
 * @param {number} port
 * @param {number} count
 */
async function sendFromOneSocket(port, count) {
  const socket = dgram.createSocket('udp4');
  let answered = 0;
  for (let i = 1; i <= count; i++) {
    const reply = new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), 300);
      socket.once('message', () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
    socket.send(`through ${i}`, port, '127.0.0.1');
    if (await reply) answered++;
    socket.removeAllListeners('message');
  }
  socket.close();
  return answered;
}

/** @param {ScenarioContext} context */
export async function run({ page, log }) {
  await runCommand(page, 'UDP: Show Log'); // the extension's commands are loaded
  await checkPalette(page, { server: false, proxy: false }, log);

  // A plain program's echo socket, and our proxy in front of it: no echo server of ours.
  const plain = dgram.createSocket('udp4');
  plain.on('message', (message, from) => plain.send(message, from.port, from.address));
  await new Promise((resolve) => plain.bind(0, '127.0.0.1', () => resolve(undefined)));
  const upstream = `127.0.0.1:${plain.address().port}`;
  const proxyPort = await freeUdpPort();
  try {
    await runCommand(page, 'UDP: Start Impairment Proxy');
    await answerInput(page, `127.0.0.1:${proxyPort}`, { title: 'Listen Address' });
    await answerInput(page, upstream, { title: 'Upstream Server' });
    await readStatusBar(page, '1 proxy');
    await checkPalette(page, { server: false, proxy: true }, log);

    // As the README's proxy steps say: Configure Simulation, for the proxy, with only the proxy running.
    await runCommand(page, 'UDP: Configure Simulation');
    await answerInput(page, `127.0.0.1:${proxyPort}`, { pick: `127.0.0.1:${proxyPort}` });
    await answerInput(page, 'Both directions', { pick: 'Both directions' });
    await answerInput(page, 'Custom', { pick: 'Custom' });
    await answerInput(page, 'loss=30% seed=5', { title: 'Configure Simulation' });
    const answered = await sendFromOneSocket(proxyPort, 20);
    log(`${answered} of 20 answered through the proxy`);
    assert.ok(answered > 0 && answered < 20, `30% loss each way should lose some and keep some: ${answered} of 20`);

    // ↓ what the proxy received either way, ↑ what it sent on, ✗ what it dropped: ↓ = ↑ + ✗.
    const text = await waitFor('the status bar to add up', async () => {
      const shown = await readStatusBar(page, '1 proxy');
      const [, down, up, lost] = /↓(\d+) ↑(\d+) ✗(\d+)/.exec(shown) ?? [];
      return down !== undefined && Number(down) === Number(up) + Number(lost) && Number(down) >= 20 + answered && shown;
    });
    log(`status bar: ${text}`);
    const tooltip = await readStatusBarTooltip(page, '1 proxy');
    log(`tooltip: ${tooltip.replace(/\s+/g, ' ')}`);
    assert.match(tooltip, /, 1 session\)/, 'one session, in the singular');
    assert.match(tooltip, /↓ \d+ received \(by servers and proxies, and replies to sends\)/);
    assert.match(tooltip, /✗ \d+ dropped on purpose/);

    await runCommand(page, 'UDP: Stop Impairment Proxy');
    const stopped = await readStatusBar(page, 'UDP ');
    log(`after the stop: ${stopped}`);
    const [, down, up, lost] = (/↓(\d+) ↑(\d+) ✗(\d+)/.exec(stopped) ?? []).map(Number);
    assert.ok(down === up + lost && down >= 20 + answered, `the proxy's counts stay after it stopped, and add up: ${stopped}`);
    await checkPalette(page, { server: false, proxy: false }, log);
  } finally {
    plain.close();
  }

  const serverPort = await freeUdpPort();
  await runCommand(page, 'UDP: Start Echo Server');
  await answerInput(page, `127.0.0.1:${serverPort}`, { title: 'Start Echo Server' });
  await answerReplyMode(page, 'Mirror');
  await checkPalette(page, { server: true, proxy: false }, log);
}
