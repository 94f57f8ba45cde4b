// @ts-check
// UDP on 127.0.0.1 from the test process, beside the workbench: ports for the scenarios to use,
// and checks of what the extension's servers do.
import dgram from 'node:dgram';

/**
 * A UDP port nothing uses right now.
 * @returns {Promise<number>}
 */
export function freeUdpPort() {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket('udp4');
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => {
      const { port } = socket.address();
      socket.close(() => resolve(port));
    });
  });
}

/**
 * One try, no retry: true when 127.0.0.1:port could be bound (and is released again).
 * @param {number} port
 * @returns {Promise<boolean>}
 */
export function canBind(port) {
  return new Promise((resolve) => {
    const socket = dgram.createSocket('udp4');
    socket.once('error', () => {
      socket.close();
      resolve(false);
    });
    socket.bind(port, '127.0.0.1', () => socket.close(() => resolve(true)));
  });
}

/**
 * The reply from 127.0.0.1:port, or undefined after a second.
 * @param {number} port
 * @param {string | Buffer} text
 * @returns {Promise<string | undefined>}
 */
export function echo(port, text) {
  return new Promise((resolve) => {
    const socket = dgram.createSocket('udp4');
    const timer = setTimeout(() => finish(undefined), 1000);
    /** @param {string | undefined} reply */
    const finish = (reply) => {
      clearTimeout(timer);
      socket.close();
      resolve(reply);
    };
    socket.on('message', (message) => finish(message.toString('utf8')));
    socket.send(text, port, '127.0.0.1');
  });
}
