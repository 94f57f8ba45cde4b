import type * as vscode from 'vscode';
import type { Workbench } from '../../core/workbench/workbench';
import type { Command } from '../commandRegistry';
import { Disposable } from '../dispose';
import type { HostPlace } from '../remoteWindow';
import type { RequestRunner } from '../requestFiles/runner';
import { RequestFilesView } from './requestFilesView';
import { ServersView } from './serversView';
import { TargetsView } from './targetsView';
import { WalkthroughProgress } from './walkthrough';

export interface UdpViewsDeps {
  readonly workbench: Workbench;
  /** Where the Targets view keeps pinned and named targets, beside the recent ones. */
  readonly state: vscode.Memento;
  /** Where the Request files view keeps the last results of this workspace's blocks. */
  readonly workspaceState: vscode.Memento;
  readonly runner: RequestRunner;
  readonly place: HostPlace;
}

/** The UDP view container's trees (Servers, Targets, Request files) and the Get Started walkthrough's progress. */
export class UdpViews extends Disposable {
  readonly servers: ServersView;
  readonly targets: TargetsView;
  readonly requestFiles: RequestFilesView;
  readonly walkthrough: WalkthroughProgress;
  readonly commands: readonly Command[];

  constructor({ workbench, state, workspaceState, runner, place }: UdpViewsDeps) {
    super();
    this.servers = this._register(new ServersView(workbench, place));
    this.targets = this._register(new TargetsView(workbench, state));
    this.requestFiles = this._register(new RequestFilesView(runner, workspaceState));
    this.walkthrough = this._register(new WalkthroughProgress(workbench, runner));
    this.commands = [...this.servers.commands, ...this.targets.commands, ...this.requestFiles.commands, ...this.walkthrough.commands];
  }
}
