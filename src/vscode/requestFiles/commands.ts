import * as vscode from 'vscode';
import { sendTargetFor } from '../../core/endpoint';
import { blockAt } from '../../core/requests/requestFile';
import { exampleRequestFile, type ExampleReply } from '../../core/requests/requestFileExample';
import type { BlockResult } from '../../core/requests/requestRun';
import type { Workbench } from '../../core/workbench/workbench';
import type { Command } from '../commandRegistry';
import { readSettings } from '../settings';
import { parseDocument } from './parsedDocuments';
import type { RequestRunner, RunAllResult } from './runner';

/** Which document and line a command acts on; the active editor and its cursor when absent (keybindings). */
export interface BlockArgs {
  /** The document, as a URI string; the editor title's button passes its document. */
  readonly uri?: string;
  readonly line?: number;
  /** Cancels the send, as the Cancel button of its progress notification does (tests, other extensions). */
  readonly cancellation?: vscode.CancellationToken;
}

/** Send Block at Cursor, Run All Blocks, Rerun Last and New Datagram File. Each returns what it did, for tests and other extensions. */
export function requestCommands(runner: RequestRunner, workbench: Workbench): Command[] {
  return [
    { id: 'udpWorkbench.sendBlock', execute: (args: BlockArgs) => sendBlock(runner, args) },
    { id: 'udpWorkbench.runAllBlocks', execute: (args: BlockArgs) => runAll(runner, args) },
    { id: 'udpWorkbench.rerunLast', execute: () => runner.rerunLast() },
    { id: 'udpWorkbench.newDatagramFile', execute: () => newDatagramFile(workbench) },
  ];
}

async function sendBlock(runner: RequestRunner, args: BlockArgs): Promise<BlockResult | undefined> {
  const document = await requestDocument(args.uri, vscode.l10n.t('UDP: Send Block at Cursor'));
  if (!document) return undefined;
  const editor = vscode.window.activeTextEditor;
  const line = args.line ?? (editor?.document === document ? editor.selection.active.line : undefined);
  const block = line === undefined ? undefined : blockAt(parseDocument(document), line);
  if (!block) {
    void vscode.window.showInformationMessage(
      vscode.l10n.t('Put the cursor inside a datagram block (blocks start with a ### line), then send it.'),
    );
    return undefined;
  }
  return runner.runBlock(document, block, args.cancellation);
}

async function runAll(runner: RequestRunner, args: BlockArgs): Promise<RunAllResult | undefined> {
  const document = await requestDocument(args.uri, vscode.l10n.t('UDP: Run All Blocks'));
  return document && runner.runAll(document, args.cancellation);
}

/** The `.udp` document a command was given, or the active one; tells the user when there is none. */
async function requestDocument(uri: string | undefined, command: string): Promise<vscode.TextDocument | undefined> {
  const document =
    uri === undefined
      ? vscode.window.activeTextEditor?.document
      : (vscode.workspace.textDocuments.find((open) => open.uri.toString() === uri) ??
        (await vscode.workspace.openTextDocument(vscode.Uri.parse(uri))));
  if (document?.languageId === 'udp') return document;
  void vscode.window.showInformationMessage(
    vscode.l10n.t(
      '{0} works in .udp request files: open one, or run UDP: New Datagram File. Elsewhere, UDP: Send Selection sends the selected text.',
      command,
    ),
  );
  return undefined;
}

/** Opens an untitled `.udp` file with an example aimed at the first running echo server, expecting what it replies; returns its URI. */
async function newDatagramFile(workbench: Workbench): Promise<string> {
  const { target, reply } = exampleServer(workbench);
  const document = await vscode.workspace.openTextDocument({ language: 'udp', content: exampleRequestFile(target, reply) });
  await vscode.window.showTextDocument(document);
  return document.uri.toString();
}

/** The first running server; without one, where the settings send to and how a server started now replies. */
function exampleServer(workbench: Workbench): { target: string; reply: ExampleReply } {
  const [server] = workbench.runningServers;
  if (!server) {
    const settings = readSettings();
    return { target: settings.send.target, reply: { mode: settings.server.replyMode, template: settings.server.template } };
  }
  return { target: sendTargetFor(server.local), reply: { mode: server.replyMode, template: server.template } };
}
