import * as vscode from 'vscode';
import { parseEndpoint } from '../../core/endpoint';
import { escapeText } from '../../core/escapeText';
import type { RequestBlock, RequestFile } from '../../core/requests/requestFile';
import { runRequestFile } from '../../core/requests/requestFileRun';
import { describeBlockResult, describeRun, sendRequestBlock, type BlockResult, type RunSummary } from '../../core/requests/requestRun';
import type { Workbench } from '../../core/workbench/workbench';
import { presentError, type FixActions } from '../errorMessages';
import type { OutputLog } from '../outputLog';
import { Disposable } from '../dispose';
import type { ServerCommands } from '../serverCommands';
import { withSendProgress, type SendProgress } from '../sendProgress';
import { openSettings, readSettings, type SendSettings } from '../settings';
import { parseDocument } from './parsedDocuments';
import { describePlannedSend, plannedSend, RestrictedSendGuard } from './restrictedSends';

export interface RunAllResult {
  readonly uri: string;
  readonly results: readonly BlockResult[];
  readonly summary: RunSummary;
  /** The summary as the log shows it. */
  readonly text: string;
}

/** What Rerun Last repeats: one block (by its key) or the whole file. */
interface LastRun {
  readonly uri: vscode.Uri;
  readonly blockKey?: string;
}

/**
 * Sends the blocks of `.udp` documents and keeps the last result of each, for the CodeLenses. A single
 * block is sent interactively (what stopped it is shown with the buttons that fix it); Run All only logs,
 * and sums up at the end.
 */
export class RequestRunner extends Disposable {
  private readonly results = new Map<string, Map<string, BlockResult>>();
  private readonly changed = this._register(new vscode.EventEmitter<vscode.Uri>());
  private last: LastRun | undefined;
  private readonly guard = new RestrictedSendGuard();
  /** {{$seq}}: one number per datagram sent from a request file in this window. */
  private seq = 0;

  private readonly ran = this._register(new vscode.EventEmitter<BlockResult>());
  /** Fires with the document's URI when one of its blocks has a new result. */
  readonly onDidChangeResults = this.changed.event;
  /** Fires with each block's result, sent or not. */
  readonly onDidRunBlock = this.ran.event;

  constructor(
    private readonly workbench: Workbench,
    private readonly log: OutputLog,
    private readonly servers: ServerCommands,
  ) {
    super();
    this._register(vscode.workspace.onDidCloseTextDocument((document) => this.results.delete(document.uri.toString())));
  }

  /** The last result of each block of the document that has one. */
  resultsOf(document: vscode.TextDocument): Map<RequestBlock, BlockResult> {
    const file = parseDocument(document);
    const stored = this.results.get(document.uri.toString());
    const found = new Map<RequestBlock, BlockResult>();
    if (!stored) return found;
    for (const [block, key] of blockKeys(file)) {
      const result = stored.get(key);
      if (result) found.set(block, result);
    }
    return found;
  }

  /** `cancellation` stops it as the progress notification's Cancel button does: a burst then reports how far it got. */
  async runBlock(document: vscode.TextDocument, block: RequestBlock, cancellation?: vscode.CancellationToken): Promise<BlockResult> {
    const file = parseDocument(document);
    this.last = { uri: document.uri, blockKey: blockKeys(file).get(block) };
    const settings = readSettings().send;
    const plan = plannedSend(block, settings.target);
    const title = plan
      ? vscode.l10n.t('UDP: sending {0} {1}', escapeText(block.name), describePlannedSend(plan))
      : vscode.l10n.t('UDP: sending {0}', escapeText(block.name));
    const result = await withSendProgress(title, cancellation, (progress) => this.send(document, file, block, settings, true, progress));
    if (result.outcome === 'not-sent') this.explain(document, block, result);
    return result;
  }

  /** Stops at the block being sent when cancelled, which reports how far it got. */
  async runAll(document: vscode.TextDocument, cancellation?: vscode.CancellationToken): Promise<RunAllResult> {
    const file = parseDocument(document);
    this.last = { uri: document.uri };
    const name = documentName(document);
    if (file.blocks.length === 0) {
      void vscode.window.showInformationMessage(
        vscode.l10n.t('{0} has no datagram blocks: start one with a ### line, or run UDP: New Datagram File for an example.', name),
      );
    }
    const settings = readSettings().send;
    const { results, summary, passed } = await withSendProgress(
      vscode.l10n.t('UDP: running {0}', name),
      cancellation,
      ({ signal, report }) =>
        runRequestFile(this.workbench, file, settings, {
          signal,
          nextSeq: (count) => this.nextSeq(count),
          onBlockStart: (block) => report(escapeText(block.name)),
          report: (block, message) => report(`${escapeText(block.name)}: ${message}`),
          sendBlock: (block, send) => this.guarded(document, block, settings.target, signal, send),
          onBlockResult: (block, result) => this.record(document, file, block, result, false),
        }),
    );
    const text = describeRun(summary);
    if (passed) this.log.info(`Run All ${name}: ${text}`);
    else this.log.warn(`Run All ${name}: ${text}`);
    vscode.window.setStatusBarMessage(`${passed ? '$(check)' : '$(warning)'} ${name}: ${text.split(';')[0]}`, 10_000);
    return { uri: document.uri.toString(), results, summary, text };
  }

  /** Sends again what was sent last from a request file: one block, or Run All. */
  async rerunLast(): Promise<BlockResult | RunAllResult | undefined> {
    const last = this.last;
    if (!last) {
      void vscode.window.showInformationMessage(
        vscode.l10n.t('Nothing has been sent from a .udp file yet: click "Send" above a block first.'),
      );
      return undefined;
    }
    let document: vscode.TextDocument;
    try {
      document = await vscode.workspace.openTextDocument(last.uri);
    } catch {
      void vscode.window.showWarningMessage(
        vscode.l10n.t('{0} cannot be opened any more, so there is nothing to rerun.', last.uri.fsPath || last.uri.toString()),
      );
      return undefined;
    }
    if (last.blockKey === undefined) return this.runAll(document);
    const block = [...blockKeys(parseDocument(document))].find(([, key]) => key === last.blockKey)?.[0];
    if (!block) {
      void vscode.window.showWarningMessage(
        vscode.l10n.t('The block last sent ({0}) is no longer in {1}.', escapeText(last.blockKey.split('\0')[0]), documentName(document)),
      );
      return undefined;
    }
    return this.runBlock(document, block);
  }

  private async send(
    document: vscode.TextDocument,
    file: RequestFile,
    block: RequestBlock,
    settings: SendSettings,
    interactive: boolean,
    progress: SendProgress,
  ): Promise<BlockResult> {
    const result = await this.guarded(document, block, settings.target, progress.signal, () =>
      sendRequestBlock(this.workbench, file, block, settings, this.nextSeq(block.repeat?.value ?? 1), progress),
    );
    this.record(document, file, block, result, interactive);
    return result;
  }

  /** Sends unless Restricted Mode asked first and was not confirmed. */
  private async guarded(
    document: vscode.TextDocument,
    block: RequestBlock,
    settingsTarget: string,
    signal: AbortSignal,
    send: () => Promise<BlockResult>,
  ): Promise<BlockResult> {
    return (await this.guard.allows(document, block, settingsTarget, signal)) ? send() : notConfirmed(block, settingsTarget);
  }

  /** Keeps the result for the CodeLens and logs it. */
  private record(document: vscode.TextDocument, file: RequestFile, block: RequestBlock, result: BlockResult, interactive: boolean): void {
    const uri = document.uri.toString();
    const stored = this.results.get(uri) ?? new Map<string, BlockResult>();
    this.results.set(uri, stored);
    const key = blockKeys(file).get(block);
    if (key !== undefined) stored.set(key, result);
    this.changed.fire(document.uri);
    this.ran.fire(result);
    // A single send that failed to go out is shown (and logged) by presentError instead.
    if (!(interactive && result.error !== undefined)) {
      const line = describeBlockResult(result);
      if (result.outcome === 'passed') this.log.info(line);
      else this.log.warn(line);
    }
  }

  /** The {{$seq}} of a send's first datagram: a burst numbers each of its datagrams, so the next send goes on after the last of them. */
  private nextSeq(count: number): number {
    const seq = this.seq + 1;
    this.seq += count;
    return seq;
  }

  /** Says why a block was not sent, with what fixes it. */
  private explain(document: vscode.TextDocument, block: RequestBlock, result: BlockResult): void {
    if (result.problems) {
      void vscode.window.showErrorMessage(`${escapeText(block.name)}: ${result.detail}`, vscode.l10n.t('Show Problems')).then((choice) => {
        if (choice) void vscode.commands.executeCommand('workbench.actions.view.problems');
      });
      return;
    }
    const fixes: FixActions = {};
    if (result.target !== undefined) {
      const target = parseEndpoint(result.target);
      fixes['start-server'] = () => this.servers.startThenResend(target, () => this.runBlock(document, block));
    }
    // Only a block without @target goes where the settings say.
    if (!block.target) fixes['open-settings'] = openSettings;
    void presentError(result.error, this.log, fixes);
  }
}

/**
 * A name for each block that survives edits elsewhere in the file: its name, and which block of that
 * name it is. Lines move as the user types; names rarely do.
 */
export function blockKeys(file: RequestFile): Map<RequestBlock, string> {
  const seen = new Map<string, number>();
  const keys = new Map<RequestBlock, string>();
  for (const block of file.blocks) {
    const nth = seen.get(block.name) ?? 0;
    seen.set(block.name, nth + 1);
    keys.set(block, `${block.name}\0${nth}`);
  }
  return keys;
}

function notConfirmed(block: RequestBlock, settingsTarget: string): BlockResult {
  const plan = plannedSend(block, settingsTarget);
  return {
    name: block.name,
    line: block.range.start,
    outcome: 'cancelled',
    summary: vscode.l10n.t('⊘ not sent: not confirmed'),
    detail: plan
      ? vscode.l10n.t('not sent: in Restricted Mode, sending {0} asks first, and it was not confirmed', describePlannedSend(plan))
      : vscode.l10n.t('not sent: in Restricted Mode, sending it asks first, and it was not confirmed'),
  };
}

/** The file's name for messages and the log; a file name can hold any character, so it is escaped. */
function documentName(document: vscode.TextDocument): string {
  return escapeText(document.uri.path.split('/').pop() || document.uri.toString());
}
