// Three bundles: the extension (dist/extension.js, Node), the traffic view's webview (dist/webview.js and
// dist/webview.css, a browser frame) and the `udpw` command line (dist/cli.js, Node without VS Code; not in the .vsix). `--watch` rebuilds on change (with the
// problem-matcher lines that .vscode/tasks.json waits for); `--production` minifies for packaging.
import * as esbuild from 'esbuild';

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');

/** Prints the start/end lines and errors in the format the `esbuild-problem-matcher` of .vscode/tasks.json reads. */
const problemMatcherPlugin = {
  name: 'problem-matcher',
  setup(build) {
    build.onStart(() => console.log('[watch] build started'));
    build.onEnd((result) => {
      for (const { text, location } of result.errors) {
        console.error(`✘ [ERROR] ${text}`);
        if (location) console.error(`    ${location.file}:${location.line}:${location.column}:`);
      }
      console.log('[watch] build finished');
    });
  },
};

const common = {
  bundle: true,
  minify: production,
  sourcemap: !production,
  sourcesContent: false,
  logLevel: 'silent',
  plugins: [problemMatcherPlugin],
};
const contexts = await Promise.all([
  esbuild.context({
    ...common,
    entryPoints: ['src/extension.ts'],
    format: 'cjs',
    platform: 'node',
    target: 'node18',
    outfile: 'dist/extension.js',
    external: ['vscode'],
  }),
  esbuild.context({
    ...common,
    entryPoints: ['src/cli/main.ts'],
    format: 'cjs',
    platform: 'node',
    target: 'node18',
    outfile: 'dist/cli.js',
    // The glob library's ES modules ask import.meta.url for a require(); in this CommonJS bundle it is this file's URL.
    define: { 'import.meta.url': 'importMetaUrl' },
    banner: { js: "#!/usr/bin/env node\nconst importMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
  }),
  esbuild.context({
    ...common,
    entryPoints: ['src/webview/main.ts'],
    format: 'iife',
    platform: 'browser',
    target: 'es2022',
    // The stylesheets main.ts imports (uPlot's and ours) land beside it as dist/webview.css.
    outfile: 'dist/webview.js',
  }),
]);

if (watch) {
  await Promise.all(contexts.map((ctx) => ctx.watch()));
} else {
  await Promise.all(contexts.map((ctx) => ctx.rebuild()));
  await Promise.all(contexts.map((ctx) => ctx.dispose()));
}
