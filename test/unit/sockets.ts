import * as dgram from 'node:dgram';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** The dgram sockets bound to a port in this process, found the way any other code in the process could reach them. */
export function socketsOn(port: number): dgram.Socket[] {
  const handles = (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles();
  return handles.filter((handle): handle is dgram.Socket => handle instanceof dgram.Socket && boundPort(handle) === port);
}

function boundPort(socket: dgram.Socket): number | undefined {
  try {
    return socket.address().port;
  } catch {
    // Closed already, still on its way out of the list.
    return undefined;
  }
}

/**
 * The UDP sockets this process holds open, counted by the system: its descriptors that are sockets (/proc/self/fd)
 * whose inode is a UDP socket's (/proc/net/udp, udp6). Linux only.
 */
export function openUdpSockets(): number {
  const udpInodes = new Set<string>();
  for (const table of ['/proc/net/udp', '/proc/net/udp6']) {
    // The inode is the 10th column of each row after the header.
    for (const row of readFileSync(table, 'utf8').trim().split('\n').slice(1)) udpInodes.add(row.trim().split(/\s+/)[9]);
  }
  let count = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const inode = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/self/fd/${fd}`))?.[1];
      if (inode !== undefined && udpInodes.has(inode)) count++;
    } catch {
      // Closed while we looked (the descriptor readdir itself used, among others).
    }
  }
  return count;
}
