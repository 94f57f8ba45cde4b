import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseRequestFile } from '../../src/core/requests/requestFile';
import { SEND_LIMITS, SETTING_LIMITS } from '../../src/core/limits';

const MANIFEST = path.resolve(__dirname, '..', '..', '..', 'package.json');
const PREFIX = 'udpWorkbench.';

interface SettingSchema {
  readonly minimum?: number;
  readonly maximum?: number;
}

function bounds(): Map<string, SettingSchema> {
  const manifest = JSON.parse(readFileSync(MANIFEST, 'utf8')) as {
    contributes: { configuration: { properties: Record<string, SettingSchema> } };
  };
  const bounded = new Map<string, SettingSchema>();
  for (const [key, schema] of Object.entries(manifest.contributes.configuration.properties)) {
    if (schema.minimum !== undefined || schema.maximum !== undefined) bounded.set(key.slice(PREFIX.length), schema);
  }
  return bounded;
}

describe('Setting limits', () => {
  it("package.json's minimum and maximum of each setting are the core's (SETTING_LIMITS)", () => {
    const manifest = bounds();
    assert.deepEqual(
      [...manifest.keys()].sort(),
      Object.keys(SETTING_LIMITS).sort(),
      'the bounded settings and SETTING_LIMITS name the same keys',
    );
    for (const [key, schema] of manifest) {
      assert.deepEqual({ minimum: schema.minimum, maximum: schema.maximum }, SETTING_LIMITS[key], `udpWorkbench.${key}`);
    }
  });

  it('the .udp parser accepts exactly the timeouts and retries the settings allow', () => {
    const problems = (header: string): number => parseRequestFile(`@target 127.0.0.1:9\n${header}\nx`).problems.length;
    assert.equal(problems(`@timeout ${SEND_LIMITS.maxTimeoutMs}`), 0);
    assert.equal(problems(`@timeout ${SEND_LIMITS.maxTimeoutMs + 1}`), 1);
    assert.equal(problems(`@retries ${SEND_LIMITS.maxRetries}`), 0);
    assert.equal(problems(`@retries ${SEND_LIMITS.maxRetries + 1}`), 1);
  });
});
