/**
 * The extension's localisable text: the messages src/vscode passes to `vscode.l10n.t`, written to the English
 * bundle `l10n/bundle.l10n.json` (`npm run l10n`), and the checks test/unit/l10n.test.ts runs over it.
 * Only the TypeScript compiler reads the sources, so no extraction tool needs installing.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import * as ts from 'typescript';

export const REPO = path.resolve(__dirname, '..', '..');
export const BUNDLE = path.join(REPO, 'l10n', 'bundle.l10n.json');
/** Where user-facing text is made: src/core cannot import vscode, so its text stays English (CONTRIBUTING.md, "Habits of the code"). */
const LOCALISED_ROOTS = [path.join(REPO, 'src', 'vscode'), path.join(REPO, 'src', 'extension.ts')];

export interface Finding {
  readonly file: string;
  readonly line: number;
  readonly text: string;
  readonly why: string;
}

/** Calls whose string arguments are shown as they are. */
const SHOWING_CALLS = new Set(['showInformationMessage', 'showWarningMessage', 'showErrorMessage', 'setStatusBarMessage']);
/** Properties of quick picks, input boxes, dialogs, progress, tree and status bar items, messages' options: what users read. */
const SHOWN_PROPERTIES = new Set([
  'label',
  'description',
  'detail',
  'tooltip',
  'title',
  'text',
  'name',
  'placeHolder',
  'placeholder',
  'prompt',
  'validationMessage',
  'saveLabel',
  'openLabel',
  'summary',
]);
/** Constructors whose text arguments users read (WorkbenchError's first argument is its code, not text). */
const SHOWING_CONSTRUCTORS: Record<string, number> = { MarkdownString: 0, TreeItem: 0, WorkbenchError: 1, Error: 0 };
/** The log stays English, as the core's lines in it are (one language per log keeps bug reports greppable). */
const LOG_CALL = /(^|\.)log\.(info|warn|error)$/;
/** Two words in a row: prose, wherever it is written (`delay=40ms jitter=30ms` is a setting, not prose). */
const PROSE = /(?<![\w=])[A-Za-z]{2,} [A-Za-z]{2,}(?![\w=])/;
/** Comparisons name things; they never show them. */
const COMPARISONS = new Set([
  ts.SyntaxKind.EqualsEqualsEqualsToken,
  ts.SyntaxKind.ExclamationEqualsEqualsToken,
  ts.SyntaxKind.EqualsEqualsToken,
  ts.SyntaxKind.ExclamationEqualsToken,
  ts.SyntaxKind.InKeyword,
]);
/** Marks, on the line above, a literal that users never read although it looks like prose (say why after it). */
export const IGNORE_MARK = 'l10n-ignore';

/** `vscode.l10n.t(...)` or `l10n.t(...)`. */
function isL10nCall(node: ts.Node): node is ts.CallExpression {
  if (!ts.isCallExpression(node) || !ts.isPropertyAccessExpression(node.expression)) return false;
  const { expression, name } = node.expression;
  return (
    name.text === 't' &&
    (ts.isIdentifier(expression) ? expression.text : ts.isPropertyAccessExpression(expression) ? expression.name.text : '') === 'l10n'
  );
}

function isStringLiteral(node: ts.Node): node is ts.StringLiteral | ts.NoSubstitutionTemplateLiteral | ts.TemplateExpression {
  return ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node) || ts.isTemplateExpression(node);
}

/** A literal's fixed text; a template's parts without what is substituted. */
function staticText(node: ts.StringLiteral | ts.NoSubstitutionTemplateLiteral | ts.TemplateExpression): string {
  return ts.isTemplateExpression(node) ? node.head.text + node.templateSpans.map((span) => span.literal.text).join(' ') : node.text;
}

function parse(fileName: string, text: string): ts.SourceFile {
  return ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
}

function finding(source: ts.SourceFile, node: ts.Node, text: string, why: string): Finding {
  return { file: source.fileName, line: source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1, text, why };
}

/** The messages passed to l10n.t, and the calls whose message is not one fixed literal (the bundle could not hold it). */
export function l10nMessages(fileName: string, text: string): { messages: string[]; problems: Finding[] } {
  const source = parse(fileName, text);
  const messages: string[] = [];
  const problems: Finding[] = [];
  const visit = (node: ts.Node): void => {
    if (isL10nCall(node)) {
      const [message] = node.arguments;
      if (message && (ts.isStringLiteral(message) || ts.isNoSubstitutionTemplateLiteral(message))) messages.push(message.text);
      else {
        problems.push(
          finding(source, node, node.getText(source), 'l10n.t needs one fixed literal message, with {0} placeholders for what varies'),
        );
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return { messages, problems };
}

/** Where a literal ends up: the node whose role decides whether users read it (through ?:, ??, || and parentheses). */
function consumer(node: ts.Node): ts.Node {
  let current = node;
  while (
    ts.isParenthesizedExpression(current.parent) ||
    (ts.isConditionalExpression(current.parent) && current !== current.parent.condition) ||
    (ts.isBinaryExpression(current.parent) &&
      [ts.SyntaxKind.QuestionQuestionToken, ts.SyntaxKind.BarBarToken].includes(current.parent.operatorToken.kind) &&
      current === current.parent.right) ||
    ts.isArrayLiteralExpression(current.parent)
  ) {
    current = current.parent;
  }
  return current;
}

function calleeName(call: ts.CallExpression | ts.NewExpression): string {
  const callee = call.expression;
  return ts.isPropertyAccessExpression(callee) ? callee.name.text : ts.isIdentifier(callee) ? callee.text : '';
}

/** Why users read this literal as it is, or undefined when they do not (or it goes through l10n.t). */
function bypassReason(
  literal: ts.StringLiteral | ts.NoSubstitutionTemplateLiteral | ts.TemplateExpression,
  source: ts.SourceFile,
): string | undefined {
  const parent = literal.parent;
  if (ts.isImportDeclaration(parent) || ts.isExportDeclaration(parent) || ts.isExternalModuleReference(parent)) return undefined;
  if (ts.isLiteralTypeNode(parent) || ts.isCaseClause(parent)) return undefined;
  // Icons and punctuation around what is substituted ("$(radio-tower) ${address}") need no translation.
  if (!/[A-Za-z]/.test(staticText(literal).replace(/\$\([\w-]+\)/g, ''))) return undefined;
  if (ts.isBinaryExpression(parent) && COMPARISONS.has(parent.operatorToken.kind)) return undefined;
  if (ts.isElementAccessExpression(parent) && parent.argumentExpression === literal) return undefined;
  if (isL10nCall(parent) && parent.arguments[0] === literal) return undefined;
  const line = source.getLineAndCharacterOfPosition(literal.getStart(source)).line;
  const starts = source.getLineStarts();
  if (line > 0 && source.text.slice(starts[line - 1], starts[line]).includes(IGNORE_MARK)) return undefined;
  for (let up: ts.Node = parent; !ts.isSourceFile(up); up = up.parent) {
    if (!ts.isCallExpression(up)) continue;
    const callee = up.expression.getText(source);
    // A placeholder's value is text like any other.
    if (isL10nCall(up)) break;
    if (LOG_CALL.test(callee)) return undefined;
  }
  const at = consumer(literal);
  const role = at.parent;
  if ((ts.isCallExpression(role) || ts.isNewExpression(role)) && role.arguments?.includes(at as ts.Expression)) {
    const name = calleeName(role);
    if (ts.isCallExpression(role) && SHOWING_CALLS.has(name)) return `shown by ${name}`;
    const index = SHOWING_CONSTRUCTORS[name];
    if (ts.isNewExpression(role) && index !== undefined && role.arguments.indexOf(at as ts.Expression) >= index) {
      return `text of new ${name}`;
    }
    if (ts.isCallExpression(role) && name === 'withProgress') return 'progress title';
  }
  if (ts.isPropertyAssignment(role) && role.initializer === at && SHOWN_PROPERTIES.has(role.name.getText(source))) {
    return `the ${role.name.getText(source)} users read`;
  }
  if (ts.isPropertyAssignment(role) && role.name === at) return PROSE.test(staticText(literal)) ? 'a key users read' : undefined;
  if (
    ts.isBinaryExpression(role) &&
    role.operatorToken.kind === ts.SyntaxKind.EqualsToken &&
    role.right === at &&
    ts.isPropertyAccessExpression(role.left) &&
    SHOWN_PROPERTIES.has(role.left.name.text)
  ) {
    return `assigned to the ${role.left.name.text} users read`;
  }
  if (PROSE.test(staticText(literal))) return 'prose outside l10n.t';
  return undefined;
}

/** String and template literals users would read as they are, in English, whatever their language. */
export function bypassingStrings(fileName: string, text: string): Finding[] {
  const source = parse(fileName, text);
  const found: Finding[] = [];
  const visit = (node: ts.Node): void => {
    if (isStringLiteral(node)) {
      const why = bypassReason(node, source);
      if (why !== undefined) found.push(finding(source, node, node.getText(source), why));
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** The TypeScript files under src/vscode, and extension.ts. */
export function localisedSources(): string[] {
  const files: string[] = [];
  const walk = (at: string): void => {
    if (at.endsWith('.ts')) return void files.push(at);
    for (const entry of readdirSync(at, { withFileTypes: true })) {
      if (entry.isDirectory() || entry.name.endsWith('.ts')) walk(path.join(at, entry.name));
    }
  };
  LOCALISED_ROOTS.forEach(walk);
  return files.sort();
}

/** The English bundle: each message is its own translation, sorted so a regenerated bundle diffs cleanly. */
export function englishBundle(): { bundle: Record<string, string>; problems: Finding[] } {
  const messages = new Set<string>();
  const problems: Finding[] = [];
  for (const file of localisedSources()) {
    const found = l10nMessages(path.relative(REPO, file), readFileSync(file, 'utf8'));
    found.messages.forEach((message) => messages.add(message));
    problems.push(...found.problems);
  }
  const bundle = Object.fromEntries([...messages].sort().map((message) => [message, message]));
  return { bundle, problems };
}

export function bundleText(bundle: Record<string, string>): string {
  return `${JSON.stringify(bundle, undefined, 2)}\n`;
}

if (require.main === module) {
  const { bundle, problems } = englishBundle();
  for (const problem of problems) console.error(`${problem.file}:${problem.line}: ${problem.why}: ${problem.text}`);
  mkdirSync(path.dirname(BUNDLE), { recursive: true });
  writeFileSync(BUNDLE, bundleText(bundle));
  console.log(`${path.relative(REPO, BUNDLE)}: ${Object.keys(bundle).length} messages`);
  if (problems.length > 0) process.exitCode = 1;
}
