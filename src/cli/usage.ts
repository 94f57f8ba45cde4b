import { parseArgs, type ParseArgsConfig } from 'node:util';
import { isWorkbenchError, messageOf } from '../core/errors';

/** A mistake on the command line or in a file the command was given: printed as it is, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

type Options = NonNullable<ParseArgsConfig['options']>;

/** Node's own parser, strict: an unknown option or a missing value is a UsageError that names it. */
export function parseCommandLine<T extends Options>(args: readonly string[], options: T) {
  try {
    return parseArgs({ args: [...args], options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}

/** A whole number within bounds, from an option's text. */
export function integerOption(name: string, text: string | undefined, min: number, max: number): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!/^\d+$/.test(text.trim()) || value < min || value > max) {
    throw new UsageError(`--${name} is "${text}"; it must be a whole number from ${min} to ${max}.`);
  }
  return value;
}

/** One of the allowed words. */
export function choiceOption<T extends string>(name: string, text: string | undefined, choices: readonly T[]): T | undefined {
  if (text === undefined) return undefined;
  if (!(choices as readonly string[]).includes(text)) throw new UsageError(`--${name} is "${text}"; use one of ${choices.join(', ')}.`);
  return text as T;
}

/** Reads an option with the core's own parser; its message (what was wrong, how to fix it) becomes a UsageError. */
export function readOption<T>(what: string, read: () => T): T {
  try {
    return read();
  } catch (error) {
    throw new UsageError(`${what}: ${isWorkbenchError(error) ? error.text : messageOf(error)}`);
  }
}
