// The Get Started walkthrough, opened from the empty Servers view's welcome: its first two steps done with their
// own buttons, each ticked when the real thing happened (a server started, a reply came back). Its screenshot
// is the README's picture of the walkthrough.
// @ts-check
import assert from 'node:assert/strict';
import { answerInput, answerReplyMode, openUdpView, udpPane, waitFor } from './workbench.mjs';
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
export async function run({ page, log, screenshot }) {
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
}
