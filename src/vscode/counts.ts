import * as vscode from 'vscode';
import { formatCount } from '../core/stats';

// Every count shown to the user goes through one of these: core's plural() is English only (it writes the log), and
// languages count differently, so each noun is one translatable pair.

/** "1 byte", "1,500 bytes". */
export function countBytes(count: number): string {
  return count === 1 ? vscode.l10n.t('1 byte') : vscode.l10n.t('{0} bytes', formatCount(count));
}

/** "1 datagram", "1,000 datagrams". */
export function countDatagrams(count: number): string {
  return count === 1 ? vscode.l10n.t('1 datagram') : vscode.l10n.t('{0} datagrams', formatCount(count));
}

/** "1 older datagram", "12 older datagrams": those a full buffer let go. */
export function countOlderDatagrams(count: number): string {
  return count === 1 ? vscode.l10n.t('1 older datagram') : vscode.l10n.t('{0} older datagrams', formatCount(count));
}

/** "1 peer", "3 peers": the members of a group that answered. */
export function countPeers(count: number): string {
  return count === 1 ? vscode.l10n.t('1 peer') : vscode.l10n.t('{0} peers', formatCount(count));
}

/** "1 session", "4 sessions": a proxy's clients. */
export function countSessions(count: number): string {
  return count === 1 ? vscode.l10n.t('1 session') : vscode.l10n.t('{0} sessions', formatCount(count));
}

/** "1 server", "3 servers": echo servers and group listeners. */
export function countServers(count: number): string {
  return count === 1 ? vscode.l10n.t('1 server') : vscode.l10n.t('{0} servers', formatCount(count));
}

/** "1 proxy", "2 proxies". */
export function countProxies(count: number): string {
  return count === 1 ? vscode.l10n.t('1 proxy') : vscode.l10n.t('{0} proxies', formatCount(count));
}

/** "1 try", "3 tries": a send's attempts. */
export function countTries(count: number): string {
  return count === 1 ? vscode.l10n.t('1 try') : vscode.l10n.t('{0} tries', formatCount(count));
}
