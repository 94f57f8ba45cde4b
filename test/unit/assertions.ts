import * as assert from 'node:assert/strict';
import { WorkbenchError } from '../../src/core/errors';

/** The WorkbenchError a promise rejects with; fails when it resolves or rejects with anything else. */
export async function rejection(promise: Promise<unknown>): Promise<WorkbenchError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof WorkbenchError, `expected a WorkbenchError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected a rejection');
}
