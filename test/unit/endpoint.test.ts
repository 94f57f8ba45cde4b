import * as assert from 'node:assert/strict';
import {
  formatEndpoint,
  ipv6Groups,
  isIPv4Mapped,
  isLoopback,
  isWildcard,
  MAX_DATAGRAM_BYTES,
  parseEndpoint,
  parsePort,
  resolveHost,
  unmapIPv4,
} from '../../src/core/endpoint';
import { quoteInput, WorkbenchError, type WorkbenchErrorCode } from '../../src/core/errors';
import type { Peer } from '../../src/core/events';

function failure(run: () => unknown): WorkbenchError {
  try {
    run();
  } catch (err) {
    assert.ok(err instanceof WorkbenchError, `expected a WorkbenchError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected an error');
}

function assertFails(run: () => unknown, code: WorkbenchErrorCode, offset?: number): WorkbenchError {
  const error = failure(run);
  assert.equal(error.code, code, error.text);
  if (offset !== undefined) assert.equal(error.offset, offset, error.text);
  assert.ok(error.hint.length > 0, 'every error says how to fix it');
  return error;
}

describe('parseEndpoint', () => {
  const accepted: [string, object, ReturnType<typeof parseEndpoint>][] = [
    ['127.0.0.1:12345', {}, { host: '127.0.0.1', port: 12345, family: 4 }],
    ['localhost:53', {}, { host: 'localhost', port: 53 }],
    ['example.com:9', {}, { host: 'example.com', port: 9 }],
    ['[::1]:9000', {}, { host: '::1', port: 9000, family: 6 }],
    ['[fe80::1%eth0]:80', {}, { host: 'fe80::1%eth0', port: 80, family: 6 }],
    ['udp://host:80', {}, { host: 'host', port: 80 }],
    ['UDP://[::1]:5/', {}, { host: '::1', port: 5, family: 6 }],
    ['  10.0.0.1:7 \n', {}, { host: '10.0.0.1', port: 7, family: 4 }],
    ['my_host.local.:00080', {}, { host: 'my_host.local.', port: 80 }],
    ['localhost', { defaultPort: 12345 }, { host: 'localhost', port: 12345 }],
    ['::1', { defaultPort: 9000 }, { host: '::1', port: 9000, family: 6 }],
    ['::', { defaultPort: 9000 }, { host: '::', port: 9000, family: 6 }],
    ['[::1]', { defaultPort: 9000 }, { host: '::1', port: 9000, family: 6 }],
    ['0.0.0.0:0', { allowPortZero: true }, { host: '0.0.0.0', port: 0, family: 4 }],
    ['127.0.0.1:65535', {}, { host: '127.0.0.1', port: 65535, family: 4 }],
  ];
  for (const [text, options, expected] of accepted) {
    it(`reads ${JSON.stringify(text)}${Object.keys(options).length ? ` with ${JSON.stringify(options)}` : ''}`, () => {
      assert.deepEqual(parseEndpoint(text, options), expected);
    });
  }

  it('quotes what was typed and shows a correct example', () => {
    const error = assertFails(() => parseEndpoint('localhost:12a'), 'BAD_ENDPOINT', 12);
    assert.match(error.message, /^"localhost:12a" is not a valid address: "a" at column 13 is not a digit\.$/);
    assert.match(error.hint, /127\.0\.0\.1:12345/);
  });

  it('cuts long input in the message', () => {
    const error = assertFails(() => parseEndpoint(`${'a'.repeat(200)}:x`), 'BAD_ENDPOINT', 201);
    assert.ok(error.message.length < 150, error.message);
  });

  const rejected: [string, number, RegExp][] = [
    ['', 0, /empty/],
    ['   ', 0, /empty/],
    ['localhost', 9, /port is missing/],
    ['localhost:', 10, /port is missing/],
    [':80', 0, /host is missing/],
    ['udp://', 6, /host is missing/],
    ['tcp://host:80', 0, /tcp:\/\/ is not UDP/],
    ['ho st:80', 2, /" " at column 3 cannot be part of a host name/],
    ['host/x:80', 4, /"\/" at column 5/],
    ['a..b:80', 2, /empty part/],
    [`${'a'.repeat(300)}:80`, 253, /longer than 253/],
    ['12345', 0, /is a number, not a host/],
    ['256.1.1.1:80', 0, /not an IPv4 address/],
    ['1.2.300.4:80', 4, /not an IPv4 address/],
    ['1.2.3:80', 5, /not an IPv4 address/],
    ['[::1', 0, /no matching "]"/],
    ['[]:80', 1, /nothing between/],
    ['[1.2.3.4]:80', 0, /only for IPv6/],
    ['[zz::1]:80', 1, /not an IPv6 address/],
    ['[::1]80', 5, /should be ":"/],
    ['[::1]', 5, /port is missing/],
    ['::1', 3, /port is missing/],
    ['host:80:90', 7, /only one ":"/],
    ['::::', 1, /only one ":"/],
  ];
  for (const [text, offset, message] of rejected) {
    it(`rejects ${quoteInput(text)} at offset ${offset}`, () => {
      const error = assertFails(() => parseEndpoint(text), 'BAD_ENDPOINT', offset);
      assert.match(error.message, message);
    });
  }

  it('asks for brackets when an unbracketed IPv6 address may end in a port', () => {
    for (const options of [{}, { defaultPort: 12345 }]) {
      const error = assertFails(() => parseEndpoint('::1:9000', options), 'BAD_ENDPOINT', 3);
      assert.match(error.message, /brackets/);
      assert.match(error.hint, /\[::1\]:9000/);
    }
  });

  it('rejects ports outside 1–65535 with PORT_OUT_OF_RANGE at the port', () => {
    const error = assertFails(() => parseEndpoint('host:70000'), 'PORT_OUT_OF_RANGE', 5);
    assert.equal(error.message, 'Port 70000 is out of range.');
    assert.match(error.hint, /1 to 65535/);
    assertFails(() => parseEndpoint('[::1]:0'), 'PORT_OUT_OF_RANGE', 6);
    assertFails(() => parseEndpoint(`host:${'9'.repeat(500)}`), 'PORT_OUT_OF_RANGE', 5);
  });

  it('accepts port 0 only when asked to, and says what 0 means', () => {
    const error = assertFails(() => parseEndpoint('host:0'), 'PORT_OUT_OF_RANGE');
    assert.match(error.message, /any free port/);
    assert.match(assertFails(() => parseEndpoint('host:70000', { allowPortZero: true }), 'PORT_OUT_OF_RANGE').hint, /0 for any free port/);
  });

  it('checks the default port too', () => {
    assertFails(() => parseEndpoint('localhost', { defaultPort: 0 }), 'PORT_OUT_OF_RANGE');
  });
});

describe('parsePort', () => {
  it('reads numbers and digit strings', () => {
    assert.equal(parsePort(80), 80);
    assert.equal(parsePort(' 65535 '), 65535);
    assert.equal(parsePort('0', { allowZero: true }), 0);
    assert.equal(parsePort(0, { allowZero: true }), 0);
  });

  it('rejects what is not a port', () => {
    assert.match(
      assertFails(() => parsePort('8o'), 'BAD_ENDPOINT', 1).message,
      /^"8o" is not a port number: "o" at column 2 is not a digit\.$/,
    );
    assertFails(() => parsePort(''), 'BAD_ENDPOINT', 0);
    assertFails(() => parsePort('-1'), 'BAD_ENDPOINT', 0);
    assertFails(() => parsePort('0'), 'PORT_OUT_OF_RANGE', 0);
    for (const value of [0, -1, 65536, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      assertFails(() => parsePort(value), 'PORT_OUT_OF_RANGE');
    }
  });
});

describe('formatEndpoint', () => {
  it('brackets IPv6 addresses', () => {
    assert.equal(formatEndpoint({ host: '127.0.0.1', port: 12345 }), '127.0.0.1:12345');
    assert.equal(formatEndpoint({ host: '::1', port: 9000 }), '[::1]:9000');
    const peer: Peer = { address: 'fe80::1%eth0', port: 1, family: 'IPv6' };
    assert.equal(formatEndpoint(peer), '[fe80::1%eth0]:1');
    assert.equal(formatEndpoint({ host: 'localhost', port: 53 }), 'localhost:53');
  });

  it('gives back text that parses to the same endpoint', () => {
    for (const text of ['127.0.0.1:1', '[::1]:65535', 'example.com:53', '[::ffff:127.0.0.1]:9']) {
      assert.equal(formatEndpoint(parseEndpoint(text)), text);
    }
  });
});

describe('isLoopback and isWildcard', () => {
  it('knows loopback addresses in every spelling', () => {
    for (const address of ['127.0.0.1', '127.255.0.9', '::1', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1', 'localhost', 'LOCALHOST']) {
      assert.equal(isLoopback(address), true, address);
    }
    for (const address of ['128.0.0.1', '0.0.0.0', '::', '::2', '10.0.0.1', 'example.com', 'localhost.example', '']) {
      assert.equal(isLoopback(address), false, address);
    }
  });

  it('knows the wildcard addresses', () => {
    for (const address of ['0.0.0.0', '::', '0:0:0:0:0:0:0:0']) assert.equal(isWildcard(address), true, address);
    for (const address of ['127.0.0.1', '::1', 'localhost', '0.0.0.1']) assert.equal(isWildcard(address), false, address);
  });
});

describe('IPv4-mapped addresses', () => {
  it('recognises ::ffff:a.b.c.d in every spelling, and nothing else', () => {
    for (const address of ['::ffff:127.0.0.1', '::FFFF:7f00:1', '0:0:0:0:0:ffff:a00:1', '::ffff:0.0.0.0']) {
      assert.equal(isIPv4Mapped(address), true, address);
    }
    for (const address of ['127.0.0.1', '::1', '::', '::127.0.0.1', '64:ff9b::7f00:1', '::fffe:7f00:1', 'localhost']) {
      assert.equal(isIPv4Mapped(address), false, address);
    }
  });

  it('gives the IPv4 address inside, and leaves other addresses alone', () => {
    assert.equal(unmapIPv4('::ffff:7f00:1'), '127.0.0.1');
    assert.equal(unmapIPv4('::ffff:192.0.2.255'), '192.0.2.255');
    assert.equal(unmapIPv4('::ffff:0.0.0.0'), '0.0.0.0');
    assert.equal(unmapIPv4('2001:db8::1'), '2001:db8::1');
  });

  it('expands IPv6 literals into their eight groups', () => {
    assert.deepEqual(ipv6Groups('2001:db8::1'), [0x2001, 0xdb8, 0, 0, 0, 0, 0, 1]);
    assert.deepEqual(ipv6Groups('::'), [0, 0, 0, 0, 0, 0, 0, 0]);
    assert.deepEqual(ipv6Groups('fe80::1%eth0'), [0xfe80, 0, 0, 0, 0, 0, 0, 1]);
    assert.deepEqual(ipv6Groups('1:2:3:4:5:6:7:8'), [1, 2, 3, 4, 5, 6, 7, 8]);
    assert.deepEqual(ipv6Groups('::ffff:1.2.3.4'), [0, 0, 0, 0, 0, 0xffff, 0x102, 0x304]);
  });
});

describe('resolveHost', () => {
  it('returns IP literals as they are', async () => {
    assert.deepEqual(await resolveHost('127.0.0.1'), { address: '127.0.0.1', family: 4 });
    assert.deepEqual(await resolveHost('::1', 6), { address: '::1', family: 6 });
  });

  it('refuses an IP literal of the other family', async () => {
    await assert.rejects(resolveHost('::1', 4), (err: unknown) => err instanceof WorkbenchError && err.code === 'FAMILY_MISMATCH');
  });

  it('resolves localhost to a loopback address', async () => {
    const any = await resolveHost('localhost');
    assert.ok(isLoopback(any.address), any.address);
    assert.deepEqual(await resolveHost('localhost', 4), { address: '127.0.0.1', family: 4 });
  });

  it('reports an empty name as UNKNOWN_HOST without asking the resolver', async () => {
    await assert.rejects(resolveHost(' '), (err: unknown) => err instanceof WorkbenchError && err.code === 'UNKNOWN_HOST');
  });

  it('reports a name that does not exist as UNKNOWN_HOST with a hint', async () => {
    await assert.rejects(resolveHost('no-such-host.invalid'), (err: unknown) => {
      assert.ok(err instanceof WorkbenchError);
      assert.equal(err.code, 'UNKNOWN_HOST');
      assert.match(err.message, /"no-such-host\.invalid"/);
      assert.match(err.hint, /check the spelling/i);
      return true;
    });
  });
});

describe('MAX_DATAGRAM_BYTES', () => {
  it('is the largest UDP payload per IP version', () => {
    assert.deepEqual(MAX_DATAGRAM_BYTES, { 4: 65507, 6: 65527 });
  });
});
