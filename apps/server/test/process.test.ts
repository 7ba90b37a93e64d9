import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { listening, spawnNode } from './processes';

// Real processes start through tsx and open PGlite: generous on a busy two-core machine.
vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });

const serverDir = fileURLToPath(new URL('..', import.meta.url));

/** Runs the real entry point (`src/main.ts`) as its own process, as `pnpm start` does. */
const run = (env: Record<string, string>) => spawnNode(['--import', 'tsx', 'src/main.ts'], serverDir, env);

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'lifexp-proc-'));
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('the server process', () => {
  it('refuses a bad environment variable with one line naming it', async () => {
    const started = run({ PORT: 'eighty', DATA_DIR: tempDir() });
    expect(await started.exited).toBe(1);
    expect(started.stderr).toEqual([
      'lifexp: invalid configuration: PORT must be an integer from 0 to 65535 (got "eighty")',
    ]);
    expect(started.stdout).toEqual([]);
  });

  it('exits with one clear line when DATABASE_URL points at nothing', async () => {
    const started = run({ DATABASE_URL: 'postgres://lifexp@127.0.0.1:1/lifexp' });
    expect(await started.exited).toBe(1);
    expect(started.stderr).toHaveLength(1);
    expect(started.stderr[0]).toMatch(
      /^lifexp: cannot connect to PostgreSQL at 127\.0\.0\.1:1\/lifexp: .*ECONNREFUSED/,
    );
  });

  it('serves on the embedded database, refuses a second server on the same DATA_DIR, and drains on SIGTERM', async () => {
    const dataDir = tempDir();
    const first = run({ DATA_DIR: dataDir });
    const url = await listening(first, 30_000);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    expect((await fetch(`${url}/readyz`)).status).toBe(200);

    const second = run({ DATA_DIR: dataDir });
    expect(await second.exited).toBe(1);
    expect(second.stderr).toHaveLength(1);
    expect(second.stderr[0]).toMatch(
      /^lifexp: the data directory .* is in use by another process \(pid \d+\)/,
    );
    // The first server is unharmed.
    expect((await fetch(`${url}/readyz`)).status).toBe(200);

    // A request in flight when SIGTERM arrives: its body is still being sent.
    const { port } = new URL(url);
    const socket = connect(Number(port), '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    const body = JSON.stringify({ padding: 'x'.repeat(100) });
    socket.write(
      `POST /trpc/system.ping HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`,
    );
    socket.write(body.slice(0, 10));
    const response = new Promise<string>((resolve) => {
      let text = '';
      socket.on('data', (chunk) => {
        text += String(chunk);
      });
      socket.on('close', () => resolve(text));
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    first.child.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 300));
    // New connections are no longer accepted while the old one finishes.
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
    socket.write(body.slice(10));
    const answer = await response;
    expect(answer).toMatch(/^HTTP\/1\.1 \d{3} /);
    expect(answer).toContain('"code":"METHOD_NOT_SUPPORTED"');
    expect(await first.exited).toBe(0);
    expect(first.stdout.map((line) => JSON.parse(line).msg)).toContain('stopped');

    // The lock was released and the data survived: a new server starts on the same directory.
    const third = run({ DATA_DIR: dataDir });
    const thirdUrl = await listening(third, 30_000);
    expect((await fetch(`${thirdUrl}/readyz`)).status).toBe(200);
    third.child.kill('SIGINT');
    expect(await third.exited).toBe(0);
  });
});
