import * as vscode from 'vscode';
import { formatCount } from '../core/stats';

/** "1 byte", "1,500 bytes": core's plural() is English only, and languages count differently. */
export function countBytes(count: number): string {
  return count === 1 ? vscode.l10n.t('1 byte') : vscode.l10n.t('{0} bytes', formatCount(count));
}

/** "1 datagram", "1,000 datagrams". */
export function countDatagrams(count: number): string {
  return count === 1 ? vscode.l10n.t('1 datagram') : vscode.l10n.t('{0} datagrams', formatCount(count));
}

/** "1 peer", "3 peers": the members of a group that answered. */
export function countPeers(count: number): string {
  return count === 1 ? vscode.l10n.t('1 peer') : vscode.l10n.t('{0} peers', formatCount(count));
}
