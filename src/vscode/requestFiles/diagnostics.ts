import * as vscode from 'vscode';
import type { Problem } from '../../core/requestFile';
import { Debouncer } from '../../core/timing';
import { parseDocument } from './parsedDocuments';

/** Typing pauses this long before the problems are checked again. */
const DEBOUNCE_MS = 250;

/** The problems of every open `.udp` document in the Problems panel and as squiggles, kept in step with edits. */
export class RequestDiagnostics implements vscode.Disposable {
  private readonly collection = vscode.languages.createDiagnosticCollection('udp');
  private readonly pending = new Debouncer<vscode.TextDocument>((document) => this.update(document), DEBOUNCE_MS);
  private readonly subscriptions: vscode.Disposable[];

  constructor() {
    this.subscriptions = [
      vscode.workspace.onDidOpenTextDocument((document) => this.update(document)),
      vscode.workspace.onDidChangeTextDocument(({ document }) => this.schedule(document)),
      vscode.workspace.onDidCloseTextDocument((document) => {
        this.pending.cancel(document);
        this.collection.delete(document.uri);
      }),
    ];
    for (const document of vscode.workspace.textDocuments) this.update(document);
  }

  dispose(): void {
    this.pending.dispose();
    for (const subscription of this.subscriptions) subscription.dispose();
    this.collection.dispose();
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
  diagnostic.source = 'UDP Workbench';
  return diagnostic;
}
