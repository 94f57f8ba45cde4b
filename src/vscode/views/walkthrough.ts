import * as vscode from 'vscode';
import { sendTargetFor } from '../../core/endpoint';
import { wasSent } from '../../core/requests/requestRun';
import type { Workbench } from '../../core/workbench/workbench';
import type { Command } from '../commandRegistry';
import { Disposable } from '../dispose';
import type { RequestRunner } from '../requestFiles/runner';
import type { SendSelectionResult } from '../sendCommands';
import { walkthroughStepOf, WALKTHROUGH_KEYS, type WalkthroughStep } from './viewEvents';

export interface SendLinesArgs {
  /** How many lines to send, one datagram each (1 when absent, at most 50). */
  readonly count?: number;
}

/** The lines the walkthrough sends at most with one click: enough to see 10 % loss, few enough to wait for. */
const MAX_LINES = 50;

/** Sets the walkthrough's context keys as their events happen, and offers the one command a step needs. */
export class WalkthroughProgress extends Disposable {
  private readonly done = new Set<WalkthroughStep>();

  readonly commands: readonly Command[] = [
    { id: 'udpWorkbench.walkthrough.sendLines', execute: (args: SendLinesArgs) => this.sendLines(args) },
  ];

  constructor(
    private readonly workbench: Workbench,
    runner: RequestRunner,
  ) {
    super();
    this._register(
      workbench.events.subscribe((event) => {
        const step = walkthroughStepOf(event);
        if (step) this.complete(step);
      }),
    );
    this._register(runner.onDidRunBlock((result) => wasSent(result) && this.complete('blockRun')));
  }

  /** The steps completed in this window, for tests (context keys cannot be read back). */
  get completed(): readonly WalkthroughStep[] {
    return [...this.done];
  }

  /** Forgets every step, as in a new window (test internals only: each walkthrough test starts from none done). */
  startOver(): void {
    for (const step of this.done) void vscode.commands.executeCommand('setContext', WALKTHROUGH_KEYS[step], false);
    this.done.clear();
  }

  private complete(step: WalkthroughStep): void {
    if (this.done.has(step)) return;
    this.done.add(step);
    void vscode.commands.executeCommand('setContext', WALKTHROUGH_KEYS[step], true);
  }

  /**
   * The walkthrough's "send a line": a walkthrough page is no text editor, so it opens one beside it with lines to
   * send, one cursor on each, and sends them to the first running server (or where Send Selection sends).
   */
  private async sendLines({ count }: SendLinesArgs): Promise<SendSelectionResult | undefined> {
    const lines = Math.min(MAX_LINES, Math.max(1, Math.floor(Number(count ?? 1)) || 1));
    const text = Array.from({ length: lines }, (_, i) => (lines === 1 ? 'hello, UDP' : `hello, UDP #${i + 1}`)).join('\n');
    const document = await vscode.workspace.openTextDocument({ content: text, language: 'plaintext' });
    const editor = await vscode.window.showTextDocument(document, vscode.ViewColumn.Beside);
    editor.selections = Array.from({ length: lines }, (_, i) => new vscode.Selection(i, 0, i, 0));
    await becomesActive(editor);
    const [server] = this.workbench.runningServers;
    return vscode.commands.executeCommand<SendSelectionResult | undefined>(
      'udpWorkbench.sendSelection',
      server ? { target: sendTargetFor(server.local) } : {},
    );
  }
}

/** The extension host hears which editor is active from the window a moment after showing it; waits for that, 2 s at most. */
function becomesActive(editor: vscode.TextEditor): Promise<void> {
  if (vscode.window.activeTextEditor?.document === editor.document) return Promise.resolve();
  return new Promise((resolve) => {
    const finish = (): void => {
      clearTimeout(timer);
      listener.dispose();
      resolve();
    };
    const timer = setTimeout(finish, 2000);
    const listener = vscode.window.onDidChangeActiveTextEditor((active) => active?.document === editor.document && finish());
  });
}
