import { type ChildProcess, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createPostgresDatabase, dropPostgresDatabase, testDrivers } from '@lifexp/db/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { listening, type Started, spawnNode } from './processes';

// What the container's runtime stage holds, tested without an image: the bundle and the production
// dependencies (`pnpm deploy --prod`), alone in an empty directory outside the workspace, started
// with plain node as the container starts them.

vi.setConfig({ testTimeout: 180_000, hookTimeout: 180_000 });

const serverDir = fileURLToPath(new URL('..', import.meta.url));
let app: string;
const children: ChildProcess[] = [];
const databases: string[] = [];

beforeAll(() => {
  app = join(mkdtempSync(join(tmpdir(), 'lifexp-runtime-')), 'app');
  // The production dependencies as the Dockerfile gets them, then a fresh bundle in place of any dist.
  execFileSync('pnpm', ['--filter', '@lifexp/server', 'deploy', '--prod', '--offline', app], {
    cwd: serverDir,
    stdio: 'pipe',
  });
  rmSync(join(app, 'dist'), { recursive: true, force: true });
  execFileSync(process.execPath, ['scripts/build.mjs', `--outdir=${join(app, 'dist')}`], {
    cwd: serverDir,
    stdio: 'pipe',
  });
});

afterAll(async () => {
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const url of databases) await dropPostgresDatabase(url);
  if (app) rmSync(join(app, '..'), { recursive: true, force: true });
});

/** `node dist/<entry>` in the runtime directory, with nothing of the workspace in reach. */
function run(entry: string, env: Record<string, string>): Started {
  const started = spawnNode([join('dist', entry)], app, env);
  children.push(started.child);
  return started;
}

it('holds the bundle, the migrations and only the externals as dependencies', () => {
  expect(readdirSync(app).sort()).toEqual([
    'dist',
    'node_modules',
    'package.json',
    'pnpm-lock.yaml',
    'pnpm-workspace.yaml',
  ]);
  for (const entry of ['main.mjs', 'migrate.mjs', 'worker.mjs', 'runtime.mjs', 'package.json']) {
    expect(existsSync(join(app, 'dist', entry))).toBe(true);
  }
  expect(readdirSync(join(app, 'dist/drizzle')).some((name) => name.endsWith('.sql'))).toBe(true);
  expect(
    readdirSync(join(app, 'node_modules'))
      .filter((name) => !name.startsWith('.'))
      .sort(),
  ).toEqual(['@electric-sql', '@node-rs']);
  // No TypeScript sources and no workspace packages travel with it.
  expect(existsSync(join(app, 'src'))).toBe(false);
  expect(
    readdirSync(join(app, 'node_modules/.pnpm')).filter((name) => /lifexp|tsx|typescript/.test(name)),
  ).toEqual([]);
});

const storages: Record<string, () => Promise<Record<string, string>>> = {
  pglite: async () => ({ DATA_DIR: join(app, '..', `data-${Date.now()}`) }),
  postgres: async () => {
    const url = await createPostgresDatabase();
    databases.push(url);
    return { DATABASE_URL: url };
  },
};

for (const driver of testDrivers) {
  describe(`the runtime file set [${driver}]`, () => {
    it('migrates, starts, passes /readyz, serves the API and its socket, and stops on SIGTERM', async () => {
      const storage = await storages[driver]!();
      const migrate = run('migrate.mjs', storage);
      expect(await migrate.exited).toBe(0);
      expect(migrate.stdout.join('\n')).toMatch(/^migrations applied to /);

      const server = run('main.mjs', storage);
      const url = await listening(server, 150_000);
      const ready = await fetch(`${url}/readyz`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toEqual({ status: 'ready' });

      // A password hash (the native argon2), a write and a read (the database), a statistics task
      // (the worker thread beside the bundle).
      const registered = await fetch(`${url}/trpc/users.register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: `bundle-${driver}@example.test`, password: 'correct horse battery' }),
      });
      expect(registered.status).toBe(200);
      const { token } = ((await registered.json()) as { result: { data: { token: string } } }).result.data;
      const auth = { 'content-type': 'application/json', authorization: `Bearer ${token}` };
      const created = await fetch(`${url}/trpc/metrics.create`, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify({ name: 'Mood', type: 'rating', category: 'mood' }),
      });
      expect(created.status).toBe(200);
      const trends = await fetch(`${url}/trpc/analytics.trends?input=${encodeURIComponent('{}')}`, {
        headers: auth,
      });
      expect(trends.status).toBe(200);
      const socket = new WebSocket(`${url.replace('http', 'ws')}/trpc`);
      await new Promise((resolve, reject) => {
        socket.once('open', resolve);
        socket.once('error', reject);
      });
      const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));

      server.child.kill('SIGTERM');
      expect(await closed).toBe(1012);
      expect(await server.exited).toBe(0);
      expect(server.stderr).toEqual([]);
    });
  });
}
