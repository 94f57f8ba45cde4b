import * as vscode from 'vscode';
import { formatEndpoint } from '../../core/endpoint';
import { escapeText } from '../../core/escapeText';
import type { RequestBlock } from '../../core/requests/requestFile';
import { formatCount } from '../../core/stats';
import { Disposable } from '../dispose';
import { readSettings } from '../settings';
import { parseDocument } from './parsedDocuments';
import { describePlannedSend, plannedSend } from './restrictedSends';
import type { RequestRunner } from './runner';

/** "Send" above each block of a `.udp` document, and beside it how the block's last send went. Registers itself for `.udp` documents. */
export class RequestCodeLenses extends Disposable implements vscode.CodeLensProvider {
  private readonly changed = this._register(new vscode.EventEmitter<void>());

  readonly onDidChangeCodeLenses = this.changed.event;

  constructor(private readonly runner: RequestRunner) {
    super();
    this._register(runner.onDidChangeResults(() => this.changed.fire()));
    // Trusted, the Send lens no longer needs to say where and how many.
    this._register(vscode.workspace.onDidGrantWorkspaceTrust(() => this.changed.fire()));
    this._register(vscode.languages.registerCodeLensProvider({ language: 'udp' }, this));
  }

  provideCodeLenses(document: vscode.TextDocument): vscode.CodeLens[] {
    const results = this.runner.resultsOf(document);
    // Only Restricted Mode shows where a block sends; there, the settings are read once for every lens.
    const settingsTarget = vscode.workspace.isTrusted ? undefined : readSettings().send.target;
    const lenses: vscode.CodeLens[] = [];
    for (const block of parseDocument(document).blocks) {
      const range = new vscode.Range(block.range.start, 0, block.range.start, 0);
      lenses.push(
        new vscode.CodeLens(range, {
          title: sendTitle(block, settingsTarget),
          tooltip: sendTooltip(block),
          command: 'udpWorkbench.sendBlock',
          arguments: [{ uri: document.uri.toString(), line: block.range.start }],
        }),
      );
      const result = results.get(block);
      if (result) {
        lenses.push(
          new vscode.CodeLens(range, {
            title: result.summary,
            tooltip: vscode.l10n.t('{0}\n\nClick to show the log.', result.detail),
            command: 'udpWorkbench.showLog',
          }),
        );
      }
    }
    return lenses;
  }
}

/** In Restricted Mode the file comes from a folder not trusted: the lens says where it sends and how many, "Send 1,000 × to 10.0.0.5:53". */
function sendTitle(block: RequestBlock, settingsTarget: string | undefined): string {
  const plan = settingsTarget === undefined ? undefined : plannedSend(block, settingsTarget);
  return plan ? vscode.l10n.t('$(send) Send {0}', describePlannedSend(plan)) : vscode.l10n.t('$(send) Send');
}

function sendTooltip(block: RequestBlock): string {
  const where = block.target ? vscode.l10n.t('to {0}', formatEndpoint(block.target.value)) : vscode.l10n.t('to the target in the settings');
  if (!block.repeat) return vscode.l10n.t('Send {0} {1}', escapeText(block.name), where);
  const count = formatCount(block.repeat.value);
  return block.ratePerSecond
    ? vscode.l10n.t(
        'Send a burst of {0} {1} at {2}/s, and measure loss and round trips',
        count,
        where,
        formatCount(block.ratePerSecond.value),
      )
    : vscode.l10n.t('Send a burst of {0} {1}, and measure loss and round trips', count, where);
}
