import manifest from '../../package.json';
import type { SendDefaults } from '../core/requests/requestRun';

/**
 * The settings' defaults, read from package.json where the editor reads them, so a file run here behaves as it does
 * in an editor whose settings were never changed.
 */
const properties: Readonly<Record<string, { readonly default?: unknown }>> = manifest.contributes.configuration.properties;

export function settingDefault<T>(key: string): T {
  return properties[`udpWorkbench.${key}`].default as T;
}

export function sendDefaults(): SendDefaults {
  return {
    target: settingDefault('send.target'),
    timeoutMs: settingDefault('send.timeoutMs'),
    retries: settingDefault('send.retries'),
    backoff: settingDefault('send.backoff'),
    allowBroadcast: settingDefault('send.allowBroadcast'),
    multicastTtl: settingDefault('send.multicastTtl'),
    multicastLoopback: settingDefault('send.multicastLoopback'),
    multicastInterface: settingDefault('send.multicastInterface'),
  };
}
