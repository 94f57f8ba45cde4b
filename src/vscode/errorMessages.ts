import * as vscode from 'vscode';
import { isWorkbenchError, messageOf, type WorkbenchFix } from '../core/errors';
import type { OutputLog } from './outputLog';
import { openSettings } from './settings';

/** What each fix is called on its button, in the user's language once the extension runs. */
const FIX_LABELS: Record<WorkbenchFix, () => string> = {
  'use-another-port': () => vscode.l10n.t('Use Another Port…'),
  'use-any-port': () => vscode.l10n.t('Use Any Free Port'),
  'open-settings': () => vscode.l10n.t('Open Settings'),
  'start-server': () => vscode.l10n.t('Start Echo Server'),
  'use-ipv4': () => vscode.l10n.t('Use {0}', '127.0.0.1'),
  'use-ipv6': () => vscode.l10n.t('Use {0}', '::1'),
};

export type FixActions = Partial<Record<WorkbenchFix, () => Thenable<unknown> | Promise<unknown>>>;

/** A button that only makes sense where the error happened, such as pointing at a bad character. */
export interface ExtraAction {
  readonly title: string;
  run(): Thenable<unknown> | Promise<unknown>;
}

/**
 * Shows an error the way users can act on it: what was wrong and how to fix it, with the buttons
 * that fix it, and writes it to the log. Unexpected errors are reported, never rethrown, so no
 * command can take the extension host down.
 */
export async function presentError(
  error: unknown,
  log: OutputLog,
  actions: FixActions = {},
  extra: readonly ExtraAction[] = [],
): Promise<void> {
  if (!isWorkbenchError(error)) {
    const message = messageOf(error);
    log.error(`unexpected error: ${error instanceof Error && error.stack ? error.stack : message}`);
    const showLog = vscode.l10n.t('Show Log');
    const choice = await vscode.window.showErrorMessage(vscode.l10n.t('UDP Workbench: {0}', message), showLog);
    if (choice === showLog) log.show();
    return;
  }
  log.errorOnce(error);
  const fixes = offeredFixes(error.fix, actions).map((fix) => ({ fix, label: FIX_LABELS[fix]() }));
  const choice = await vscode.window.showErrorMessage(
    error.text,
    ...extra.map((action) => action.title),
    ...fixes.map(({ label }) => label),
  );
  const extraChosen = extra.find((action) => action.title === choice);
  if (extraChosen) return void (await extraChosen.run());
  const chosen = fixes.find(({ label }) => label === choice)?.fix;
  if (chosen !== undefined) await (actions[chosen] ?? openSettings)();
}

/** The error's own fix first (a busy port also gets "any free port"), then settings when the caller offers them. */
function offeredFixes(fix: WorkbenchFix | undefined, actions: FixActions): WorkbenchFix[] {
  const fixes: WorkbenchFix[] = [];
  if (fix && (actions[fix] || fix === 'open-settings')) fixes.push(fix);
  if (fix === 'use-another-port' && actions['use-any-port']) fixes.push('use-any-port');
  if (actions['open-settings'] && !fixes.includes('open-settings')) fixes.push('open-settings');
  return fixes;
}
