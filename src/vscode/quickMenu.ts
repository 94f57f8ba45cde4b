import * as vscode from 'vscode';
import type { Workbench } from '../core/workbench/workbench';
import type { Command } from './commandRegistry';

/** The status bar item's click; `capturing` says whether a capture runs now. */
export function quickMenuCommand(workbench: Workbench, capturing: () => boolean): Command {
  return { id: 'udpWorkbench.showMenu', execute: () => showQuickMenu(workbench, capturing()) };
}

/** The few things users want next, depending on whether servers run. */
async function showQuickMenu(workbench: Workbench, capturing: boolean): Promise<void> {
  const running = workbench.runningServers.length > 0;
  const proxying = workbench.runningProxies.length > 0;
  const items: Array<vscode.QuickPickItem & { command: string }> = [
    { label: vscode.l10n.t('$(output) Show Log'), command: 'udpWorkbench.showLog' },
    {
      label: vscode.l10n.t('$(pulse) Show Traffic'),
      description: vscode.l10n.t('packet list and charts'),
      command: 'udpWorkbench.showTraffic',
    },
    { label: vscode.l10n.t('$(send) Send Selection'), command: 'udpWorkbench.sendSelection' },
    { label: vscode.l10n.t('$(send) Send Selection To…'), command: 'udpWorkbench.sendSelectionTo' },
    {
      label: vscode.l10n.t('$(play) Start Echo Server'),
      description: running ? vscode.l10n.t('another one') : undefined,
      command: 'udpWorkbench.startServer',
    },
    {
      label: vscode.l10n.t('$(broadcast) Join Multicast Group…'),
      description: vscode.l10n.t('listen to a group, such as 239.1.2.3:5000'),
      command: 'udpWorkbench.joinGroup',
    },
    {
      label: vscode.l10n.t('$(arrow-swap) Start Impairment Proxy'),
      description: vscode.l10n.t('your client and server under a bad network'),
      command: 'udpWorkbench.startProxy',
    },
  ];
  if (proxying) items.push({ label: vscode.l10n.t('$(debug-stop) Stop Impairment Proxy'), command: 'udpWorkbench.stopProxy' });
  if (running || proxying) {
    items.push({
      label: vscode.l10n.t('$(settings-gear) Configure Simulation'),
      description: vscode.l10n.t('loss, delay, jitter, duplication, reordering'),
      command: 'udpWorkbench.configureSimulation',
    });
  }
  if (running) {
    items.push(
      { label: vscode.l10n.t('$(debug-stop) Stop Echo Server'), command: 'udpWorkbench.stopServer' },
      { label: vscode.l10n.t('$(close-all) Stop All Servers'), command: 'udpWorkbench.stopAllServers' },
    );
  }
  items.push(
    capturing
      ? {
          label: vscode.l10n.t('$(debug-stop) Stop Capture'),
          description: vscode.l10n.t('close the capture file'),
          command: 'udpWorkbench.stopCapture',
        }
      : {
          label: vscode.l10n.t('$(record) Start Capture to File'),
          description: vscode.l10n.t('every datagram, for Wireshark'),
          command: 'udpWorkbench.startCapture',
        },
    {
      label: vscode.l10n.t('$(save) Save Capture…'),
      description: vscode.l10n.t('recent datagrams as .pcapng'),
      command: 'udpWorkbench.saveCapture',
    },
  );
  const picked = await vscode.window.showQuickPick(items, { placeHolder: vscode.l10n.t('UDP Workbench') });
  if (picked) await vscode.commands.executeCommand(picked.command);
}
