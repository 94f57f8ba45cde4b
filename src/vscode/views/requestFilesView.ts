import * as vscode from 'vscode';
import { escapeText } from '../../core/escapeText';
import { parseRequestFile, type RequestFile } from '../../core/requests/requestFile';
import type { BlockResult } from '../../core/requests/requestRun';
import type { Command } from '../commandRegistry';
import { parseDocument } from '../requestFiles/parsedDocuments';
import { blockKeys, type RequestRunner, type RunAllResult } from '../requestFiles/runner';
import { BatchedTreeProvider } from './refresh';

export const REQUEST_FILES_VIEW_ID = 'udpWorkbench.requestFiles';
/** The workspace's `.udp` files listed at most; a workspace with more is rare, and the search stays cheap. */
const MAX_FILES = 500;
const UDP_FILES = '**/*.udp';
/** The last results, kept in the workspace's state so that they are there again after a reload. */
const RESULTS_KEY = 'udpWorkbench.requestFileResults';
/** Files whose results are kept across reloads; the oldest go first. */
const MAX_KEPT_FILES = 200;

/** What the view shows of a block's last result. */
export type ShownResult = Pick<BlockResult, 'outcome' | 'summary' | 'detail'>;
/** Per file URI, per block key (its name and which block of that name it is), the last result. */
type KeptResults = Record<string, Record<string, ShownResult>>;

export type RequestFileNode =
  | { readonly kind: 'file'; readonly uri: string }
  | { readonly kind: 'block'; readonly uri: string; readonly line: number; readonly name: string; readonly result?: ShownResult };

/**
 * The Request files view: the workspace's `.udp` files (and open `.udp` documents, saved or not) with their blocks,
 * each with its last result. The nodes carry `uri` and `line`, the arguments Send Block and Run All Blocks take,
 * so the menus run those commands on them directly.
 */
export class RequestFilesView extends BatchedTreeProvider<RequestFileNode> {
  private workspaceFiles: Promise<vscode.Uri[]> | undefined;

  readonly commands: readonly Command[] = [
    { id: 'udpWorkbench.views.revealBlock', execute: (node: { uri?: string; line?: number }) => this.reveal(node) },
    { id: 'udpWorkbench.views.runAllFiles', execute: () => this.runAllFiles() },
  ];

  /** `state` is the workspace's: the last results are kept there across reloads. */
  constructor(
    private readonly runner: RequestRunner,
    private readonly state: vscode.Memento,
  ) {
    super();
    this._register(vscode.window.registerTreeDataProvider(REQUEST_FILES_VIEW_ID, this));
    const watcher = this._register(vscode.workspace.createFileSystemWatcher(UDP_FILES));
    const filesChanged = (): void => {
      this.workspaceFiles = undefined;
      this.scheduleRefresh();
    };
    this._register(watcher.onDidCreate(filesChanged));
    this._register(watcher.onDidDelete(filesChanged));
    this._register(watcher.onDidChange(() => this.scheduleRefresh()));
    this._register(vscode.workspace.onDidChangeWorkspaceFolders(filesChanged));
    const ifUdp = (document: vscode.TextDocument): void => {
      if (document.languageId === 'udp') this.scheduleRefresh();
    };
    this._register(vscode.workspace.onDidOpenTextDocument(ifUdp));
    this._register(vscode.workspace.onDidCloseTextDocument(ifUdp));
    this._register(vscode.workspace.onDidChangeTextDocument(({ document }) => ifUdp(document)));
    this._register(
      runner.onDidChangeResults((uri) => {
        void this.keepResults(uri);
        this.scheduleRefresh();
      }),
    );
  }

  async getChildren(node?: RequestFileNode): Promise<RequestFileNode[]> {
    if (!node) return (await this.files()).map((uri) => ({ kind: 'file', uri }));
    if (node.kind === 'block') return [];
    return this.blocksOf(node.uri);
  }

  getTreeItem(node: RequestFileNode): vscode.TreeItem {
    return node.kind === 'file' ? this.fileItem(node.uri) : this.blockItem(node);
  }

  private fileItem(uriText: string): vscode.TreeItem {
    const uri = vscode.Uri.parse(uriText);
    const item = new vscode.TreeItem(uri, vscode.TreeItemCollapsibleState.Expanded);
    item.id = `file:${uriText}`;
    item.contextValue = 'requestFile';
    item.iconPath = vscode.ThemeIcon.File;
    // The folder it is in, for files of the same name in different folders.
    const path = uri.scheme === 'file' ? vscode.workspace.asRelativePath(uri) : '';
    item.description = path.includes('/') ? path.slice(0, path.lastIndexOf('/')) : undefined;
    return item;
  }

  private blockItem(node: Extract<RequestFileNode, { kind: 'block' }>): vscode.TreeItem {
    const item = new vscode.TreeItem(escapeText(node.name));
    item.id = `block:${node.uri}#${node.line}`;
    item.contextValue = 'requestBlock';
    const { result } = node;
    item.description = result?.summary;
    item.iconPath = new vscode.ThemeIcon(
      result === undefined
        ? 'symbol-event'
        : result.outcome === 'passed'
          ? 'pass'
          : result.outcome === 'measured' || result.outcome === 'cancelled'
            ? 'info'
            : 'error',
    );
    item.tooltip = result
      ? result.detail
      : vscode.l10n.t('Line {0}: not sent yet. Click to show it, or send it with the button.', node.line + 1);
    item.command = {
      command: 'udpWorkbench.views.revealBlock',
      title: vscode.l10n.t('Show Block'),
      arguments: [{ uri: node.uri, line: node.line }],
    };
    return item;
  }

  /** The workspace's `.udp` files by path, then the open `.udp` documents that are not among them (new, unsaved ones). */
  private async files(): Promise<string[]> {
    this.workspaceFiles ??= Promise.resolve(vscode.workspace.findFiles(UDP_FILES, '**/node_modules/**', MAX_FILES)).catch(() => []);
    // Not the read-only copies VS Code opens for diffs and history (git:, vscode-scm: …): only files and new editors.
    const open = vscode.workspace.textDocuments
      .filter((document) => document.languageId === 'udp' && (document.uri.scheme === 'file' || document.uri.scheme === 'untitled'))
      .map((document) => document.uri.toString());
    const onDisk = (await this.workspaceFiles).map((uri) => uri.toString()).sort();
    return [...new Set([...onDisk, ...open])];
  }

  /** An open document's blocks come with their last results; a file not open is read from disk, with the results kept. */
  private async blocksOf(uri: string): Promise<RequestFileNode[]> {
    const document = vscode.workspace.textDocuments.find((open) => open.uri.toString() === uri);
    let file: RequestFile;
    try {
      file = document
        ? parseDocument(document)
        : parseRequestFile(new TextDecoder().decode(await vscode.workspace.fs.readFile(vscode.Uri.parse(uri))));
    } catch {
      return []; // deleted since it was listed: the watcher refreshes the list
    }
    const fresh = document ? this.runner.resultsOf(document) : new Map<RequestFile['blocks'][number], BlockResult>();
    const kept = this.state.get<KeptResults>(RESULTS_KEY, {})[uri] ?? {};
    const keys = blockKeys(file);
    return file.blocks.map((block) => {
      const result = fresh.get(block) ?? kept[keys.get(block) ?? ''];
      return { kind: 'block', uri, line: block.range.start, name: block.name, result };
    });
  }

  /** Writes the document's last results to the workspace state, newest file last. */
  private async keepResults(uri: vscode.Uri): Promise<void> {
    const document = vscode.workspace.textDocuments.find((open) => open.uri.toString() === uri.toString());
    if (!document) return;
    const keys = blockKeys(parseDocument(document));
    const { [uri.toString()]: before, ...others } = this.state.get<KeptResults>(RESULTS_KEY, {});
    const results: Record<string, ShownResult> = { ...before };
    for (const [block, { outcome, summary, detail }] of this.runner.resultsOf(document)) {
      const key = keys.get(block);
      if (key !== undefined) results[key] = { outcome, summary, detail };
    }
    const files = Object.entries({ ...others, [uri.toString()]: results }).slice(-MAX_KEPT_FILES);
    await this.state.update(RESULTS_KEY, Object.fromEntries(files));
  }

  private async reveal({ uri, line }: { uri?: string; line?: number }): Promise<vscode.TextEditor | undefined> {
    if (uri === undefined) return undefined;
    const at = new vscode.Position(line ?? 0, 0);
    return vscode.window.showTextDocument(vscode.Uri.parse(uri), { selection: new vscode.Range(at, at), preview: true });
  }

  /** Runs every block of every file the view lists, one file after another. */
  private async runAllFiles(): Promise<RunAllResult[]> {
    const results: RunAllResult[] = [];
    for (const uri of await this.files()) {
      const result = await vscode.commands.executeCommand<RunAllResult | undefined>('udpWorkbench.runAllBlocks', { uri });
      if (result) results.push(result);
    }
    return results;
  }
}
