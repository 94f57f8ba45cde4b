import * as vscode from 'vscode';

/**
 * A command: its id beside what it does. `execute` gets the caller's options object in one shape, however
 * the command was invoked (see commandArgs), and returns its result to callers that await it (tests, other
 * extensions).
 */
export interface Command<A extends object = object> {
  readonly id: string;
  execute(args: A): unknown;
}

/** What every command receives: an options object, `{}` when the caller passed none. */
export type CommandArgs = Readonly<Record<string, unknown>>;

/**
 * The one place a command's arguments are read, whoever called it. The Command Palette and the quick menu
 * pass nothing; an editor's context menu and title bar pass the document's URI, which arrives as `{ uri }`
 * (a string, as the CodeLenses and the API pass it); keybindings, CodeLenses, other extensions and tests pass
 * an options object; a bare string (Stop Echo Server given a server's id or address) arrives as `{ name }`.
 */
export function commandArgs(first: unknown): CommandArgs {
  if (first instanceof vscode.Uri) return { uri: first.toString() };
  if (typeof first === 'string') return { name: first };
  if (typeof first === 'object' && first !== null && !Array.isArray(first)) return first as CommandArgs;
  return {};
}

/**
 * Registers every command of the extension, in one place. An options object is taken to have the shape its
 * command's arguments type declares (those types are the API other extensions call with); each command checks
 * the values it uses, as it checks what the user types.
 */
export function registerCommands(commands: Iterable<Command>): vscode.Disposable {
  return vscode.Disposable.from(
    ...[...commands].map((command) => vscode.commands.registerCommand(command.id, (first: unknown) => command.execute(commandArgs(first)))),
  );
}
