import type * as vscode from 'vscode';
import { formatEndpoint, parseEndpoint } from '../core/endpoint';
import type { WorkbenchEvent } from '../core/events';
import { groupSendOptions } from '../core/send/groupSend';
import { encodePayload, type PayloadEncoding } from '../core/payload';
import type { Workbench } from '../core/workbench/workbench';
import { describeServer, type ServerCommands, type ServerInfo, type StartServerArgs } from './serverCommands';
import { readSettings } from './settings';
import type { GroupSendOptions } from '../core/send/sendRequest';

/** Where to start a server; the rest (replies, simulation) as in the settings unless given. */
export interface StartServerOptions extends StartServerArgs {
  readonly host: string;
  /** 0 picks any free port; the returned ServerInfo says which. */
  readonly port: number;
}

export interface SendOptions {
  /** `host:port`, such as `127.0.0.1:12345`, `[::1]:9000`, or a group: `239.255.255.250:1900`, `[ff02::1%eth0]:5000`. */
  readonly target: string;
  /** Text is encoded as `encoding` says (default: the udpWorkbench.send.encoding setting); bytes go as they are. */
  readonly payload: string | Uint8Array;
  readonly encoding?: PayloadEncoding;
  /** For a multicast group or broadcast target: TTL, loopback, interface and broadcast; default: the send settings. */
  readonly group?: GroupSendOptions;
}

export interface SendOutcome {
  /** The address sent to, as the system resolved it. */
  readonly target: string;
  readonly outcome: 'reply' | 'timeout' | 'sent';
  /** Tries made: the first and the retries the settings allow. */
  readonly attempts: number;
  readonly rttMs?: number;
  readonly reply?: Uint8Array;
  /** Sent to a group or a broadcast address: every reply within the timeout, and how many distinct peers sent them. */
  readonly replies?: ReadonlyArray<{ readonly from: string; readonly rttMs: number; readonly reply: Uint8Array }>;
  readonly peers?: number;
}

/**
 * What `activate` returns to other extensions: start and stop echo servers, list them, send a datagram, and
 * follow everything that happens. Purpose-built on purpose: nothing here exists for our own tests (they use
 * the test-only command in testInternals.ts), so this can stay stable while the inside changes.
 */
export interface UdpWorkbenchApi {
  /** Resolves to the running server, or undefined when it could not start (the user was shown why). */
  startServer(options: StartServerOptions): Promise<ServerInfo | undefined>;
  /** False when no server has that id or address. */
  stopServer(idOrAddress: string): Promise<boolean>;
  /** Resolves to how many were stopped. */
  stopAllServers(): Promise<number>;
  /** The running servers, oldest first. */
  servers(): ServerInfo[];
  /**
   * Sends one datagram with the send settings (timeout, retries, backoff) and waits for its reply. Rejects with a
   * WorkbenchError (`code`, `text`, `hint`) when the target, the payload or the send fails; the log shows it too.
   */
  send(options: SendOptions): Promise<SendOutcome>;
  /** Every event of the servers and sends, as the log and the status bar see them, until the subscription is disposed. */
  subscribe(listener: (event: WorkbenchEvent) => void): vscode.Disposable;
}

export function createApi(workbench: Workbench, servers: ServerCommands): UdpWorkbenchApi {
  return {
    startServer: (options) => servers.start(options),
    stopServer: (idOrAddress) => servers.stop(idOrAddress),
    stopAllServers: () => servers.stopAll(),
    servers: () => workbench.runningServers.map(describeServer),
    send: async ({ target, payload, encoding, group }) => {
      const settings = readSettings().send;
      const bytes = typeof payload === 'string' ? encodePayload(payload, encoding ?? settings.encoding) : Buffer.from(payload);
      const result = await workbench.send({
        target: parseEndpoint(target),
        payload: bytes,
        timeoutMs: settings.timeoutMs,
        retries: settings.retries,
        backoff: settings.backoff,
        group: groupSendOptions(settings, group),
      });
      return {
        target: formatEndpoint(result.target),
        outcome: result.outcome,
        attempts: result.attempts,
        rttMs: result.rttMs,
        reply: result.reply && new Uint8Array(result.reply),
        ...(result.group && {
          replies: result.group.replies.map(({ from, rttMs, payload }) => ({
            from: formatEndpoint(from),
            rttMs,
            reply: new Uint8Array(payload),
          })),
          peers: result.group.peers,
        }),
      };
    },
    subscribe: (listener) => workbench.events.subscribe(listener),
  };
}
