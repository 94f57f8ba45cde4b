import * as vscode from 'vscode';
import type { Workbench } from '../core/workbench/workbench';
import { presentError } from './errorMessages';
import type { OutputLog } from './outputLog';
import { onDidChangeSettings, openSettings } from './settings';

/**
 * Applies changed settings at once: the log's preview, and on every running server its replies,
 * simulation and protection — the Settings editor is one more way to reconfigure a running server.
 * Each server announces its change on the event stream, which the log and the status bar show.
 */
export function applySettingsLive(workbench: Workbench, log: OutputLog): vscode.Disposable {
  return onDidChangeSettings((settings, changed) => {
    log.applySettings(settings);
    for (const server of workbench.runningServers) {
      try {
        if (changed('server.replyMode') || changed('server.template')) server.setReply(settings.server.replyMode, settings.server.template);
        if (changed('simulation')) server.configureSimulation(settings.simulation);
        if (changed('server.rateLimitPerSecond') || changed('server.rateLimitBurst') || changed('server.allowAmplification')) {
          server.configureProtection(settings.server.rateLimit, settings.server.allowAmplification);
        }
      } catch (error) {
        void presentError(error, log, { 'open-settings': openSettings });
      }
    }
  });
}
