import * as assert from 'node:assert/strict';
import * as dgram from 'node:dgram';
import * as vscode from 'vscode';
import type { UdpWorkbenchApi } from '../../src/vscode/api';
import { TEST_INTERNALS_COMMAND, type TestInternals } from '../../src/vscode/testInternals';

export const EXTENSION_ID = 'udp-workbench.udp-workbench';

/** The running extension's API, activating it like a command would. */
export async function getApi(): Promise<UdpWorkbenchApi> {
  const extension = vscode.extensions.getExtension<UdpWorkbenchApi>(EXTENSION_ID);
  assert.ok(extension, `${EXTENSION_ID} is not installed in this host`);
  return extension.activate();
}

/** The workbench, the log and the status bar, through the command the extension registers only in a test host. */
export async function getInternals(): Promise<TestInternals> {
  await getApi();
  const internals = await vscode.commands.executeCommand<TestInternals | undefined>(TEST_INTERNALS_COMMAND);
  assert.ok(internals, `${TEST_INTERNALS_COMMAND} returned nothing: is the extension running in ExtensionMode.Test?`);
  return internals;
}

/** Polls until `check` returns a value that is not undefined/false, or fails after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 5000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** A point in the log to read from later with logSince. */
export function logMark(internals: TestInternals): number {
  internals.logLines(); // writes what is waiting, so the mark comes after it
  return internals.logLinesWritten();
}

/** Log lines written since `mark`, as far as the recent lines reach back. */
export function logSince(internals: TestInternals, mark: number): string[] {
  const lines = internals.logLines();
  const fresh = internals.logLinesWritten() - mark;
  return fresh > 0 ? lines.slice(-fresh) : [];
}

/** Sets user settings for the duration of `run`, then puts the old values back. */
export async function withSettings<T>(values: Record<string, unknown>, run: () => Thenable<T>): Promise<T> {
  const config = vscode.workspace.getConfiguration('udpWorkbench');
  const old = Object.keys(values).map((key) => [key, config.inspect(key)?.globalValue] as const);
  for (const [key, value] of Object.entries(values)) await config.update(key, value, vscode.ConfigurationTarget.Global);
  try {
    return await run();
  } finally {
    for (const [key, value] of old) await config.update(key, value, vscode.ConfigurationTarget.Global);
  }
}

/** Opens an untitled document with `text` and selects `selections` (line/character pairs; empty = cursors). */
export async function editorWith(text: string, selections: Array<[number, number, number, number]>): Promise<vscode.TextEditor> {
  const document = await vscode.workspace.openTextDocument({ content: text, language: 'plaintext' });
  const editor = await vscode.window.showTextDocument(document);
  // The extension host hears which editor is active from the window a moment later: until then a command would
  // still see the previous test's editor.
  await waitFor('the new editor to be the active one', () => vscode.window.activeTextEditor?.document === document);
  editor.selections = selections.map(([l1, c1, l2, c2]) => new vscode.Selection(l1, c1, l2, c2));
  return editor;
}

/** Closes every editor without a save prompt (the test documents are untitled). */
export async function closeEditors(): Promise<void> {
  // The tabs are the window's own state; activeTextEditor can still name an editor the window already closed.
  for (let i = 0; i < 20 && vscode.window.tabGroups.all.some((group) => group.tabs.length > 0); i++) {
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
  }
}

/** Whether this process can bind `address:port` (IPv4) now: false while any socket holds it. */
export function canBind(port: number, address: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = dgram.createSocket('udp4');
    socket.once('error', () => {
      socket.close();
      resolve(false);
    });
    socket.bind(port, address, () => socket.close(() => resolve(true)));
  });
}

/** One datagram from a fresh socket; resolves with the first reply or undefined after `timeoutMs`. */
export function roundTrip(host: string, port: number, text: string, timeoutMs = 1000): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
    const timer = setTimeout(() => finish(undefined), timeoutMs);
    const finish = (reply: string | undefined): void => {
      clearTimeout(timer);
      socket.close();
      resolve(reply);
    };
    socket.on('message', (message) => finish(message.toString('utf8')));
    socket.send(text, port, host);
  });
}
