import type { Workbench } from '../../core/workbench/workbench';
import type { Command } from '../commandRegistry';
import { Disposable } from '../dispose';
import type { OutputLog } from '../outputLog';
import type { ServerCommands } from '../serverCommands';
import { RequestCodeLenses } from './codeLens';
import { requestCommands } from './commands';
import { RequestDiagnostics } from './diagnostics';
import { RequestRunner } from './runner';

export interface RequestFilesDeps {
  readonly workbench: Workbench;
  readonly log: OutputLog;
  /** Offers "Start Echo Server" when a block's target does not answer. */
  readonly servers: ServerCommands;
}

/** Everything `.udp` request files need in the editor: CodeLenses, diagnostics and the four commands. */
export class RequestFiles extends Disposable {
  readonly commands: readonly Command[];
  /** Sends the blocks and keeps their last results, which the Request files view shows too. */
  readonly runner: RequestRunner;

  constructor({ workbench, log, servers }: RequestFilesDeps) {
    super();
    this.runner = this._register(new RequestRunner(workbench, log, servers));
    this._register(new RequestCodeLenses(this.runner));
    this._register(new RequestDiagnostics());
    this.commands = requestCommands(this.runner, workbench);
  }
}
