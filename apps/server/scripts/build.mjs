// `pnpm build` for the server: one self-contained bundle in dist/, run with plain `node`.
//
//   dist/main.mjs      the server (ROLE=all|web|worker)
//   dist/migrate.mjs   applies the migrations and exits (release command)
//   dist/runtime.mjs   startServer() for the end-to-end suite, which runs against the bundle
//   dist/worker.mjs    the analytics worker thread (the pool loads ./worker.mjs beside itself)
//   dist/chunk-*.mjs   code the entries share
//   dist/drizzle/      the committed migrations
//   dist/scalar-standalone.js  the API docs page's script
//   dist/web/          the web app's static build, when apps/web has one (copied by the root build)
//
// Native and wasm packages stay external: they are the server's only production dependencies.
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
// `--outdir=<dir>` builds elsewhere (the runtime file-set test builds into an empty directory).
const outdirArgument = process.argv.find((argument) => argument.startsWith('--outdir='));
const dist = outdirArgument ? resolve(outdirArgument.slice('--outdir='.length)) : join(root, 'dist');
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

// Kept external: loaded from node_modules at run time (native addon, wasm + data files).
const external = [
  ...Object.keys(manifest.dependencies ?? {}),
  // Optional accelerators that ws and pg try to load and do without.
  'bufferutil',
  'utf-8-validate',
  'pg-native',
];

rmSync(dist, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });

const started = performance.now();
const result = await build({
  absWorkingDir: root,
  entryPoints: {
    main: 'src/main.ts',
    migrate: 'src/migrate.ts',
    runtime: 'src/runtime.ts',
    worker: '../../packages/insights/src/worker.ts',
  },
  outdir: dist,
  outExtension: { '.js': '.mjs' },
  // Chunks sit beside the entries, so `new URL('./worker.mjs', import.meta.url)` and the migrations
  // folder resolve the same from any of them.
  chunkNames: 'chunk-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20.19',
  sourcemap: 'linked',
  legalComments: 'none',
  external,
  define: { 'globalThis.LIFEXP_BUNDLED': 'true' },
  // CommonJS dependencies inside an ES module bundle still call require() for Node built-ins.
  banner: {
    js: "import { createRequire as __lifexpCreateRequire } from 'node:module'; const require = __lifexpCreateRequire(import.meta.url);",
  },
  metafile: true,
  logLevel: 'warning',
});

cpSync(join(root, '../../packages/db/drizzle'), join(dist, 'drizzle'), { recursive: true });
// The API docs page's script (GET /api/docs/standalone.js), served from our own origin.
cpSync(
  join(
    dirname(
      fileURLToPath(import.meta.resolve('@scalar/api-reference', pathToFileURL(join(root, 'package.json')))),
    ),
    'browser',
    'standalone.js',
  ),
  join(dist, 'scalar-standalone.js'),
);
// The bundle is an ES module package of its own wherever it is copied.
writeFileSync(join(dist, 'package.json'), `${JSON.stringify({ type: 'module' }, null, 2)}\n`);

const bytes = Object.values(result.metafile.outputs).reduce((sum, output) => sum + output.bytes, 0);
process.stdout.write(
  `server bundle: ${Object.keys(result.metafile.outputs).filter((name) => name.endsWith('.mjs')).length} files, ${(bytes / 1024 / 1024).toFixed(1)} MB in ${Math.round(performance.now() - started)} ms → ${dist}\n`,
);
