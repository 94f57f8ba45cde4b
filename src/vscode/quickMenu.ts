import * as vscode from 'vscode';
import type { Workbench } from '../core/workbench';
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
    { label: '$(output) Show Log', command: 'udpWorkbench.showLog' },
    { label: '$(pulse) Show Traffic', description: 'packet list and charts', command: 'udpWorkbench.showTraffic' },
    { label: '$(send) Send Selection', command: 'udpWorkbench.sendSelection' },
    { label: '$(send) Send Selection To…', command: 'udpWorkbench.sendSelectionTo' },
    { label: '$(play) Start Echo Server', description: running ? 'another one' : undefined, command: 'udpWorkbench.startServer' },
    {
      label: '$(arrow-swap) Start Impairment Proxy',
      description: 'your client and server under a bad network',
      command: 'udpWorkbench.startProxy',
    },
  ];
  if (proxying) items.push({ label: '$(debug-stop) Stop Impairment Proxy', command: 'udpWorkbench.stopProxy' });
  if (running || proxying) {
    items.push({
      label: '$(settings-gear) Configure Simulation',
      description: 'loss, delay, jitter, duplication, reordering',
      command: 'udpWorkbench.configureSimulation',
    });
  }
  if (running) {
    items.push(
      { label: '$(debug-stop) Stop Echo Server', command: 'udpWorkbench.stopServer' },
      { label: '$(close-all) Stop All Servers', command: 'udpWorkbench.stopAllServers' },
    );
  }
  items.push(
    capturing
      ? { label: '$(debug-stop) Stop Capture', description: 'close the capture file', command: 'udpWorkbench.stopCapture' }
      : { label: '$(record) Start Capture to File', description: 'every datagram, for Wireshark', command: 'udpWorkbench.startCapture' },
    { label: '$(save) Save Capture…', description: 'recent datagrams as .pcapng', command: 'udpWorkbench.saveCapture' },
  );
  const picked = await vscode.window.showQuickPick(items, { placeHolder: 'UDP Workbench' });
  if (picked) await vscode.commands.executeCommand(picked.command);
}
