import * as vscode from 'vscode';
import type { Workbench } from '../../core/workbench/workbench';
import type { Command } from '../commandRegistry';
import { RECENT_TARGETS_KEY } from '../sendCommands';
import { BatchedTreeProvider } from './refresh';

export const TARGETS_VIEW_ID = 'udpWorkbench.targets';
/** Pinned targets in the order they were pinned, and the names the user gave targets. */
const PINNED_TARGETS_KEY = 'udpWorkbench.pinnedTargets';
const TARGET_NAMES_KEY = 'udpWorkbench.targetNames';

export interface TargetNode {
  /** `host:port`, as Send Selection takes it. */
  readonly target: string;
  readonly pinned: boolean;
  readonly name?: string;
}

/**
 * The Targets view: pinned targets first, then the ones Send Selection used lately (kept by SendCommands in the
 * same global state, so they survive reloads). A click sends the selection, or the current line, there.
 */
export class TargetsView extends BatchedTreeProvider<TargetNode> {
  readonly commands: readonly Command[] = [
    { id: 'udpWorkbench.views.pinTarget', execute: ({ target }: Partial<TargetNode>) => this.setPinned(target, true) },
    { id: 'udpWorkbench.views.unpinTarget', execute: ({ target }: Partial<TargetNode>) => this.setPinned(target, false) },
    {
      id: 'udpWorkbench.views.renameTarget',
      execute: ({ target, newName }: Partial<TargetNode> & { newName?: string }) => this.rename(target, newName),
    },
    { id: 'udpWorkbench.views.removeTarget', execute: ({ target }: Partial<TargetNode>) => this.remove(target) },
  ];

  constructor(
    workbench: Workbench,
    private readonly state: vscode.Memento,
  ) {
    super();
    this._register(vscode.window.registerTreeDataProvider(TARGETS_VIEW_ID, this));
    // Send Selection remembers its target before it sends, so the list is up to date when a send starts.
    this._register(workbench.events.subscribe((event) => event.kind === 'sent' && this.scheduleRefresh()));
  }

  getChildren(node?: TargetNode): TargetNode[] {
    if (node) return [];
    const pinned = this.pinned();
    const names = this.names();
    const recent = this.state.get<string[]>(RECENT_TARGETS_KEY, []).filter((target) => !pinned.includes(target));
    return [
      ...pinned.map((target) => ({ target, pinned: true, name: names[target] })),
      ...recent.map((target) => ({ target, pinned: false, name: names[target] })),
    ];
  }

  getTreeItem(node: TargetNode): vscode.TreeItem {
    const item = new vscode.TreeItem(node.name ?? node.target);
    item.id = `target:${node.target}`;
    item.description = node.name !== undefined ? node.target : undefined;
    item.contextValue = node.pinned ? 'target.pinned' : 'target.recent';
    item.iconPath = new vscode.ThemeIcon(node.pinned ? 'pinned' : 'history');
    item.tooltip = vscode.l10n.t('Click to send the selection, or the current line, to {0}', node.target);
    item.command = {
      command: 'udpWorkbench.sendSelection',
      title: vscode.l10n.t('Send Selection'),
      arguments: [{ target: node.target }],
    };
    return item;
  }

  private pinned(): string[] {
    return this.state.get<string[]>(PINNED_TARGETS_KEY, []);
  }

  private names(): Record<string, string> {
    return this.state.get<Record<string, string>>(TARGET_NAMES_KEY, {});
  }

  private async setPinned(target: string | undefined, pinned: boolean): Promise<boolean> {
    if (target === undefined) return false;
    const others = this.pinned().filter((t) => t !== target);
    await this.state.update(PINNED_TARGETS_KEY, pinned ? [...others, target] : others);
    this.refresh();
    return true;
  }

  /** `newName` skips the input box (tests, keybindings); an empty name puts the address back. */
  private async rename(target: string | undefined, newName?: string): Promise<string | undefined> {
    if (target === undefined) return undefined;
    const names = this.names();
    const typed =
      newName ??
      (await vscode.window.showInputBox({
        title: vscode.l10n.t('Rename Target'),
        prompt: vscode.l10n.t('A name for {0}; leave it empty to show the address again.', target),
        value: names[target] ?? '',
      }));
    if (typed === undefined) return undefined;
    const { [target]: _old, ...rest } = names;
    const name = typed.trim();
    await this.state.update(TARGET_NAMES_KEY, name === '' ? rest : { ...rest, [target]: name });
    this.refresh();
    return name;
  }

  /** Forgets the target: no longer pinned, named or among the recent ones. */
  private async remove(target: string | undefined): Promise<boolean> {
    if (target === undefined) return false;
    const { [target]: _old, ...names } = this.names();
    await this.state.update(TARGET_NAMES_KEY, names);
    await this.state.update(
      PINNED_TARGETS_KEY,
      this.pinned().filter((t) => t !== target),
    );
    await this.state.update(
      RECENT_TARGETS_KEY,
      this.state.get<string[]>(RECENT_TARGETS_KEY, []).filter((t) => t !== target),
    );
    this.refresh();
    return true;
  }
}
