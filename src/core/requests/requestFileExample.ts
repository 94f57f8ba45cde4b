import { templateLiterals } from '../server/template';
import type { ReplyMode } from '../configuration';

/** How the server the example is aimed at replies: the running server's settings, or those a new one gets. */
export interface ExampleReply {
  readonly mode: ReplyMode;
  readonly template?: string;
}

/**
 * The example a new `.udp` file starts with: one block per thing the format does, all aimed at one echo
 * server, each expecting what that server sends back in its reply mode, so that "Run All" passes as soon
 * as the server is running there.
 */
export function exampleRequestFile(target: string, reply: ExampleReply = { mode: 'mirror' }): string {
  const expects = expectations(reply);
  const listens = reply.mode === 'none';
  const blocks = [
    block('hello', expects.hello, 'hello from UDP Workbench, datagram {{$seq}}'),
    block('heartbeat with a deadline', ['@timeout 500', listens ? '@expect none' : '@retries 2'], 'ping {{$seq}} at {{$timestamp}}'),
    block('binary', ['@encoding hex', ...expects.binary], 'de ad be ef'),
  ];
  // A burst matches each reply to its datagram by the bytes it sent, so only a mirroring server can answer one.
  if (reply.mode === 'mirror') {
    blocks.push(block('packet loss: a burst of 1000 datagrams at 200/s', ['@repeat 1000', '@rate 200/s', '@timeout 500'], 'ping'));
  }
  return `# Datagram blocks, separated by ### lines. Click "Send" above a block, or press Ctrl+Alt+U inside it.
# Headers: @target, @encoding (utf8 | hex | base64), @timeout, @retries, @expect, @repeat, @rate.
# Built-ins: {{$seq}}, {{$timestamp}}, {{$uuid}}, {{$randomInt min max}}. Comments start with # or //.
${expects.about.map((line) => `# ${line}`).join('\n')}
@server = ${target}
${blocks.join('')}`;
}

function block(name: string, headers: readonly string[], payload: string): string {
  return `\n### ${name}\n@target {{server}}\n${headers.map((header) => `${header}\n`).join('')}${payload}\n`;
}

interface Expectations {
  /** Comment lines saying what the server sends back, and so what the blocks expect. */
  readonly about: readonly string[];
  readonly hello: readonly string[];
  readonly binary: readonly string[];
}

function expectations(reply: ExampleReply): Expectations {
  switch (reply.mode) {
    case 'mirror':
      return {
        about: ['The echo server there sends each datagram back as it came: the blocks expect their own bytes.'],
        hello: ['@expect contains "hello"'],
        binary: ['@expect size 4'],
      };
    case 'template': {
      const fixed = reply.template === undefined ? undefined : fixedText(reply.template);
      const expect = fixed === undefined ? [] : [`@expect contains "${fixed}"`];
      return {
        about: [
          `The echo server there replies with its template ${JSON.stringify(reply.template ?? '')}: ${fixed === undefined ? 'any reply passes' : 'the blocks expect its fixed text'}.`,
          'A burst (@repeat) needs a server in mirror mode, which sends each datagram back as it came.',
        ],
        hello: expect,
        binary: expect,
      };
    }
    case 'none':
      return {
        about: [
          'The echo server there only listens (reply mode "none"): the blocks expect no reply.',
          'Switch it to mirror to see replies, round trips and a packet-loss burst.',
        ],
        hello: ['@timeout 500', '@expect none'],
        binary: ['@timeout 500', '@expect none'],
      };
  }
}

/**
 * Text every reply from the template contains, that can be quoted in `@expect contains "…"` as it is: the
 * longest stretch of its fixed text without quotes, backslashes, control characters or `{{`.
 */
function fixedText(template: string): string | undefined {
  let literals: Buffer[];
  try {
    literals = templateLiterals(template);
  } catch {
    return undefined; // a template the server would refuse: the example expects nothing of it
  }
  const stretches = literals
    .flatMap((literal) => literal.toString('utf8').split(/["\\\p{Cc}\u2028\u2029]|\{\{|\}\}/u))
    .map((text) => text.trim());
  const longest = stretches.reduce((best, text) => (text.length > best.length ? text : best), '');
  return longest === '' ? undefined : longest;
}
