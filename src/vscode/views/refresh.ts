import * as vscode from 'vscode';
import { Coalescer } from '../../core/timing';
import { Disposable, toDisposable } from '../dispose';

/** Redraws at most this often, like the status bar: a flood of datagrams costs a few tree refreshes a second. */
export const VIEW_REFRESH_MS = 250;

/** A tree view's data provider base: the change event, and a refresh that many requests share. */
export abstract class BatchedTreeProvider<T> extends Disposable implements vscode.TreeDataProvider<T> {
  private readonly changed = this._register(new vscode.EventEmitter<T | undefined>());
  private readonly refreshLater = new Coalescer(() => this.refresh(), VIEW_REFRESH_MS);
  /** How many times the tree was told to redraw, for tests that check a flood is batched. */
  private refreshCount = 0;

  readonly onDidChangeTreeData = this.changed.event;

  constructor() {
    super();
    this._register(toDisposable(() => this.refreshLater.cancel()));
  }

  get refreshes(): number {
    return this.refreshCount;
  }

  /** Redraws now. */
  refresh(): void {
    this.refreshLater.cancel();
    this.refreshCount++;
    this.changed.fire(undefined);
  }

  /** Redraws within VIEW_REFRESH_MS, once however often it is asked. */
  protected scheduleRefresh(): void {
    this.refreshLater.request();
  }

  abstract getTreeItem(element: T): vscode.TreeItem;
  abstract getChildren(element?: T): vscode.ProviderResult<T[]>;
}
