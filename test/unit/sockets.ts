import * as dgram from 'node:dgram';
import { openResources } from './leaks';

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

/** The UDP sockets this process holds open, counted by the system (its descriptors that are UDP sockets). Linux only. */
export function openUdpSockets(): number {
  return openResources('extension-host').fds.size;
}
