import type * as vscode from 'vscode';
import { parseRequestFile, type RequestFile } from '../../core/requests/requestFile';

const parsed = new WeakMap<vscode.TextDocument, { readonly version: number; readonly file: RequestFile }>();

/** A `.udp` document, parsed once per version: the CodeLenses, the diagnostics and the runner share it. */
export function parseDocument(document: vscode.TextDocument): RequestFile {
  const cached = parsed.get(document);
  if (cached?.version === document.version) return cached.file;
  const file = parseRequestFile(document.getText());
  parsed.set(document, { version: document.version, file });
  return file;
}
