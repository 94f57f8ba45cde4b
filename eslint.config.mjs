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
    // dependency-cruiser's rules file is CommonJS.
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { module: 'writable' } },
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
