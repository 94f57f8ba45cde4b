import { formatEndpoint } from '../core/endpoint';
import type { WorkbenchError } from '../core/errors';
import type { Peer } from '../core/events';
import { presentError } from './errorMessages';
import type { OutputLog } from './outputLog';

/**
 * The running server or proxy that a command's argument names, by id or by address ("127.0.0.1:9000"); when none
 * does, shows `missing()` and returns undefined.
 */
export function findRunning<T extends { readonly id: string; readonly local: Peer }>(
  running: readonly T[],
  idOrAddress: string,
  missing: () => WorkbenchError,
  log: OutputLog,
): T | undefined {
  const found = running.find((item) => item.id === idOrAddress || formatEndpoint(item.local) === idOrAddress);
  if (found === undefined) void presentError(missing(), log);
  return found;
}
