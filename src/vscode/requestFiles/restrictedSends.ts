import * as vscode from 'vscode';
import { formatEndpoint, isLoopback, parseEndpoint, type Endpoint } from '../../core/endpoint';
import { groupKind } from '../../core/net/groupAddress';
import type { RequestBlock } from '../../core/requests/requestFile';
import { formatCount } from '../../core/stats';
import { countDatagrams } from '../counts';

/** In Restricted Mode, a burst of more datagrams than this asks before it goes out, wherever it goes. */
const CONFIRM_BURSTS_OVER = 1000;

/** Where a block's datagrams go and how many: what a user must see before a click floods someone. */
interface PlannedSend {
  readonly target: Endpoint;
  readonly count: number;
}

/**
 * The block's target (its own, or `settingsTarget`, the udpWorkbench.send.target setting) and count; undefined when
 * the target is unreadable (nothing will be sent).
 */
export function plannedSend(block: RequestBlock, settingsTarget: string): PlannedSend | undefined {
  try {
    return { target: block.target?.value ?? parseEndpoint(settingsTarget), count: block.repeat?.value ?? 1 };
  } catch {
    return undefined;
  }
}

/** "1,000,000 × to 10.0.0.5:53", or "to 10.0.0.5:53" for one datagram. */
export function describePlannedSend({ target, count }: PlannedSend): string {
  const where = vscode.l10n.t('to {0}', formatEndpoint(target));
  return count === 1 ? where : `${formatCount(count)} × ${where}`;
}

/**
 * In a folder VS Code does not trust, a `.udp` file the folder brought could send a flood anywhere with one click.
 * There, a file's first send to a target off this machine (a multicast group or a broadcast address, which reach
 * every listener on the network, always are), and every burst over CONFIRM_BURSTS_OVER, asks first.
 */
export class RestrictedSendGuard {
  /** File and target pairs the user confirmed in this window. */
  private readonly confirmed = new Set<string>();

  /** True when the block may be sent: trusted, harmless, confirmed before, or confirmed now. `signal` stops the asking. */
  async allows(document: vscode.TextDocument, block: RequestBlock, settingsTarget: string, signal: AbortSignal): Promise<boolean> {
    const plan = plannedSend(block, settingsTarget);
    if (vscode.workspace.isTrusted || plan === undefined) return true;
    const key = `${document.uri.toString()}\0${formatEndpoint(plan.target)}`;
    const offMachine = !isLoopback(plan.target.host);
    const large = plan.count > CONFIRM_BURSTS_OVER;
    if (!large && (!offMachine || this.confirmed.has(key))) return true;
    if (signal.aborted) return false;
    const send = vscode.l10n.t('Send');
    const kind = groupKind(plan.target.host);
    const why = [
      kind === 'multicast'
        ? vscode.l10n.t('{0} is a multicast group: every member on the network receives it.', formatEndpoint(plan.target))
        : kind === 'broadcast'
          ? vscode.l10n.t('{0} is a broadcast address: every host on the network segment receives it.', formatEndpoint(plan.target))
          : offMachine
            ? vscode.l10n.t('{0} is not this machine.', formatEndpoint(plan.target))
            : '',
      large ? vscode.l10n.t('A burst of {0} can flood what it reaches.', countDatagrams(plan.count)) : '',
    ].filter(Boolean);
    const answer = vscode.window
      .showWarningMessage(
        vscode.l10n.t('Send {0}?', describePlannedSend(plan)),
        {
          modal: true,
          detail: vscode.l10n.t(
            '"{0}" in {1} asks for it, in a folder VS Code does not trust. {2}',
            block.name,
            document.uri.path.split('/').pop() ?? vscode.l10n.t('this file'),
            why.join(' '),
          ),
        },
        send,
      )
      .then(
        (choice) => choice,
        // A window that cannot show the question (a test host refuses modals) has not said yes.
        () => undefined,
      );
    const cancelled = new Promise<undefined>((resolve) => signal.addEventListener('abort', () => resolve(undefined), { once: true }));
    if ((await Promise.race([answer, cancelled])) !== send) return false;
    if (offMachine) this.confirmed.add(key);
    return true;
  }
}
