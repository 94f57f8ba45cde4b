import * as dgram from 'node:dgram';
import { isIPv4Mapped, isWildcard, resolveHost, unmapIPv4 } from '../endpoint';
import { tooManyOpenFiles, WorkbenchError } from '../errors';

export interface BindOptions {
  /** Share the port with other sockets that ask for the same: every multicast listener on this machine hears its groups. */
  readonly reuseAddr?: boolean;
}

/** Resolves `host` and binds the socket(s) a server or proxy listens on. Throws WorkbenchError; nothing is left open when it does. */
export async function bindListenSockets(host: string, port: number, options: BindOptions = {}): Promise<dgram.Socket[]> {
  const resolved = await resolveHost(host);
  // ::ffff:a.b.c.d only ever hears IPv4: bind the IPv4 address itself, so every IPv6 socket can be IPv6-only.
  const mapped = isIPv4Mapped(resolved.address);
  return bindSockets(mapped ? unmapIPv4(resolved.address) : resolved.address, mapped ? 4 : resolved.family, port, options);
}

/**
 * `::` gets an IPv6-only socket and an IPv4 socket on 0.0.0.0 at the same port, never one dual-stack socket:
 * there a genuine IPv4 peer and a native IPv6 packet forged with the source ::ffff:127.0.0.1 look the same,
 * and the forgery would pass for this machine. Apart, an IPv4-mapped source on the IPv6 socket is always forged.
 */
async function bindSockets(address: string, family: 4 | 6, port: number, options: BindOptions): Promise<dgram.Socket[]> {
  if (family === 4 || !isWildcard(address)) return [await bindSocket(family, address, port, options)];
  for (let attempt = 1; ; attempt++) {
    const ipv6 = await bindSocket(6, address, port, options);
    try {
      return [ipv6, await bindSocket(4, '0.0.0.0', ipv6.address().port, options)];
    } catch (error) {
      await closeSocket(ipv6);
      // Port 0: the system picked a port free for IPv6 only; pick again.
      if (port !== 0 || attempt === BIND_ATTEMPTS || (error as WorkbenchError).code !== 'PORT_IN_USE') throw error;
    }
  }
}

const BIND_ATTEMPTS = 10;

/**
 * A listening socket only ever meets numeric addresses (its resolved bind address, and each peer's as the system
 * reported it), and so does a proxy's upstream socket (the upstream is resolved once, at start), so they skip dgram's
 * default lookup, which checks the address again with a regular expression and puts every send off by a tick.
 */
export const numericLookup: NonNullable<dgram.SocketOptions['lookup']> = (address, _options, callback) => callback(null, address, 0);

/** Every IPv6 socket is IPv6-only (see bindSockets). Throws WorkbenchError, and leaves nothing open when it does. */
async function bindSocket(family: 4 | 6, address: string, port: number, { reuseAddr = false }: BindOptions): Promise<dgram.Socket> {
  const socket = dgram.createSocket(
    family === 6 ? { type: 'udp6', ipv6Only: true, lookup: numericLookup, reuseAddr } : { type: 'udp4', lookup: numericLookup, reuseAddr },
  );
  try {
    await bind(socket, address, port);
    return socket;
  } catch (error) {
    socket.close();
    throw bindError(error as NodeJS.ErrnoException, address, port);
  }
}

/** Resolves once closed; a socket already closed (from outside the server) resolves at once. */
export function closeSocket(socket: dgram.Socket): Promise<void> {
  return new Promise((resolve) => {
    try {
      socket.close(resolve);
    } catch {
      resolve();
    }
  });
}

function bind(socket: dgram.Socket, address: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, address, () => {
      socket.off('error', reject);
      resolve();
    });
  });
}

function bindError(error: NodeJS.ErrnoException, address: string, port: number): WorkbenchError {
  const cause = error;
  switch (error.code) {
    case 'EADDRINUSE':
      return new WorkbenchError(
        'PORT_IN_USE',
        `Port ${port} on ${address} is already in use.`,
        'Stop the program using it, or pick another port (0 picks any free one).',
        {
          fix: 'use-another-port',
          cause,
        },
      );
    case 'EACCES':
      return new WorkbenchError(
        'PERMISSION_DENIED',
        `Binding port ${port} on ${address} was not permitted.`,
        'Ports below 1024 need administrator rights, and some systems reserve others: pick another port (0 picks any free one).',
        { fix: 'use-another-port', cause },
      );
    case 'EADDRNOTAVAIL':
      return new WorkbenchError(
        'ADDRESS_NOT_AVAILABLE',
        `${address} is not an address of this machine.`,
        'Bind to 127.0.0.1 or ::1 (this machine only), 0.0.0.0 or :: (every interface), or one of this machine’s own addresses.',
        { fix: 'open-settings', cause },
      );
    case 'EMFILE':
    case 'ENFILE':
      return tooManyOpenFiles(`Could not open a socket for port ${port} on ${address}`, cause);
    default:
      return new WorkbenchError(
        'SOCKET_ERROR',
        `Could not bind port ${port} on ${address}: ${error.message}`,
        'Check the bind address and port settings.',
        {
          fix: 'open-settings',
          cause,
        },
      );
  }
}
