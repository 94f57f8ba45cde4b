import * as vscode from 'vscode';
import type { Workbench } from '../../core/workbench';
import type { OutputLog } from '../outputLog';
import type { ServerCommands } from '../serverCommands';
import { RequestCodeLenses } from './codeLens';
import { registerRequestCommands } from './commands';
import { RequestDiagnostics } from './diagnostics';
import { RequestRunner } from './runner';

export interface RequestFilesDeps {
  readonly workbench: Workbench;
  readonly log: OutputLog;
  /** Offers "Start Echo Server" when a block's target does not answer. */
  readonly servers: ServerCommands;
}

/** Everything `.udp` request files need in the editor: CodeLenses, diagnostics and the four commands. */
export function registerRequestFiles({ workbench, log, servers }: RequestFilesDeps): vscode.Disposable {
  const runner = new RequestRunner(workbench, log, servers);
  const lenses = new RequestCodeLenses(runner);
  return vscode.Disposable.from(
    registerRequestCommands(runner, workbench),
    vscode.languages.registerCodeLensProvider({ language: 'udp' }, lenses),
    lenses,
    new RequestDiagnostics(),
    runner,
  );
}
