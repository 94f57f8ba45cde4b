import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';

const ROOT = path.join(__dirname, '..', '..', '..');
const read = (file: string): string => fs.readFileSync(path.join(ROOT, file), 'utf8');

interface Manifest {
  contributes: {
    commands: Array<{ command: string; title: string; category?: string }>;
    menus: { commandPalette: Array<{ command: string; when?: string }> };
    configuration: { properties: Record<string, { default: unknown }> };
  };
}

const manifest = JSON.parse(read('package.json')) as Manifest;
const nls = JSON.parse(read('package.nls.json')) as Record<string, string>;
const english = (text: string): string => text.replace(/^%(.+)%$/, (_, key: string) => nls[key] ?? text);

/** The first cell of each row of the table under `## heading` (up to the next heading), header rows left out. */
function firstCells(readme: string, heading: string): string[] {
  const start = readme.indexOf(`\n${heading}\n`);
  assert.ok(start >= 0, `README.md has no "${heading}" section`);
  const section = readme.slice(start + heading.length + 2).split(/\n#{1,3} /)[0];
  return section
    .split('\n')
    .filter((line) => line.startsWith('| `'))
    .map((line) => line.split('|')[1].trim());
}

/** The backquoted names in a cell: "`UDP: Start Capture to File` / `UDP: Stop Capture`" gives both. */
const quoted = (cell: string): string[] => [...cell.matchAll(/`([^`]+)`/g)].map((match) => match[1]);

describe('README tables against package.json', () => {
  const readme = read('README.md');

  it('lists every command of the Command Palette as "UDP: Title", and no other', () => {
    const hidden = new Set(
      manifest.contributes.menus.commandPalette.filter((entry) => entry.when === 'false').map((entry) => entry.command),
    );
    const inPalette = manifest.contributes.commands
      .filter((command) => !hidden.has(command.command))
      .map((command) => `${english(command.category ?? '')}: ${english(command.title)}`);
    const listed = firstCells(readme, '## Commands').flatMap(quoted);
    assert.deepEqual(
      inPalette.filter((title) => !listed.includes(title)),
      [],
      'commands missing from the README table',
    );
    assert.deepEqual(
      listed.filter((title) => !inPalette.includes(title)),
      [],
      'README lists commands that do not exist',
    );
  });

  it('lists every setting with its default, and no other', () => {
    const properties = manifest.contributes.configuration.properties;
    const start = readme.indexOf('\n## Settings\n');
    const rows = readme
      .slice(start)
      .split(/\n## /)[1]
      .split('\n')
      .filter((line) => line.startsWith('| `'));
    const listed = new Map<string, string>();
    for (const row of rows) {
      const [, names, defaults] = row.split('|').map((cell) => cell.trim());
      // "`udpWorkbench.simulation.delayMs` / `jitterMs`": the second name is in the first one's section.
      let section = '';
      const defaultValues = quoted(defaults);
      quoted(names).forEach((name, i) => {
        const full = name.startsWith('udpWorkbench.') ? name : `${section}.${name}`;
        section = full.slice(0, full.lastIndexOf('.'));
        listed.set(full, defaultValues[i] ?? defaultValues[0]);
      });
    }
    assert.deepEqual(
      Object.keys(properties).filter((key) => !listed.has(key)),
      [],
      'settings missing from the README table',
    );
    assert.deepEqual(
      [...listed.keys()].filter((key) => !(key in properties)),
      [],
      'README lists settings that do not exist',
    );
    for (const [key, shown] of listed) {
      const value = properties[key]?.default;
      assert.equal(shown, value === '' ? '""' : String(value), `${key}: the README's default is not package.json's`);
    }
  });
});
