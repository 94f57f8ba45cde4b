// @ts-check
// Helpers for e2e scenarios: drive VS Code's workbench as a person would, with the keyboard and
// what is on screen. Every helper waits for what it needs and throws an Error that says what
// it was waiting for, so a scenario reads as a list of steps.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
/** @import { Locator, Page } from 'playwright-core' */

/**
 * What test/host/runE2e.mjs hands each scenario's `run()`.
 * @typedef {object} ScenarioContext
 * @property {Page} page  the workbench's window
 * @property {(...args: unknown[]) => void} log  prints a line under the scenario's name
 * @property {(name: string) => Promise<string>} screenshot  saves the window as <name>.png; returns the path
 * @property {string} workspace  the folder the window has open: this scenario's own copy of fixtures/workspace
 */
/**
 * What a scenario may export as `options`.
 * @typedef {object} ScenarioOptions
 * @property {Record<string, unknown>} [settings]  user settings, over the host's quiet defaults
 * @property {boolean} [workspaceTrust]  true keeps Workspace Trust on: the folder opens untrusted
 */
/**
 * A test/e2e/*.e2e.mjs module: it throws to fail.
 * @typedef {object} Scenario
 * @property {(context: ScenarioContext) => Promise<void>} run
 * @property {ScenarioOptions} [options]
 */

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

const QUICK_INPUT = '.quick-input-widget';
const QUICK_INPUT_BOX = `${QUICK_INPUT} .quick-input-box input`;
const QUICK_INPUT_ROW = `${QUICK_INPUT} .quick-input-list .monaco-list-row`;
const OUTPUT_SWITCH = '.part.panel select[aria-label="Switch Output"]';
const OUTPUT_LINES = '.part.panel .monaco-editor .view-lines';

/** @param {string} text */
const clean = (text) => text.replace(/\u00a0/g, ' ');
/** @param {string} text */
const exactly = (text) => new RegExp(`^\\s*${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*$`);

/** Where screenshots go: media/screenshots/ with UDPW_UPDATE_SCREENSHOTS=1 (for the README), else test-results/. */
export const SCREENSHOT_DIR =
  process.env.UDPW_UPDATE_SCREENSHOTS === '1' ? path.join(REPO, 'media', 'screenshots') : path.join(REPO, 'test-results', 'screenshots');

/**
 * Saves the whole window as <SCREENSHOT_DIR>/<name>.png; returns the path.
 * @param {Page} page
 * @param {string} name
 */
export async function screenshot(page, name) {
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const file = path.join(SCREENSHOT_DIR, `${name}.png`);
  await page.mouse.move(0, 0); // no stray hover in the picture
  await page.screenshot({ path: file });
  return file;
}

/**
 * Polls `check` until it returns something other than undefined/false; throws after `timeoutMs`.
 * @template T
 * @param {string} what
 * @param {() => T | undefined | false | Promise<T | undefined | false>} check
 * @param {{ timeoutMs?: number, intervalMs?: number }} [options]
 * @returns {Promise<T>}
 */
export async function waitFor(what, check, { timeoutMs = 15_000, intervalMs = 200 } = {}) {
  const deadline = Date.now() + timeoutMs;
  let lastError;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${lastError instanceof Error ? lastError.message : lastError})` : ''}`,
      );
    }
    await sleep(intervalMs);
  }
}

/**
 * Waits until the workbench has loaded and the extension host has started.
 * @param {Page} page
 * @param {{ timeoutMs?: number }} [options]
 */
export async function waitForWorkbench(page, { timeoutMs = 60_000 } = {}) {
  await page.waitForSelector('.monaco-workbench .part.statusbar', { timeout: timeoutMs });
  await page.waitForSelector('.monaco-workbench .part.activitybar, .monaco-workbench .part.sidebar', { timeout: timeoutMs });
}

/** @param {Page} page */
async function quickInputVisible(page) {
  return page
    .locator(QUICK_INPUT_BOX)
    .isVisible()
    .catch(() => false);
}

/**
 * Runs a command from the Command Palette by its title ("UDP: Show Log"): F1, type, wait until
 * it is listed, Enter. Right after load, contributed commands can take a few seconds to appear,
 * so it closes and reopens the palette until they do.
 * @param {Page} page
 * @param {string} title
 * @param {{ attempts?: number }} [options]
 */
export async function runCommand(page, title, { attempts = 20 } = {}) {
  for (let attempt = 1; attempt <= attempts; attempt++) {
    if (await quickInputVisible(page)) await page.keyboard.press('Escape');
    await page.keyboard.press('F1');
    await page.waitForSelector(QUICK_INPUT_BOX, { state: 'visible', timeout: 15_000 });
    await page.keyboard.type(title);
    const row = page.locator(QUICK_INPUT_ROW, { has: page.locator('.label-name', { hasText: exactly(title) }) });
    const listed = await waitFor(`"${title}" in the palette`, async () => (await row.count()) > 0, { timeoutMs: 2000 }).catch(() => false);
    if (listed) {
      await row.first().click();
      return;
    }
    await page.keyboard.press('Escape');
    await sleep(1000);
  }
  throw new Error(`command "${title}" never appeared in the Command Palette`);
}

/**
 * Answers the open input box or quick pick: types `text` and presses Enter. For a quick pick,
 * `pick` is the label that must be listed before Enter is pressed. `title` waits for the input
 * with that title, so the answer cannot land in the palette that is still closing, and presses
 * Enter again while that input stays open with the answer in it (an Enter pressed while the
 * input is still opening can be lost).
 * @param {Page} page
 * @param {string} text
 * @param {{ pick?: string, title?: string }} [options]
 */
export async function answerInput(page, text, { pick, title } = {}) {
  await waitFor('an input box or quick pick', () => quickInputVisible(page));
  const heading = title === undefined ? undefined : page.locator(`${QUICK_INPUT} .quick-input-title`, { hasText: title });
  if (heading) await waitFor(`the "${title}" input`, async () => (await heading.count()) > 0 && heading.isVisible());
  const box = page.locator(QUICK_INPUT_BOX);
  await box.fill(text);
  if (pick !== undefined) {
    const row = page.locator(QUICK_INPUT_ROW, { hasText: pick });
    await waitFor(`"${pick}" in the quick pick`, async () => (await row.count()) > 0);
  }
  await page.keyboard.press('Enter');
  if (!heading) return;
  const stillOpen = async () => (await heading.isVisible().catch(() => false)) && (await box.inputValue().catch(() => '')) === text;
  for (let retry = 1; retry <= 3; retry++) {
    await sleep(1000);
    if (!(await stillOpen())) return;
    await page.keyboard.press('Enter');
  }
}

/**
 * Answers Start Echo Server's second question, how to reply: 'Mirror', 'Template' or 'Listen only'.
 * @param {Page} page
 * @param {string} [label]
 */
export async function answerReplyMode(page, label = 'Mirror') {
  await answerInput(page, label, { pick: label, title: 'Reply Mode' });
}

/**
 * The validation message under an open input box, or '' when there is none.
 * @param {Page} page
 */
export async function inputMessage(page) {
  const message = page.locator(`${QUICK_INPUT} .quick-input-message`);
  return (await message.isVisible().catch(() => false)) ? clean(await message.innerText()) : '';
}

/**
 * The labels listed in the open quick pick.
 * @param {Page} page
 */
export async function quickPickItems(page) {
  await waitFor('a quick pick', () => quickInputVisible(page));
  return (await page.locator(`${QUICK_INPUT_ROW} .label-name`).allInnerTexts()).map(clean);
}

/**
 * @param {Page} page
 * @returns {Promise<Locator | undefined>}
 */
async function visibleOutputSwitch(page) {
  const all = page.locator(OUTPUT_SWITCH);
  for (let i = 0; i < (await all.count()); i++) {
    if (await all.nth(i).isVisible()) return all.nth(i);
  }
  return undefined;
}

/**
 * The name of the channel the Output panel shows, or undefined when the panel is closed.
 * @param {Page} page
 */
export async function activeOutputChannel(page) {
  const select = await visibleOutputSwitch(page);
  if (!select) return undefined;
  return select.evaluate((/** @type {HTMLSelectElement} */ el) => el.selectedOptions[0]?.textContent ?? undefined);
}

/**
 * Shows `channelName` in the Output panel (opening the panel if needed, choosing the channel in
 * its dropdown) and returns the text on screen: the last lines of the channel, '' when empty.
 * `waitForText` (string or RegExp) waits until the text contains it.
 * @param {Page} page
 * @param {string} channelName
 * @param {{ waitForText?: string | RegExp }} [options]
 */
export async function readOutputPanel(page, channelName, { waitForText } = {}) {
  if (!(await visibleOutputSwitch(page))) await runCommand(page, 'Output: Focus on Output View');
  const select = await waitFor('the Output panel', () => visibleOutputSwitch(page));
  if ((await activeOutputChannel(page)) !== channelName) {
    const names = await select.evaluate((/** @type {HTMLSelectElement} */ el) => [...el.options].map((o) => o.textContent));
    assert.ok(names.includes(channelName), `no output channel "${channelName}"; there are: ${names.join(', ')}`);
    await select.selectOption({ label: channelName });
    await sleep(500); // the editor swaps in the channel's text just after the dropdown changes
  }
  const lines = page.locator(OUTPUT_LINES);
  return waitFor(waitForText ? `"${waitForText}" in the ${channelName} output` : `text in the ${channelName} output`, async () => {
    if ((await activeOutputChannel(page)) !== channelName) return undefined;
    const text = clean((await lines.allInnerTexts()).join('\n'));
    if (waitForText instanceof RegExp) return waitForText.test(text) && text;
    if (waitForText) return text.includes(waitForText) && text;
    return text;
  });
}

/**
 * The text of the first status bar item containing `textPart` (waits for it to appear).
 * @param {Page} page
 * @param {string | RegExp} textPart
 * @param {{ timeoutMs?: number }} [options]
 */
export async function readStatusBar(page, textPart, { timeoutMs } = {}) {
  const item = page.locator('.part.statusbar .statusbar-item', { hasText: textPart }).first();
  return waitFor(`a status bar item with "${textPart}"`, async () => (await item.count()) > 0 && clean(await item.innerText()).trim(), {
    timeoutMs,
  });
}

/**
 * The hover text (tooltip) of the status bar item containing `textPart`.
 * @param {Page} page
 * @param {string} textPart
 */
export async function readStatusBarTooltip(page, textPart) {
  const item = page.locator('.part.statusbar .statusbar-item', { hasText: textPart }).first();
  await item.hover();
  const hover = page.locator('.monaco-hover, .workbench-hover').filter({ hasText: /\S/ }).last();
  const text = await waitFor(`the hover of "${textPart}"`, async () => (await hover.isVisible()) && clean(await hover.innerText()));
  await page.mouse.move(0, 0);
  return text;
}

/**
 * Opens a file of the workspace (path relative to it) with Quick Open, and waits for its editor.
 * @param {Page} page
 * @param {string} relativePath
 */
export async function openFile(page, relativePath) {
  const name = relativePath.split('/').pop();
  if (await quickInputVisible(page)) await page.keyboard.press('Escape');
  await page.keyboard.press('Control+P');
  await page.waitForSelector(QUICK_INPUT_BOX, { state: 'visible', timeout: 15_000 });
  await page.keyboard.type(relativePath);
  const row = page.locator(QUICK_INPUT_ROW, { hasText: name });
  await waitFor(`"${relativePath}" in Quick Open`, async () => (await row.count()) > 0);
  await page.keyboard.press('Enter');
  await waitFor(
    `an editor tab for ${name}`,
    async () => (await page.locator('.tabs-container .tab.active', { hasText: name }).count()) > 0,
  );
  await page
    .locator('.part.editor .monaco-editor textarea')
    .first()
    .focus()
    .catch(() => {});
}

/**
 * The visible text of the active editor.
 * @param {Page} page
 */
export async function readEditor(page) {
  const lines = page.locator('.part.editor .editor-group-container.active .monaco-editor .view-lines').first();
  return clean(await lines.innerText());
}

/**
 * The messages of the notifications on screen (toasts).
 * @param {Page} page
 */
export async function readNotifications(page) {
  return (await page.locator('.notifications-toasts .notification-list-item-message').allInnerTexts()).map(clean);
}

/**
 * The button labels of the notification whose message contains `messagePart` (waits for it); and its message.
 * @param {Page} page
 * @param {string} messagePart
 */
export async function notificationButtons(page, messagePart) {
  const toast = page.locator('.notifications-toasts .notification-list-item', { hasText: messagePart }).first();
  await waitFor(`a notification saying "${messagePart}"`, async () => (await toast.count()) > 0 && toast.isVisible());
  const message = clean(await toast.locator('.notification-list-item-message').innerText());
  return { message, buttons: (await toast.locator('.monaco-button').allInnerTexts()).map(clean).filter(Boolean) };
}

/**
 * Clicks the button `label` of the notification whose message contains `messagePart`; returns the message.
 * @param {Page} page
 * @param {string} messagePart
 * @param {string} label
 */
export async function clickNotificationButton(page, messagePart, label) {
  const toast = page.locator('.notifications-toasts .notification-list-item', { hasText: messagePart }).first();
  await waitFor(`a notification saying "${messagePart}"`, async () => (await toast.count()) > 0 && toast.isVisible());
  const message = clean(await toast.locator('.notification-list-item-message').innerText());
  const button = toast.locator('.monaco-button', { hasText: label }).first();
  await waitFor(`the "${label}" button on it`, async () => (await button.count()) > 0);
  await button.click();
  return message;
}

/**
 * One view of the UDP container in the side bar, by its name.
 * @param {Page} page
 * @param {string} name
 */
export function udpPane(page, name) {
  return page.locator('.part.sidebar .pane', { has: page.locator('.pane-header h3.title', { hasText: new RegExp(`^${name}$`, 'i') }) });
}

/**
 * Opens the UDP view container with its activity bar icon.
 * @param {Page} page
 */
export async function openUdpView(page) {
  const icon = page.locator('.part.activitybar .action-item a.action-label[aria-label^="UDP"]').first();
  await waitFor('the UDP icon in the activity bar', async () => (await icon.count()) > 0 && icon.isVisible());
  await icon.click();
  await waitFor('the Servers view', async () => (await udpPane(page, 'Servers').count()) > 0);
}
