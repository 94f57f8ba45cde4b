import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Ports below this need privileges on this machine (Linux's net.ipv4.ip_unprivileged_port_start). */
function unprivilegedPortStart(): number {
  try {
    return Number(fs.readFileSync('/proc/sys/net/ipv4/ip_unprivileged_port_start', 'utf8').trim());
  } catch {
    return 1024;
  }
}

describe('Binding a privileged port without privileges', () => {
  it('says permission was denied, why, and offers another port', function () {
    const start = unprivilegedPortStart();
    if (start <= 1) this.skip(); // this machine lets anyone bind every port: there is no privileged port to try
    const port = Math.min(start - 1, 1023);
    // As root, the attempt runs as the unprivileged user "nobody"; otherwise as ourselves.
    const asNobody = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
    const output = execFileSync(process.execPath, [path.join(__dirname, 'fixtures', 'bindPort.js'), String(port)], {
      encoding: 'utf8',
      timeout: 10_000,
      ...asNobody,
    });
    const result = JSON.parse(output);
    assert.equal(result.code, 'PERMISSION_DENIED', output);
    assert.match(result.message, new RegExp(`${port}`));
    assert.match(result.hint, /1024|another port|privilege/i);
    assert.equal(result.fix, 'use-another-port');
  });
});
