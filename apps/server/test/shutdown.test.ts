import { loadConfig } from '@lifexp/config';
import { memoryLog } from '@lifexp/config/testing';
import { createTestDatabase } from '@lifexp/db/testing';
import { expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { startServer } from '../src/server';

// A server start, a shutdown and a PGlite close: generous on a busy two-core machine (waits poll, never time).
vi.setConfig({ testTimeout: 120_000 });

it('tells connected WebSocket clients to reconnect, then closes them and the database', async () => {
  const database = await createTestDatabase('pglite');
  const server = await startServer(loadConfig({ NODE_ENV: 'production', PORT: '0' }), {
    log: memoryLog().log,
    database: database.database,
  });
  const socket = new WebSocket(`${server.url.replace('http', 'ws')}/trpc`);
  await new Promise((resolve) => socket.once('open', resolve));
  const messages: unknown[] = [];
  socket.on('message', (data) => messages.push(JSON.parse(String(data))));
  const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));

  await server.close();
  expect(await closed).toBe(1012);
  expect(messages).toContainEqual({ id: null, method: 'reconnect' });
  expect(await database.database.isReady()).toBe(false);
  await expect(fetch(`${server.url}/healthz`)).rejects.toThrow();
});
