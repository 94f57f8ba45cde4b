import * as vscode from 'vscode';
import { isLoopback } from '../core/endpoint';
import { describeMembership } from '../core/net/groupMembership';
import type { GroupMembership } from '../core/configuration';

/** What would listen: an echo server answers whoever sends, a proxy lets them through to its upstream server. */
export type Listener = 'server' | 'proxy';

/** Each keeps its own list: a yes for a server's address is no yes for a proxy there. */
const CONFIRMED_KEYS: Record<Listener, string> = {
  server: 'udpWorkbench.confirmedExposedAddresses',
  proxy: 'udpWorkbench.confirmedExposedProxyAddresses',
};

/**
 * Whether a server or proxy may listen on `host`: yes at once for a loopback address, one the user confirmed
 * before, or when the caller confirmed it (`confirmExposed` in a command's args); else a modal question, once per
 * address, whose yes is remembered. A server that joins multicast `groups` says so in its question.
 */
export async function mayListenOn(
  state: vscode.Memento,
  listener: Listener,
  host: string,
  confirmedByCaller = false,
  groups: readonly GroupMembership[] = [],
): Promise<boolean> {
  if (isLoopback(host) || confirmedByCaller) return true;
  const key = CONFIRMED_KEYS[listener];
  const confirmed = state.get<string[]>(key, []);
  if (confirmed.includes(host)) return true;
  const question =
    listener === 'server' && groups.length > 0
      ? {
          text: vscode.l10n.t('Listen on {0} for {1}?', host, groups.map(describeMembership).join(', ')),
          detail: vscode.l10n.t(
            'A group listener binds every interface: other machines that can reach this one will be able to send to it, and in a reply mode other than "Listen only" it will answer them.',
          ),
          yes: vscode.l10n.t('Bind to {0}', host),
        }
      : listener === 'server'
        ? {
            text: vscode.l10n.t('Bind the echo server to {0}?', host),
            detail: vscode.l10n.t(
              'Other machines that can reach this one will be able to send to it, and it will answer them. 127.0.0.1 keeps it on this machine.',
            ),
            yes: vscode.l10n.t('Bind to {0}', host),
          }
        : {
            text: vscode.l10n.t('Let the impairment proxy listen on {0}?', host),
            detail: vscode.l10n.t(
              'Other machines that can reach this one will be able to send through it to the upstream server. 127.0.0.1 keeps it on this machine.',
            ),
            yes: vscode.l10n.t('Listen on {0}', host),
          };
  const choice = await vscode.window.showWarningMessage(question.text, { modal: true, detail: question.detail }, question.yes);
  if (choice !== question.yes) return false;
  await state.update(key, [...confirmed, host]);
  return true;
}
