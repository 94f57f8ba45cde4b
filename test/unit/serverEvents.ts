import type { DropReason, Peer, WorkbenchEvent } from '../../src/core/events';

/** Events of one echo server `s` on 127.0.0.1:12345 and one client, as the recorder and the traffic view meet them. */
export const server: Peer = { address: '127.0.0.1', port: 12345, family: 'IPv4' };
export const client: Peer = { address: '127.0.0.1', port: 50000, family: 'IPv4' };

export const started: WorkbenchEvent = { kind: 'server-started', at: 0, serverId: 's', local: server, exposed: false };

export const received = (seq: number, text = `d${seq}`): WorkbenchEvent => ({
  kind: 'received',
  at: 0,
  serverId: 's',
  peer: client,
  payload: Buffer.from(text),
  seq,
});

/** Any reason, a made-up one too: what a newer server may report must not break a view. */
export const dropped = (seq: number, reason: DropReason | string): WorkbenchEvent =>
  ({ kind: 'dropped', at: 0, serverId: 's', peer: client, size: 2, payload: Buffer.from(`d${seq}`), seq, reason }) as WorkbenchEvent;

export const replied = (
  seq: number,
  copy: { delayMs?: number; duplicate?: boolean; reordered?: boolean; truncated?: boolean } = {},
): WorkbenchEvent => ({
  kind: 'replied',
  at: 0,
  serverId: 's',
  peer: client,
  payload: Buffer.from(`r${seq}`),
  seq,
  delayMs: copy.delayMs ?? 0,
  duplicate: copy.duplicate ?? false,
  reordered: copy.reordered ?? false,
  truncated: copy.truncated ?? false,
});

/** Attempt `attempt` of the workbench's send 7 to `target` from `local`. */
export const sent = (attempt: number, target: Peer, local: Peer, text = 'x'): WorkbenchEvent => ({
  kind: 'sent',
  at: 0,
  requestId: 7,
  target,
  payload: Buffer.from(text),
  attempt,
  local,
});
