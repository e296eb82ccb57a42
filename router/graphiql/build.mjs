// Builds the back-office GraphiQL into dist/: index.html plus content-hashed assets under
// dist/assets/, all served by the router (router/src/graphiql/). Nothing is loaded from
// elsewhere: the fonts GraphiQL inlines as data: URIs are written out as files so the page's CSP
// can say `font-src 'self'`. The saved staff operations (operations/*.graphql, see operations.mjs)
// are bundled in as the module `tenor:staff-operations`.
//
// Usage: node build.mjs   (./dev runs it when an input changed; output is not committed)

import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

import { loadStaffOperations } from './operations.mjs';

const root = dirname(fileURLToPath(import.meta.url));
const out = join(root, 'dist');
const tmp = join(root, `dist.tmp.${process.pid}`);
// The page lives at /graphiql; assets are referenced absolutely so /graphiql and /graphiql/ work.
const BASE = '/graphiql/assets/';

const staffOperations = await loadStaffOperations(join(root, 'operations'));

// `import staffOperations from 'tenor:staff-operations'` in the page: the parsed files as JSON.
const staffOperationsModule = {
  name: 'tenor-staff-operations',
  setup(build) {
    build.onResolve({ filter: /^tenor:staff-operations$/ }, (args) => ({ path: args.path, namespace: 'tenor' }));
    build.onLoad({ filter: /.*/, namespace: 'tenor' }, () => ({
      contents: JSON.stringify(staffOperations),
      loader: 'json',
    }));
  },
};

const hashOf = (bytes) => createHash('sha256').update(bytes).digest('hex').slice(0, 16);

const result = await esbuild.build({
  absWorkingDir: root,
  entryPoints: { app: 'src/main.jsx' },
  bundle: true,
  format: 'esm',
  target: ['es2020', 'chrome100', 'firefox100', 'safari15'],
  minify: true,
  sourcemap: false,
  legalComments: 'eof',
  jsx: 'automatic',
  define: { 'process.env.NODE_ENV': '"production"' },
  loader: { '.woff2': 'file', '.woff': 'file', '.ttf': 'file', '.svg': 'dataurl' },
  outdir: 'out',
  write: false,
  logLevel: 'warning',
  plugins: [staffOperationsModule],
});

const files = new Map(); // name under assets/ -> bytes
let js;
let css;
for (const file of result.outputFiles) {
  if (file.path.endsWith('.js')) js = file.text;
  else if (file.path.endsWith('.css')) css = file.text;
  else throw new Error(`unexpected build output ${file.path}`);
}
if (!js || !css) throw new Error('the build produced no JavaScript or no CSS');

// data:font/... → assets/font-<hash>.<ext>
css = css.replace(/url\(\s*(["']?)data:font\/([a-z0-9.+-]+);base64,([A-Za-z0-9+/=]+)\1\s*\)/g, (_m, _q, type, data) => {
  const bytes = Buffer.from(data, 'base64');
  const ext = type.replace(/^x-/, '').replace(/[^a-z0-9]/g, '') || 'font';
  const name = `font-${hashOf(bytes)}.${ext}`;
  files.set(name, bytes);
  return `url(${BASE}${name})`;
});
if (/url\(\s*["']?(https?:)?\/\//.test(css) || /@import/.test(css)) {
  throw new Error('the CSS references another origin; the page must load only from the router');
}

const jsName = `app-${hashOf(js)}.js`;
const cssName = `app-${hashOf(css)}.css`;
files.set(jsName, Buffer.from(js));
files.set(cssName, Buffer.from(css));

const template = await readFile(join(root, 'src/index.html'), 'utf8');
const html = template.replace('__JS__', BASE + jsName).replace('__CSS__', BASE + cssName);

await rm(tmp, { recursive: true, force: true });
await mkdir(join(tmp, 'assets'), { recursive: true });
for (const [name, bytes] of files) await writeFile(join(tmp, 'assets', name), bytes);
await writeFile(join(tmp, 'index.html'), html);
await rm(out, { recursive: true, force: true });
await rename(tmp, out);

const kib = (n) => `${(n / 1024).toFixed(0)} KiB`;
console.log(
  `graphiql: ${staffOperations.length} saved staff operations, dist/index.html, ${[...files].map(([n, b]) => `assets/${n} (${kib(b.length)})`).join(', ')}`,
);
