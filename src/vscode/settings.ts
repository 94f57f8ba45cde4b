import * as vscode from 'vscode';
import type { PayloadEncoding } from '../core/payload';
import type { RateLimitSettings, ReplyMode, SimulationSettings } from '../core/configuration';

export const SECTION = 'udpWorkbench';

export type HexDumpMode = 'auto' | 'always' | 'never';

/** Settings are read once per operation (a send, a start, a run) and handed down: see readSettings. */
export interface WorkbenchSettings {
  readonly server: {
    readonly bindAddress: string;
    readonly port: number;
    readonly replyMode: ReplyMode;
    readonly template: string;
    readonly autoStart: boolean;
    /** False when the per-peer limit is off. */
    readonly rateLimit: RateLimitSettings | false;
    readonly allowAmplification: boolean;
    /** Bytes; 0 keeps the system's default. */
    readonly recvBufferSize: number;
    readonly sendBufferSize: number;
  };
  readonly simulation: SimulationSettings;
  readonly send: {
    readonly target: string;
    readonly encoding: PayloadEncoding;
    readonly timeoutMs: number;
    readonly retries: number;
    readonly backoff: number;
    readonly allowBroadcast: boolean;
    readonly multicastTtl: number;
    readonly multicastLoopback: boolean;
    /** Empty: the system's choice. */
    readonly multicastInterface: string;
  };
  readonly log: {
    readonly previewBytes: number;
    readonly hexDump: HexDumpMode;
  };
  readonly capture: {
    readonly bufferSize: number;
  };
  readonly proxy: {
    readonly listenAddress: string;
    readonly upstream: string;
    readonly idleTimeoutMs: number;
    readonly maxSessions: number;
  };
}

/** What a send goes out with: every datagram of one send, or every block of one run, uses the same snapshot. */
export type SendSettings = WorkbenchSettings['send'];

/**
 * The one place settings are read. Defaults live in package.json only: `get` without a default
 * returns the contributed default. In an untrusted workspace VS Code itself ignores the folder's
 * values of the restricted settings (bind address, port, auto-start, target).
 */
export function readSettings(): WorkbenchSettings {
  const config = vscode.workspace.getConfiguration(SECTION);
  const get = <T>(key: string): T => config.get<T>(key) as T;
  const percent = (key: string): number => get<number>(key) / 100;
  return {
    server: {
      bindAddress: get('server.bindAddress'),
      port: get('server.port'),
      replyMode: get('server.replyMode'),
      template: get('server.template'),
      autoStart: get('server.autoStart'),
      rateLimit: rateLimit(get('server.rateLimitPerSecond'), get('server.rateLimitBurst')),
      allowAmplification: get('server.allowAmplification'),
      recvBufferSize: get('server.recvBufferSize'),
      sendBufferSize: get('server.sendBufferSize'),
    },
    simulation: {
      seed: get('simulation.seed'),
      dropInbound: percent('simulation.dropInboundPercent'),
      dropOutbound: percent('simulation.dropOutboundPercent'),
      delayMs: get('simulation.delayMs'),
      jitterMs: get('simulation.jitterMs'),
      duplicate: percent('simulation.duplicatePercent'),
      reorder: percent('simulation.reorderPercent'),
    },
    send: {
      target: get('send.target'),
      encoding: get('send.encoding'),
      timeoutMs: get('send.timeoutMs'),
      retries: get('send.retries'),
      backoff: get('send.backoff'),
      allowBroadcast: get('send.allowBroadcast'),
      multicastTtl: get('send.multicastTtl'),
      multicastLoopback: get('send.multicastLoopback'),
      multicastInterface: get('send.multicastInterface'),
    },
    log: {
      previewBytes: get('log.previewBytes'),
      hexDump: get('log.hexDump'),
    },
    capture: {
      bufferSize: get('capture.bufferSize'),
    },
    proxy: {
      listenAddress: get('proxy.listenAddress'),
      upstream: get('proxy.upstream'),
      idleTimeoutMs: get<number>('proxy.idleTimeoutSeconds') * 1000,
      maxSessions: get('proxy.maxSessions'),
    },
  };
}

function rateLimit(perSecond: number, burst: number): RateLimitSettings | false {
  return perSecond > 0 ? { perSecond, burst, exemptLoopback: true } : false;
}

/** Calls `listener` with fresh settings whenever one of ours changes; `changed('server.template')` says which. */
export function onDidChangeSettings(listener: (settings: WorkbenchSettings, changed: (key: string) => boolean) => void): vscode.Disposable {
  return vscode.workspace.onDidChangeConfiguration((event) => {
    if (event.affectsConfiguration(SECTION)) listener(readSettings(), (key) => event.affectsConfiguration(`${SECTION}.${key}`));
  });
}

export function openSettings(): Thenable<unknown> {
  return vscode.commands.executeCommand('workbench.action.openSettings', `@ext:udp-workbench.udp-workbench`);
}
