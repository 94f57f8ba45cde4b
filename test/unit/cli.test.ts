import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parse as parseJunit } from 'junit2json';
import { parseRequestFile } from '../../src/core/requests/requestFile';
import { buildCli, REPO, startListening, udpw, UdpwProcess } from './cliProcess';
import { PythonEchoServer, runPythonClients } from './proxyPrograms';
import { readCapture } from './tshark';

const FIXTURES = path.join(REPO, 'test', 'unit', 'fixtures');

function python(args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile('python3', args, { timeout: 30_000 }, (error, stdout) => (error ? reject(error) : resolve(stdout))),
  );
}

describe('udpw, the command line (the built dist/cli.js in its own process, on loopback)', function () {
  this.timeout(60_000);
  let dir: string;
  const write = (name: string, text: string): string => {
    const file = path.join(dir, name);
    writeFileSync(file, text);
    return file;
  };
  const running: UdpwProcess[] = [];
  async function echo(args: readonly string[] = []): Promise<number> {
    const started = await startListening(['echo', '127.0.0.1:0', ...args]);
    running.push(started.process);
    return started.port;
  }

  before(() => {
    buildCli();
    dir = mkdtempSync(path.join(tmpdir(), 'udpw-cli-'));
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((process) => process.interrupt()));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const checks = `@greeting = hello

### greets
@target {{target}}
@expect contains "hello"
{{greeting}} world

### answers exactly
@target {{target}}
@expect equals "ping"
ping
`;

  describe('run', () => {
    it('exits 0 when every block passed, and prints each result as the editor logs it', async () => {
      const port = await echo();
      const file = write('pass.udp', checks);
      const { code, stdout } = await udpw(['run', file, '--var', `target=127.0.0.1:${port}`]);
      assert.equal(code, 0, stdout);
      assert.match(stdout, /\[greets\] ✓ 11 B in [\d.]+ ms: reply contains "hello"/);
      assert.match(stdout, /\[answers exactly\] ✓ 4 B in [\d.]+ ms: reply equals "ping"/);
      assert.match(stdout, /2 blocks: 2 passed, 0 failed, 0 timed out/);
    });

    it('--var replaces a file variable wherever it is used: payload and header', async () => {
      const port = await echo();
      const file = write('var.udp', checks);
      const { code, stdout } = await udpw(['run', file, '--var', `target=127.0.0.1:${port}`, '--var', 'greeting=goodbye']);
      assert.equal(code, 1, stdout);
      assert.match(stdout, /\[greets\] ✗ expectation failed: expected a reply that contains "hello", got 13 B: "goodbye world"/);
    });

    it('exits 1 when a block fails, and its JUnit report (read by a JUnit parser) has one suite per file, one case per block, expected and received', async () => {
      const port = await echo();
      const passing = write('a.udp', checks);
      const failing = write('b.udp', checks.replace('@expect equals "ping"', '@expect equals "pong"'));
      const report = path.join(dir, 'report.xml');
      const { code, stdout } = await udpw([
        'run',
        passing,
        failing,
        '--var',
        `target=127.0.0.1:${port}`,
        '--reporter',
        'junit',
        '--out',
        report,
      ]);
      assert.equal(code, 1, stdout);
      const parsed = await parseJunit(readFileSync(report, 'utf8'));
      assert.ok(parsed && 'testsuite' in parsed && parsed.testsuite, 'a <testsuites> root');
      assert.equal(parsed.tests, 4);
      assert.equal(parsed.failures, 1);
      assert.deepEqual(
        parsed.testsuite.map((suite) => [suite.name, suite.tests, suite.failures, suite.testcase?.map((test) => test.name)]),
        [
          [passing, 2, 0, ['greets', 'answers exactly']],
          [failing, 2, 1, ['greets', 'answers exactly']],
        ],
      );
      const failed = parsed.testsuite[1].testcase?.[1];
      assert.equal(failed?.classname, failing);
      assert.equal(failed?.failure?.[0].message, 'expected a reply that equals "pong", got 4 B: "ping"');
      assert.match(failed?.failure?.[0].inner ?? '', /^expected: a reply that equals "pong"\nreceived: 4 B: "ping"\n/);
      assert.equal(parsed.testsuite[0].testcase?.[0].failure, undefined);
    });

    it('exits 1 when a reply never comes (timeout), and --timeout sets how long a block without @timeout waits', async () => {
      const port = await echo(['--reply', 'none']);
      const file = write('silent.udp', `### silent\n@target 127.0.0.1:${port}\n@retries 0\nhello\n`);
      const started = performance.now();
      const { code, stdout } = await udpw(['run', file, '--timeout', '300', '--reporter', 'json']);
      assert.equal(code, 1, stdout);
      const report = JSON.parse(stdout) as { passed: boolean; files: Array<{ blocks: Array<{ outcome: string; detail: string }> }> };
      assert.equal(report.passed, false);
      assert.equal(report.files[0].blocks[0].outcome, 'timeout');
      assert.ok(performance.now() - started < 10_000);
    });

    it('--bail stops at the first block that does not pass', async () => {
      const port = await echo();
      const file = write('bail.udp', checks.replace('@expect contains "hello"', '@expect contains "nope"'));
      const { code, stdout } = await udpw(['run', file, '--var', `target=127.0.0.1:${port}`, '--bail', '--reporter', 'tap']);
      assert.equal(code, 1);
      assert.match(stdout, /^TAP version 13\n1\.\.1\nnot ok 1 - .*bail\.udp › greets\n/);
      assert.doesNotMatch(stdout, /answers exactly/);
    });

    it('exits 2 for a file with errors, printed as file:line:column: message in the words of the editor, and sends nothing', async () => {
      const port = await echo();
      const text = `### broken\n@target 127.0.0.1:${port}\n@tiemout 100\nhello\n`;
      const file = write('broken.udp', text);
      const { code, stderr } = await udpw(['run', file]);
      assert.equal(code, 2);
      const [problem] = parseRequestFile(text).problems;
      assert.ok(stderr.includes(`${file}:3:1: ${problem.message}\n`), stderr);
      const stopped = await running[0].interrupt();
      assert.match(stopped.stdout, /udpw echo: 0 received/);
    });

    it('exits 2 for a file that cannot be read, a glob that finds nothing and a usage mistake, saying which', async () => {
      const missing = await udpw(['run', path.join(dir, 'missing.udp')]);
      assert.equal(missing.code, 2);
      assert.match(missing.stderr, /missing\.udp: cannot be read: ENOENT/);
      const glob = await udpw(['run', path.join(dir, 'none', '*.udp')]);
      assert.equal(glob.code, 2);
      assert.match(glob.stderr, /No file matches/);
      const unknown = await udpw(['run', '--colour', 'x.udp']);
      assert.equal(unknown.code, 2);
      assert.match(unknown.stderr, /Unknown option '--colour'/);
      const reporter = await udpw(['run', 'x.udp', '--reporter', 'xml']);
      assert.equal(reporter.code, 2);
      assert.match(reporter.stderr, /--reporter is "xml"; use one of pretty, junit, json, tap/);
      const command = await udpw(['frobnicate']);
      assert.equal(command.code, 2);
      assert.match(command.stderr, /unknown command "frobnicate"/);
    });

    it('expands a glob itself, in sorted order', async () => {
      const port = await echo();
      write('g2.udp', checks);
      write('g1.udp', checks);
      const { code, stdout } = await udpw(['run', 'g*.udp', '--var', `target=127.0.0.1:${port}`, '--reporter', 'json'], { cwd: dir });
      assert.equal(code, 0, stdout);
      assert.deepEqual(
        (JSON.parse(stdout) as { files: Array<{ file: string }> }).files.map(({ file }) => file),
        ['g1.udp', 'g2.udp'],
      );
    });

    it('Ctrl-C in the middle of a burst stops it, prints how far it got and the summary, and exits 1', async () => {
      const port = await echo();
      const file = write(
        'burst.udp',
        `### long burst\n@target 127.0.0.1:${port}\n@repeat 1000000\n@rate 2000/s\nhello\n\n### never sent\n@target 127.0.0.1:${port}\nhi\n`,
      );
      const run = new UdpwProcess(['run', file]);
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const { code, stdout, stderr } = await run.interrupt();
      assert.equal(code, 1, stderr);
      assert.match(stdout, /\[long burst\] ⊘ cancelled after [\d,]+ of 1,000,000 sent/);
      assert.match(stdout, /1 block: 0 passed, 0 failed, 0 timed out, 1 cancelled/);
      assert.doesNotMatch(stdout, /never sent/);
      assert.match(stderr, /SIGINT: stopping/);
    });

    it('--capture writes what the run sent and received to a pcapng file that Wireshark reads', async () => {
      const port = await echo();
      const file = write('capture.udp', checks);
      const capture = path.join(dir, 'run.pcapng');
      const { code, stderr } = await udpw(['run', file, '--var', `target=127.0.0.1:${port}`, '--capture', capture]);
      assert.equal(code, 0, stderr);
      assert.match(stderr, /capture .*run\.pcapng: 4 datagrams/);
      const payloads = readCapture(capture).map((packet) => Buffer.from(packet.payload, 'hex').toString());
      assert.deepEqual(payloads, ['hello world', 'hello world', 'ping', 'ping']);
    });
  });

  describe('echo', () => {
    it("answers the tutorial's Python client with Data received: …, logs it and sums up on Ctrl-C", async () => {
      const started = await startListening(['echo', '127.0.0.1:0', '--reply', 'template']);
      const replies = await python([path.join(FIXTURES, 'tutorialClient.py'), '127.0.0.1', String(started.port), 'hello', 'world']);
      assert.equal(replies, 'Data received: hello\nData received: world\n');
      const { code, stdout } = await started.process.interrupt();
      assert.equal(code, 0);
      assert.match(stdout, /\[info\] \[udp-\d+\] received #1 from 127\.0\.0\.1:\d+, 5 bytes: "hello"/);
      assert.match(stdout, /udpw echo: 2 received, 2 answered \(2 replies\), 0 dropped/);
    });

    it('--simulate drops what the spec says, and --json prints every event as one JSON object per line', async () => {
      const started = await startListening(['echo', '127.0.0.1:0', '--simulate', 'loss=50% seed=3', '--json']);
      const sent = await runPythonClients('127.0.0.1', started.port, { clients: 1, count: 40, gapMs: 2, quietMs: 300 });
      const { stdout } = await started.process.interrupt();
      const events = stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { kind: string; reason?: string; text?: string });
      const dropped = events.filter((event) => event.kind === 'dropped' && event.reason === 'simulated-loss-inbound').length;
      assert.equal(events.filter((event) => event.kind === 'received').length, 40);
      assert.equal(dropped, 40 - sent.replies.length);
      assert.ok(dropped > 5 && dropped < 35, `${dropped} of 40 dropped at 50%`);
      assert.match(events.at(-1)?.text ?? '', new RegExp(`${40 - dropped} answered`));
    });

    it('--capture on echo writes a capture Wireshark reads, flushed on SIGTERM', async () => {
      const capture = path.join(dir, 'echo.pcapng');
      const started = await startListening(['echo', '127.0.0.1:0', '--capture', capture]);
      await python([path.join(FIXTURES, 'tutorialClient.py'), '127.0.0.1', String(started.port), 'one']);
      const { code, stderr } = await started.process.interrupt('SIGTERM');
      assert.equal(code, 0, stderr);
      assert.deepEqual(
        readCapture(capture).map((packet) => Buffer.from(packet.payload, 'hex').toString()),
        ['one', 'one'],
      );
    });
  });

  describe('send', () => {
    it('prints the reply on stdout and the round trip on stderr; exits 1 when no reply comes', async () => {
      const port = await echo();
      const replied = await udpw(['send', `127.0.0.1:${port}`, 'hi\\x21']);
      assert.equal(replied.code, 0, replied.stderr);
      assert.equal(replied.stdout, 'hi!');
      assert.match(replied.stderr, new RegExp(`3 B from 127\\.0\\.0\\.1:${port} in [\\d.]+ ms after 1 try`));
      const hex = await udpw(['send', `127.0.0.1:${port}`, '--hex', '68 69']);
      assert.equal(hex.stdout, 'hi');
      const silent = await echo(['--reply', 'none']);
      const none = await udpw(['send', `127.0.0.1:${silent}`, 'x', '--timeout', '100', '--retries', '1']);
      assert.equal(none.code, 1);
      assert.match(none.stderr, /no reply from 127\.0\.0\.1:\d+ after 2 tries/);
      const twice = await udpw(['send', `127.0.0.1:${port}`, 'x', '--hex', '00']);
      assert.equal(twice.code, 2);
      assert.match(twice.stderr, /Give one payload, not TEXT and --hex/);
    });
  });

  describe('proxy', () => {
    it('puts a Python client and server behind "loss=30% seed=7": the client misses exactly what the proxy counts as dropped', async () => {
      const server = await PythonEchoServer.start();
      try {
        const started = await startListening(['proxy', '--upstream', `127.0.0.1:${server.port}`, '--to-server', 'loss=30% seed=7']);
        const sent = await runPythonClients('127.0.0.1', started.port, { clients: 1, count: 100, gapMs: 2, quietMs: 300 });
        const { code, stdout } = await started.process.interrupt();
        assert.equal(code, 0);
        const [, received, forwarded, dropped] = /to server (\d+) received, (\d+) forwarded, (\d+) dropped/.exec(stdout) ?? [];
        assert.equal(Number(received), 100, stdout);
        assert.equal(Number(forwarded), sent.replies.length);
        assert.equal(Number(dropped), 100 - sent.replies.length);
        assert.ok(Number(dropped) > 15 && Number(dropped) < 45, `${dropped} of 100 dropped at 30%`);
        assert.match(stdout, /\[warning\] .*simulated/);
      } finally {
        await server.stop();
      }
    });

    it('takes the presets by name, and says what a wrong spec should be', async () => {
      const server = await PythonEchoServer.start();
      try {
        const started = await startListening(['proxy', '--upstream', `127.0.0.1:${server.port}`, '--to-server', 'bad-game seed=2']);
        assert.match(started.process.stderr, /to server: 5% lost/);
        await started.process.interrupt();
      } finally {
        await server.stop();
      }
      const wrong = await udpw(['proxy', '--upstream', '127.0.0.1:9', '--to-server', 'los=3%']);
      assert.equal(wrong.code, 2);
      assert.match(wrong.stderr, /--to-server: .*"los=3%"/);
    });
  });

  it('--help for each command shows its usage and examples, and exits 0', async () => {
    for (const command of ['run', 'echo', 'send', 'proxy']) {
      const { code, stdout } = await udpw([command, '--help']);
      assert.equal(code, 0);
      assert.match(stdout, new RegExp(`^Usage: udpw ${command} `));
      assert.match(stdout, /\nExamples:\n {2}udpw /);
    }
  });
});
