import { readFile } from 'node:fs/promises';
import { formatEndpoint, parseEndpoint } from '../core/endpoint';
import { isWorkbenchError, messageOf } from '../core/errors';
import { encodePayload } from '../core/payload';
import { SEND_LIMITS } from '../core/limits';
import { formatMs } from '../core/stats';
import { Workbench } from '../core/workbench/workbench';
import type { Command } from './command';
import { sendDefaults } from './defaults';
import { EXIT, type Terminal } from './terminal';
import { integerOption, parseCommandLine, readOption, UsageError } from './usage';

const OPTIONS = {
  hex: { type: 'string' },
  base64: { type: 'string' },
  file: { type: 'string' },
  timeout: { type: 'string' },
  retries: { type: 'string' },
  backoff: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export const sendCommand: Command = {
  name: 'send',
  summary: 'send one datagram and print the reply',
  help: `Usage: udpw send HOST:PORT [TEXT | --hex HEX | --base64 B64 | --file PATH] [options]

Sends one datagram and waits for the reply, retrying with backoff: the reply's bytes on stdout, the round trip on
stderr. TEXT takes escapes (\\n, \\t, \\xHH); without a payload, stdin is sent.

Options:
  --hex HEX         the bytes in hex ("de ad be ef")
  --base64 B64      the bytes in base64
  --file PATH       the bytes of a file
  --timeout MS      wait this long for the first reply (default 1000)
  --retries N       send again this many times without a reply (default 2)
  --backoff X       each retry waits X times longer (default 2)
  -h, --help        show this help

Exit code: 0 a reply came; 1 none did; 2 a usage mistake.

Examples:
  udpw send 127.0.0.1:12345 hello
  udpw send [::1]:5000 --hex "01 02 ff" --timeout 200 --retries 0`,
  run: send,
};

async function send(args: readonly string[], terminal: Terminal, stop: AbortSignal): Promise<number> {
  const { values, positionals } = parseCommandLine(args, OPTIONS);
  if (values.help) {
    terminal.out.write(`${sendCommand.help}\n`);
    return EXIT.passed;
  }
  const [address, text, ...extra] = positionals;
  if (address === undefined) throw new UsageError('Name where to send: udpw send HOST:PORT hello.');
  if (extra.length > 0) {
    throw new UsageError(`udpw send takes one TEXT; quote text with spaces: udpw send ${address} "${[text, ...extra].join(' ')}".`);
  }
  const target = readOption('HOST:PORT', () => parseEndpoint(address));
  const payload = await payloadOf(text, values);
  const defaults = sendDefaults();
  const backoff = values.backoff === undefined ? defaults.backoff : Number(values.backoff);
  if (!(backoff >= SEND_LIMITS.minBackoff && backoff <= SEND_LIMITS.maxBackoff)) {
    throw new UsageError(
      `--backoff is "${values.backoff}"; it must be a number from ${SEND_LIMITS.minBackoff} to ${SEND_LIMITS.maxBackoff}.`,
    );
  }
  const workbench = new Workbench();
  try {
    const sent = await workbench.send({
      target,
      payload,
      timeoutMs: integerOption('timeout', values.timeout, SEND_LIMITS.minTimeoutMs, SEND_LIMITS.maxTimeoutMs) ?? defaults.timeoutMs,
      retries: integerOption('retries', values.retries, SEND_LIMITS.minRetries, SEND_LIMITS.maxRetries) ?? defaults.retries,
      backoff,
      signal: stop,
    });
    const tries = sent.attempts === 1 ? '1 try' : `${sent.attempts} tries`;
    if (sent.reply === undefined) {
      terminal.err.write(`udpw send: no reply from ${formatEndpoint(sent.target)} after ${tries}\n`);
      return EXIT.failed;
    }
    terminal.out.write(sent.reply);
    terminal.err.write(
      `udpw send: ${sent.reply.length} B from ${sent.from ? formatEndpoint(sent.from) : formatEndpoint(sent.target)} in ${formatMs(sent.rttMs ?? 0)} after ${tries}\n`,
    );
    return EXIT.passed;
  } catch (error) {
    terminal.err.write(`udpw send: ${isWorkbenchError(error) ? error.text : messageOf(error)}\n`);
    return EXIT.failed;
  } finally {
    await workbench.dispose();
  }
}

async function payloadOf(text: string | undefined, values: { hex?: string; base64?: string; file?: string }): Promise<Buffer> {
  const given = [
    text !== undefined && 'TEXT',
    values.hex !== undefined && '--hex',
    values.base64 !== undefined && '--base64',
    values.file !== undefined && '--file',
  ].filter(Boolean);
  if (given.length > 1) throw new UsageError(`Give one payload, not ${given.join(' and ')}.`);
  if (values.hex !== undefined) return readOption('--hex', () => encodePayload(values.hex ?? '', 'hex'));
  if (values.base64 !== undefined) return readOption('--base64', () => encodePayload(values.base64 ?? '', 'base64'));
  if (values.file !== undefined) {
    try {
      return await readFile(values.file);
    } catch (error) {
      throw new UsageError(`--file ${values.file} cannot be read: ${messageOf(error)}`);
    }
  }
  if (text !== undefined) return readOption('TEXT', () => encodePayload(text, 'escaped'));
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
