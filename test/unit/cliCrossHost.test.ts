// `udpw` across hosts: `udpw echo` in one network namespace the test makes, `udpw run` in another, so the file's
// @target is a remote address and the server's peer is on another machine (its rate limit applies).
import * as assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { buildCli, startListening, udpw, type UdpwProcess } from './cliProcess';
import { NamespacePair, requireNamespaces } from './netns';

describe('udpw across hosts (echo and run in two network namespaces)', function () {
  this.timeout(60_000);
  let pair: NamespacePair;
  let dir: string;
  let echo: UdpwProcess | undefined;

  before(function () {
    requireNamespaces(this);
    buildCli();
    pair = NamespacePair.create();
    dir = mkdtempSync(path.join(tmpdir(), 'udpw-netns-'));
  });
  afterEach(async () => {
    await echo?.interrupt();
    echo = undefined;
  });
  after(() => {
    pair?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const inNamespace = (namespace: string): string[] => ['ip', 'netns', 'exec', namespace];

  it('runs a file whose @target is on another host; the server, bound there as asked, says it is exposed and rate-limits that peer', async () => {
    const started = await startListening(['echo', `${pair.server.ipv4}:0`, '--rate-limit', '100'], {
      prefix: inNamespace(pair.server.namespace),
    });
    echo = started.process;
    assert.match(
      echo.stderr,
      new RegExp(`${pair.server.ipv4.replace(/\./g, '\\.')}:\\d+ is reachable from other machines: at most 100/s per peer`),
    );
    const target = `${pair.server.ipv4}:${started.port}`;
    const checks = path.join(dir, 'remote.udp');
    writeFileSync(checks, `### remote hello\n@target ${target}\n@expect equals "hello"\nhello\n`);
    const passed = await udpw(['run', checks], { prefix: inNamespace(pair.peer.namespace) });
    assert.equal(passed.code, 0, passed.stdout + passed.stderr);
    assert.match(passed.stdout, /\[remote hello\] ✓ 5 B in [\d.]+ ms: reply equals "hello"/);

    // Past the bucket (2,000 at once for this peer) a flood from another host is limited; from loopback it never is.
    const flood = path.join(dir, 'flood.udp');
    writeFileSync(flood, `### flood\n@target ${target}\n@repeat 4000\n@rate 40000/s\nx\n`);
    const limited = await udpw(['run', flood, '--reporter', 'json'], { prefix: inNamespace(pair.peer.namespace) });
    assert.equal(limited.code, 1, 'a burst that lost datagrams does not pass');
    const [block] = (JSON.parse(limited.stdout) as { files: Array<{ blocks: Array<{ outcome: string; burst: { lost: number } }> }> })
      .files[0].blocks;
    assert.equal(block.outcome, 'measured');
    const { stdout } = await echo.interrupt();
    echo = undefined;
    const [, rateLimited] = /(\d[\d,]*) rate-limited/.exec(stdout) ?? [];
    assert.ok(Number(rateLimited.replace(/,/g, '')) > 0, stdout);
    // Each rate-limited datagram is one the burst lost; a loaded machine may drop a few more in its socket buffers.
    assert.ok(Number(rateLimited.replace(/,/g, '')) <= block.burst.lost, `${rateLimited} rate-limited, ${block.burst.lost} lost`);
  });
});
