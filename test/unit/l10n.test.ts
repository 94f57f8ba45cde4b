import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { BUNDLE, bundleText, bypassingStrings, englishBundle, l10nMessages, localisedSources, REPO } from '../../scripts/l10n';

const readJson = (file: string): unknown => JSON.parse(readFileSync(path.join(REPO, file), 'utf8'));

/** Every `%key%` placeholder anywhere in the manifest. */
function placeholders(value: unknown, found = new Set<string>()): Set<string> {
  if (typeof value === 'string') {
    const key = /^%([^%]+)%$/.exec(value)?.[1];
    if (key !== undefined) found.add(key);
  } else if (value && typeof value === 'object') {
    for (const child of Object.values(value)) placeholders(child, found);
  }
  return found;
}

interface Manifest {
  displayName: string;
  description: string;
  capabilities: { untrustedWorkspaces: { description: string } };
  contributes: {
    commands: Array<{ command: string; title: string; category?: string }>;
    viewsContainers?: Record<string, Array<{ id: string; title: string }>>;
    views?: Record<string, Array<{ id: string; name: string }>>;
    configuration: {
      title: string;
      properties: Record<string, { description?: string; markdownDescription?: string; enumDescriptions?: string[] }>;
    };
    walkthroughs?: Array<{
      id: string;
      title: string;
      description: string;
      steps: Array<{ id: string; title: string; description: string }>;
    }>;
  };
}

/** Where the manifest holds text users read, named for the failure message. */
function shownManifestText(manifest: Manifest): Array<[string, string]> {
  const { contributes } = manifest;
  const texts: Array<[string, string | undefined]> = [
    ['displayName', manifest.displayName],
    ['description', manifest.description],
    ['untrustedWorkspaces.description', manifest.capabilities.untrustedWorkspaces.description],
    ['configuration.title', contributes.configuration.title],
  ];
  for (const command of contributes.commands) {
    texts.push([`${command.command} title`, command.title], [`${command.command} category`, command.category]);
  }
  for (const containers of Object.values(contributes.viewsContainers ?? {})) {
    for (const container of containers) texts.push([`view container ${container.id}`, container.title]);
  }
  for (const views of Object.values(contributes.views ?? {})) for (const view of views) texts.push([`view ${view.id}`, view.name]);
  for (const [key, setting] of Object.entries(contributes.configuration.properties)) {
    texts.push([`${key} description`, setting.description], [`${key} markdownDescription`, setting.markdownDescription]);
    setting.enumDescriptions?.forEach((text, i) => texts.push([`${key} enumDescriptions[${i}]`, text]));
  }
  for (const walkthrough of contributes.walkthroughs ?? []) {
    texts.push(
      [`walkthrough ${walkthrough.id} title`, walkthrough.title],
      [`walkthrough ${walkthrough.id} description`, walkthrough.description],
    );
    for (const step of walkthrough.steps) {
      texts.push([`step ${step.id} title`, step.title], [`step ${step.id} description`, step.description]);
    }
  }
  return texts.filter((entry): entry is [string, string] => entry[1] !== undefined);
}

describe('Localisable text', () => {
  describe('package.json and package.nls.json', () => {
    const manifest = readJson('package.json') as Manifest;
    const nls = readJson('package.nls.json') as Record<string, string>;

    it('every %key% in package.json is in package.nls.json, and every key there is used', () => {
      const used = placeholders(manifest);
      assert.deepEqual(
        [...used].filter((key) => !(key in nls)),
        [],
        'placeholders without English text in package.nls.json',
      );
      assert.deepEqual(
        Object.keys(nls).filter((key) => !used.has(key)),
        [],
        'keys in package.nls.json that package.json no longer uses',
      );
    });

    it('command titles and categories, views, settings and walkthroughs are %key% placeholders, not plain English', () => {
      const plain = shownManifestText(manifest).filter(([, text]) => !/^%[^%]+%$/.test(text));
      assert.deepEqual(plain, [], 'move these to package.nls.json');
    });

    it('package.json points VS Code at the l10n folder', () => {
      assert.equal((manifest as unknown as { l10n?: string }).l10n, './l10n');
    });
  });

  describe('l10n/bundle.l10n.json', () => {
    it('holds every message src/vscode passes to l10n.t and nothing else (npm run l10n writes it)', () => {
      const { bundle, problems } = englishBundle();
      assert.deepEqual(problems, [], 'l10n.t calls without one fixed literal message');
      assert.ok(
        Object.keys(bundle).length > 100,
        `only ${Object.keys(bundle).length} messages found: is the extraction reading the sources?`,
      );
      assert.equal(readFileSync(BUNDLE, 'utf8'), bundleText(bundle), 'the bundle is stale: run `npm run l10n`');
    });

    it('reads the message of l10n.t and vscode.l10n.t, and refuses a message that is not one literal', () => {
      const { messages, problems } = l10nMessages(
        'inline.ts',
        "vscode.l10n.t('Sent {0}', n); l10n.t(`Stopped.`); vscode.l10n.t(`Sent ${n}`); vscode.l10n.t(message);",
      );
      assert.deepEqual(messages, ['Sent {0}', 'Stopped.']);
      assert.deepEqual(
        problems.map((problem) => problem.text),
        ['vscode.l10n.t(`Sent ${n}`)', 'vscode.l10n.t(message)'],
      );
    });
  });

  describe('src/vscode', () => {
    it('shows no string literal that bypasses l10n.t', () => {
      const sources = localisedSources();
      assert.ok(
        sources.some((file) => file.endsWith(path.join('vscode', 'statusBar.ts'))),
        'src/vscode was not read',
      );
      const found = sources.flatMap((file) => bypassingStrings(path.relative(REPO, file), readFileSync(file, 'utf8')));
      assert.deepEqual(
        found.map(({ file, line, why, text }) => `${file}:${line}: ${why}: ${text}`),
        [],
        'wrap these in vscode.l10n.t (or mark a literal users never read with // l10n-ignore: why)',
      );
    });

    it('the check flags what users would read in English, and passes what goes through l10n.t or is never shown', () => {
      const source = `
        void vscode.window.showInformationMessage('Server started.', 'Open');
        vscode.window.setStatusBarMessage(\`$(check) \${where}: done\`, 5000);
        const items = [{ label: 'Mirror', detail: vscode.l10n.t('Send each datagram back.') }];
        item.tooltip = 'Click for the menu';
        void vscode.window.withProgress({ location, title: 'Sending' }, task);
        throw new WorkbenchError('BAD_SETTING', \`No server \${id} is running.\`, vscode.l10n.t('Pick one.'));
        const hint = ok ? '' : 'Pick another port';
        vscode.window.showWarningMessage(vscode.l10n.t('Bind to {0}?', host), { modal: true, detail: 'Other machines can reach it.' });
        vscode.window.showErrorMessage(vscode.l10n.t('{0} failed', 'the send'));

        log.info(\`[\${id}] replies: \${mode} for every datagram\`);
        if (mode === 'listen only') run();
        vscode.commands.executeCommand('udpWorkbench.showLog');
        const label = \`$(radio-tower) \${address}\`;
        // l10n-ignore: for the developer reading the stack
        throw new AggregateError(errors, 'disposables failed to dispose');
      `;
      assert.deepEqual(
        bypassingStrings('inline.ts', source).map(({ line, text }) => [line, text]),
        [
          [2, "'Server started.'"],
          [2, "'Open'"],
          [3, '`$(check) ${where}: done`'],
          [4, "'Mirror'"],
          [5, "'Click for the menu'"],
          [6, "'Sending'"],
          [7, '`No server ${id} is running.`'],
          [8, "'Pick another port'"],
          [9, "'Other machines can reach it.'"],
          [10, "'the send'"],
        ],
      );
    });
  });
});
