import * as vscode from 'vscode';
import { formatEndpoint } from '../../core/endpoint';
import { escapeText } from '../../core/escapeText';
import type { RequestBlock } from '../../core/requestFile';
import { formatCount } from '../../core/stats';
import { parseDocument } from './parsedDocuments';
import { describePlannedSend, plannedSend } from './restrictedSends';
import type { RequestRunner } from './runner';

/** "Send" above each block of a `.udp` document, and beside it how the block's last send went. */
export class RequestCodeLenses implements vscode.CodeLensProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  private readonly subscriptions: vscode.Disposable[];

  readonly onDidChangeCodeLenses = this.changed.event;

  constructor(private readonly runner: RequestRunner) {
    this.subscriptions = [
      runner.onDidChangeResults(() => this.changed.fire()),
      // Trusted, the Send lens no longer needs to say where and how many.
      vscode.workspace.onDidGrantWorkspaceTrust(() => this.changed.fire()),
    ];
  }

  provideCodeLenses(document: vscode.TextDocument): vscode.CodeLens[] {
    const results = this.runner.resultsOf(document);
    const lenses: vscode.CodeLens[] = [];
    for (const block of parseDocument(document).blocks) {
      const range = new vscode.Range(block.range.start, 0, block.range.start, 0);
      lenses.push(
        new vscode.CodeLens(range, {
          title: sendTitle(block),
          tooltip: sendTooltip(block),
          command: 'udpWorkbench.sendBlock',
          arguments: [{ uri: document.uri.toString(), line: block.range.start }],
        }),
      );
      const result = results.get(block);
      if (result) lenses.push(new vscode.CodeLens(range, { title: result.summary, tooltip: `${result.detail}\n\nClick to show the log.`, command: 'udpWorkbench.showLog' }));
    }
    return lenses;
  }

  dispose(): void {
    for (const subscription of this.subscriptions) subscription.dispose();
    this.changed.dispose();
  }
}

/** In Restricted Mode the file comes from a folder not trusted: the lens says where it sends and how many, "Send 1,000 × to 10.0.0.5:53". */
function sendTitle(block: RequestBlock): string {
  const plan = vscode.workspace.isTrusted ? undefined : plannedSend(block);
  return plan ? `$(send) Send ${describePlannedSend(plan)}` : '$(send) Send';
}

function sendTooltip(block: RequestBlock): string {
  const where = block.target ? ` to ${formatEndpoint(block.target.value)}` : ' to the target in the settings';
  if (!block.repeat) return `Send ${escapeText(block.name)}${where}`;
  const rate = block.ratePerSecond ? ` at ${formatCount(block.ratePerSecond.value)}/s` : '';
  return `Send a burst of ${formatCount(block.repeat.value)}${where}${rate}, and measure loss and round trips`;
}
