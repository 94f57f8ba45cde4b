// The Get Started walkthrough, opened from the empty Servers view's welcome: its first three steps done with their
// own buttons, each ticked when the real thing happened (a server started, a reply came back, the simulation dropped
// one), and the .udp step ticked by a block really sent, not by one refused for a mistake. Its screenshot is the
// README's picture of the walkthrough.
// @ts-check
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { answerInput, answerReplyMode, openFile, openUdpView, runCommand, udpPane, waitFor } from './workbench.mjs';
import { freeUdpPort } from './udp.mjs';
/** @import { Page } from 'playwright-core' */
/** @import { ScenarioContext, ScenarioOptions } from './workbench.mjs' */

/** @type {ScenarioOptions} */
export const options = { settings: {} };

/**
 * A step's checkbox: VS Code ticks it (aria-checked) when one of the step's completion events happened.
 * @param {Page} page
 * @param {string} stepId
 */
function stepDone(page, stepId) {
  return page.locator(`.gettingStartedContainer [data-done-step-id$="#${stepId}"]`).first();
}

/**
 * Opens a step and clicks the button in its description.
 * @param {Page} page
 * @param {string} stepId
 * @param {string} button
 */
async function clickStepButton(page, stepId, button) {
  const step = page.locator(`.gettingStartedContainer .getting-started-step[data-step-id$="#${stepId}"]`).first();
  await waitFor(`the step ${stepId}`, async () => (await step.count()) > 0);
  if ((await step.getAttribute('aria-expanded')) !== 'true') await step.click();
  const action = step.locator('.button-link, a', { hasText: button }).first();
  await waitFor(`the "${button}" button of ${stepId}`, async () => (await action.count()) > 0 && action.isVisible());
  await action.click();
}

/** @param {ScenarioContext} context */
export async function run({ page, log, screenshot, workspace }) {
  await openUdpView(page);
  const getStarted = udpPane(page, 'Servers').locator('.welcome-view-content a', { hasText: 'Get Started' }).first();
  await waitFor('"Get Started" in the Servers welcome', async () => (await getStarted.count()) > 0 && getStarted.isVisible());
  await getStarted.click();
  await waitFor(
    'the walkthrough',
    async () => (await page.locator('.gettingStartedContainer', { hasText: 'Get Started with UDP Workbench' }).count()) > 0,
  );
  assert.equal(await stepDone(page, 'startServer').getAttribute('aria-checked'), 'false');

  const port = await freeUdpPort();
  await clickStepButton(page, 'startServer', 'Start Echo Server');
  await answerInput(page, `127.0.0.1:${port}`, { title: 'Start Echo Server' });
  await answerReplyMode(page, 'Mirror');
  await waitFor('"Start an echo server" ticked', async () => (await stepDone(page, 'startServer').getAttribute('aria-checked')) === 'true');
  log('step 1 done: the server started');

  // The second step opens an editor beside the walkthrough with a line, and sends it to the running server.
  await clickStepButton(page, 'sendLine', 'Send a Line');
  await waitFor('"Send a line" ticked', async () => (await stepDone(page, 'sendLine').getAttribute('aria-checked')) === 'true', {
    timeoutMs: 20_000,
  });
  log('step 2 done: the line was answered');
  assert.equal(await stepDone(page, 'simulateLoss').getAttribute('aria-checked'), 'false', 'the loss step waits for a drop');

  // The picture: the two ticks, and the loss step open beside the editor the second step sent from.
  const lossStep = page.locator('.gettingStartedContainer .getting-started-step[data-step-id$="#simulateLoss"]').first();
  await lossStep.click();
  await waitFor('the loss step open', async () => (await lossStep.getAttribute('aria-expanded')) === 'true');
  // The walkthrough's group alone (Ctrl+K Ctrl+M: the palette's Escape would take the page back to its start), wide
  // enough to show the step's picture.
  await page.keyboard.press('Control+K');
  await page.keyboard.press('Control+M');
  const picture = page.locator('.gettingStartedContainer', { hasText: 'Lose 10% of the datagrams' }).locator('.getting-started-media img');
  await waitFor('the step picture', async () => (await picture.count()) > 0 && picture.first().isVisible());
  await screenshot('walkthrough');
  // The loss step's own buttons, on their first try: 10% loss, then 20 lines; the step is ticked by a real drop.
  await page.keyboard.press('Control+K');
  await page.keyboard.press('Control+M');
  await clickStepButton(page, 'simulateLoss', 'Turn On 10% Loss');
  await clickStepButton(page, 'simulateLoss', 'Send 20 Lines');
  await waitFor(
    '"Lose 10% of the datagrams" ticked',
    async () => (await stepDone(page, 'simulateLoss').getAttribute('aria-checked')) === 'true',
    { timeoutMs: 30_000 },
  );
  log('step 3 done: the simulation dropped a datagram the step sent');

  // A block refused before sending (its hex is malformed) does not tick the .udp step; the block sent next does.
  fs.writeFileSync(
    path.join(workspace, 'walkthrough.udp'),
    `### malformed\n@target 127.0.0.1:${port}\n@encoding hex\nde ad zz\n\n### hello\n@target 127.0.0.1:${port}\nhello\n`,
  );
  // In the editors' second group, so the walkthrough stays in view in the first.
  await page.locator('.part.editor .editor-group-container').last().locator('.monaco-editor .view-lines').first().click();
  await openFile(page, 'walkthrough.udp');
  await page.keyboard.press('Control+Home');
  await runCommand(page, 'UDP: Send Block at Cursor');
  const refusal = page.locator('.notifications-toasts .notification-toast', { hasText: 'malformed' });
  await waitFor('the refusal of the malformed block', async () => (await refusal.count()) > 0);
  assert.ok(await stepDone(page, 'requestFile').isVisible(), 'the walkthrough is out of view');
  assert.equal(await stepDone(page, 'requestFile').getAttribute('aria-checked'), 'false', 'a block that was not sent ticked the step');
  await page
    .locator('.part.editor .editor-group-container')
    .last()
    .locator('.view-line', { hasText: /^hello$/ })
    .click();
  await runCommand(page, 'UDP: Send Block at Cursor');
  await waitFor(
    '"Keep datagrams in a .udp file" ticked',
    async () => (await stepDone(page, 'requestFile').getAttribute('aria-checked')) === 'true',
  );
  log('step 4 done: a block was sent, after one that was refused was not counted');
}
