// `pnpm start`: builds when the bundle is missing or older than any source it is made from, then runs
// it in this process with plain node, in production mode. The container runs the bundle directly
// (`node dist/main.mjs`); this wrapper only saves a newcomer the build step.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = join(root, 'apps/server/dist');
const main = join(dist, 'main.mjs');
const stamp = join(dist, '.build-stamp');

/** Folders and files the bundle (or the web build beside it) is made from. */
const SOURCES = ['packages', 'apps', 'pnpm-lock.yaml', 'pnpm-workspace.yaml'];
const SKIP = new Set(['node_modules', 'dist', '.turbo', 'test', 'test-screenshots', 'coverage', '.data']);

function newestSource(path) {
  const stat = statSync(path, { throwIfNoEntry: false });
  if (!stat) return 0;
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = 0;
  for (const entry of readdirSync(path, { withFileTypes: true })) {
    if (SKIP.has(entry.name) || entry.name === 'test-results.json') continue;
    newest = Math.max(newest, newestSource(join(path, entry.name)));
  }
  return newest;
}

function stale() {
  if (!existsSync(main) || !existsSync(stamp)) return 'no build yet';
  const built = statSync(stamp).mtimeMs;
  const newest = Math.max(...SOURCES.map((source) => newestSource(join(root, source))));
  return newest > built ? 'sources changed since the last build' : null;
}

const reason = stale();
if (reason) {
  process.stdout.write(`building (${reason})…\n`);
  const built = spawnSync('pnpm', ['build'], { cwd: root, stdio: 'inherit' });
  if (built.status !== 0) process.exit(built.status ?? 1);
}

process.env.NODE_ENV ??= 'production';
// Relative paths (DATA_DIR) are taken from where the command was typed.
process.env.INIT_CWD ??= process.cwd();
await import(pathToFileURL(main).href);
