import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';

const REPO = path.resolve(__dirname, '..', '..', '..');
/** What may ship in the .vsix: the bundle, media, the English text, and the documents; never sources, tests or maps. */
const ALLOWED = [
  /^dist\/(extension|webview)\.js$/,
  /^dist\/webview\.css$/,
  /^media\/[\w./-]+\.(png|json)$/,
  /^(README|CHANGELOG)\.md$/,
  /^LICENSE$/,
  /^package(\.nls)?\.json$/,
  /^l10n\/bundle\.l10n\.json$/,
];

describe('The packaged extension', () => {
  it('holds only the bundles (extension, traffic view script and styles), media, the English text, README, CHANGELOG, LICENSE and package.json (vsce ls)', function () {
    this.timeout(60_000);
    // Built first, so the bundles are there to list: the test checks that .vscodeignore ships them.
    execFileSync(process.execPath, [path.join(REPO, 'esbuild.mjs')], { cwd: REPO });
    const vsce = path.join(REPO, 'node_modules', '@vscode', 'vsce', 'vsce');
    const listed = execFileSync(process.execPath, [vsce, 'ls', '--no-dependencies'], { cwd: REPO, encoding: 'utf8' })
      .split('\n')
      .filter(Boolean);
    const unexpected = listed.filter((file) => !ALLOWED.some((pattern) => pattern.test(file)));
    assert.deepEqual(unexpected, [], `files that should not ship: ${unexpected.join(', ')}`);
    for (const required of [
      'dist/extension.js',
      'dist/webview.js',
      'dist/webview.css',
      'package.json',
      'package.nls.json',
      'l10n/bundle.l10n.json',
      'README.md',
      'CHANGELOG.md',
      'LICENSE',
      'media/icon.png',
      'media/udp.tmLanguage.json',
      // The Marketplace shows the README from the package: every picture it shows must ship with it.
      ...new Set(readFileSync(path.join(REPO, 'README.md'), 'utf8').match(/media\/[\w./-]+\.png/g) ?? []),
    ]) {
      assert.ok(listed.includes(required), `${required} is missing from the package`);
    }
  });
});
