import { quoteText } from './escapeText';

/**
 * Errors the core raises for anything the user can fix. `code` is stable (tests and the VS Code layer
 * switch on it), `message` says what was wrong, `hint` says how to fix it, `fix` names the action the
 * VS Code layer can offer, and `offset` points into the text that was parsed, where there is one.
 */
export type WorkbenchErrorCode =
  | 'PORT_IN_USE'
  | 'PORT_OUT_OF_RANGE'
  | 'PERMISSION_DENIED'
  | 'UNKNOWN_HOST'
  | 'ADDRESS_NOT_AVAILABLE'
  | 'FAMILY_MISMATCH'
  | 'BAD_ENDPOINT'
  | 'DATAGRAM_TOO_LARGE'
  | 'BAD_HEX'
  | 'BAD_BASE64'
  | 'BAD_ESCAPE'
  | 'BAD_TEMPLATE'
  | 'BAD_SETTING'
  | 'EMPTY_PAYLOAD'
  | 'CONNECTION_REFUSED'
  | 'NETWORK_UNREACHABLE'
  | 'SOCKET_ERROR'
  | 'SOCKET_CLOSED'
  | 'TOO_MANY_OPEN_FILES'
  | 'CANCELLED'
  | 'FILE_NOT_WRITABLE'
  | 'UNKNOWN_INTERFACE'
  | 'NO_MULTICAST_ROUTE'
  | 'SCOPE_ID_MISSING'
  | 'BROADCAST_NOT_ALLOWED';

/** Actions the VS Code layer knows how to offer next to a message. */
export type WorkbenchFix = 'use-another-port' | 'use-any-port' | 'open-settings' | 'start-server' | 'use-ipv4' | 'use-ipv6';

export class WorkbenchError extends Error {
  override readonly name = 'WorkbenchError';
  constructor(
    readonly code: WorkbenchErrorCode,
    message: string,
    readonly hint: string,
    readonly options: { fix?: WorkbenchFix; offset?: number; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
  }

  get fix(): WorkbenchFix | undefined {
    return this.options.fix;
  }

  get offset(): number | undefined {
    return this.options.offset;
  }

  /** "What was wrong. How to fix it." — the one line users see. */
  get text(): string {
    return this.hint ? `${this.message} ${this.hint}` : this.message;
  }
}

/** "<what> is <value>; it must be <range>." — one wording for every setting out of its range. */
export function badSetting(what: string, value: unknown, range: string, hint: string, fix?: WorkbenchFix): WorkbenchError {
  const shown = typeof value === 'string' ? quoteText(value) : String(value);
  return new WorkbenchError('BAD_SETTING', `${what} is ${shown}; it must be ${range}.`, hint, { fix });
}

/** EMFILE / ENFILE: the process (or the whole system) has no file descriptor left for another socket. */
export function tooManyOpenFiles(doing: string, cause: unknown): WorkbenchError {
  return new WorkbenchError(
    'TOO_MANY_OPEN_FILES',
    `${doing}: too many files and sockets are open.`,
    'Stop servers you no longer need, or raise the open-file limit (ulimit -n) of the shell or service that starts VS Code.',
    { cause },
  );
}

/** The message of anything thrown: an Error's own, or the value as text. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export function isWorkbenchError(value: unknown): value is WorkbenchError {
  return value instanceof WorkbenchError;
}

const QUOTED_CHARS = 40;

/** Quotes what the user typed for a message, escaped by quoteText so it stays on one line as typed; long input is cut. */
export function quoteInput(text: string): string {
  if (text.length <= QUOTED_CHARS) return quoteText(text);
  const cut = isHighSurrogate(text.charCodeAt(QUOTED_CHARS - 2)) ? QUOTED_CHARS - 2 : QUOTED_CHARS - 1;
  return quoteText(`${text.slice(0, cut)}…`);
}

/** The whole character (code point) at `offset`, quoted: `"g"`, `"\n"`, `"😀"`, `"\u202e"`. */
export function quoteCharAt(text: string, offset: number): string {
  const [char = ''] = text.slice(offset, offset + 2);
  return quoteText(char);
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}
