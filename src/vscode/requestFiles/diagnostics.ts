import * as vscode from 'vscode';
import type { Problem } from '../../core/requests/requestFile';
import { Debouncer } from '../../core/timing';
import { Disposable } from '../dispose';
import { parseDocument } from './parsedDocuments';

/** Typing pauses this long before the problems are checked again. */
const DEBOUNCE_MS = 250;

/** The problems of every open `.udp` document in the Problems panel and as squiggles, kept in step with edits. */
export class RequestDiagnostics extends Disposable {
  private readonly collection = this._register(vscode.languages.createDiagnosticCollection('udp'));
  private readonly pending = new Debouncer<vscode.TextDocument>((document) => this.update(document), DEBOUNCE_MS);

  constructor() {
    super();
    this._register(this.pending);
    this._register(vscode.workspace.onDidOpenTextDocument((document) => this.update(document)));
    this._register(vscode.workspace.onDidChangeTextDocument(({ document }) => this.schedule(document)));
    this._register(
      vscode.workspace.onDidCloseTextDocument((document) => {
        this.pending.cancel(document);
        this.collection.delete(document.uri);
      }),
    );
    for (const document of vscode.workspace.textDocuments) this.update(document);
  }

  private schedule(document: vscode.TextDocument): void {
    if (document.languageId !== 'udp') return;
    this.pending.request(document);
  }

  private update(document: vscode.TextDocument): void {
    if (document.languageId !== 'udp' || document.isClosed) return;
    this.collection.set(document.uri, parseDocument(document).problems.map(toDiagnostic));
  }
}

function toDiagnostic(problem: Problem): vscode.Diagnostic {
  const range = new vscode.Range(problem.line, problem.column, problem.line, problem.endColumn);
  const severity = problem.severity === 'error' ? vscode.DiagnosticSeverity.Error : vscode.DiagnosticSeverity.Warning;
  const diagnostic = new vscode.Diagnostic(range, problem.message, severity);
  diagnostic.source = vscode.l10n.t('UDP Workbench');
  return diagnostic;
}
