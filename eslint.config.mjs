import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// The test harness: JavaScript that node runs as it is, type-checked by tsc (test/tsconfig.harness.json),
// so it is linted as the TypeScript is.
const HARNESS = ['test/e2e/**/*.mjs', 'test/host/**/*.mjs'];

export default tseslint.config(
  { ignores: ['dist/', 'out/', 'node_modules/', '.vscode-test/', 'dist-vsix/', 'reports/', '.stryker-tmp/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  { ...tseslint.configs.eslintRecommended, files: HARNESS },
  {
    files: ['**/*.ts', ...HARNESS],
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
      eqeqeq: ['error', 'always'],
      curly: ['error', 'multi-line'],
    },
  },
  {
    // The layering rule of the design: the core is plain Node and never reaches for the editor.
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: [{ name: 'vscode', message: 'src/core is plain Node: only src/vscode imports vscode.' }] },
      ],
    },
  },
  {
    // The command line is a second face over the core: it never reaches for the editor, nor for the editor's layer.
    files: ['src/cli/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'vscode', message: 'src/cli runs without VS Code: what it needs is in src/core.' }],
          patterns: [{ group: ['../vscode/*'], message: 'src/cli runs without VS Code: move the decision it needs into src/core.' }],
        },
      ],
    },
  },
  {
    // The traffic view's webview runs in a browser frame: neither the editor's API nor Node is there.
    files: ['src/webview/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'vscode', message: 'src/webview runs in a browser frame: talk to the extension through messages.ts.' }],
          patterns: [
            { group: ['node:*'], message: 'src/webview runs in a browser frame: Node modules are not there.' },
            {
              group: ['../core/*', '../vscode/*'],
              message: 'src/webview runs in a browser frame: it shares only messages.ts with the extension.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.mjs'],
    languageOptions: {
      globals: {
        console: 'readonly',
        process: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        URL: 'readonly',
        Buffer: 'readonly',
      },
    },
  },
);
