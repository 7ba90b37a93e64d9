import { createPostgresDatabase, dropPostgresDatabase, testDrivers } from '@lifexp/db/testing';
import { afterAll, describe, expect, it } from 'vitest';
import {
  allowSlowMachines,
  closeDevices,
  createMetric,
  device,
  freePort,
  listening,
  ready,
  type ServerProcess,
  signUp,
  spawnServer,
  stopServerProcesses,
  subscribe,
  waitFor,
} from './support';

// ROLE=web serves HTTP and WebSocket, ROLE=worker runs the job queues: two real processes on one
// PostgreSQL database, as fly.toml's [processes] runs them.

allowSlowMachines();

const databases: string[] = [];

afterAll(async () => {
  await closeDevices();
  await stopServerProcesses('SIGTERM');
  for (const url of databases.splice(0)) await dropPostgresDatabase(url);
});

const logged = (started: ServerProcess, message: string) =>
  started.stdout.some((line) => line.includes(`"msg":"${message}"`));

describe('the embedded database', () => {
  it.each(['web', 'worker'])('refuses ROLE=%s with one clear line, before opening anything', async (role) => {
    const started = spawnServer({ ROLE: role, DATA_DIR: '/nonexistent/never-created', PORT: '0' });
    expect(await started.exited).toBe(1);
    expect(started.stderr.join('\n')).toBe(
      `lifexp: invalid configuration: ROLE ${role} needs DATABASE_URL: the embedded database belongs to one process, which runs with ROLE=all`,
    );
  });
});

if (testDrivers.includes('postgres')) {
  describe('ROLE=web and ROLE=worker as two processes on one PostgreSQL database', () => {
    it('a write on web is computed into insights by worker and pushed to a subscriber on web', async () => {
      const databaseUrl = await createPostgresDatabase();
      databases.push(databaseUrl);
      const shared = { DATABASE_URL: databaseUrl, INSIGHTS_DEBOUNCE_SECONDS: '0', JOBS_POLL_SECONDS: '1' };
      const web = spawnServer({ ...shared, ROLE: 'web', PORT: String(await freePort()) });
      const worker = spawnServer({ ...shared, ROLE: 'worker', PORT: String(await freePort()) });
      const [webUrl, workerUrl] = await Promise.all([listening(web), listening(worker)]);

      // The worker answers its probes only.
      expect((await fetch(`${workerUrl}/readyz`)).status).toBe(200);
      const refused = await fetch(`${workerUrl}/trpc/users.register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'nobody@example.test', password: 'correct horse battery' }),
      });
      expect(refused.status).toBe(404);

      // A device subscribed over a real WebSocket on web; the other device writes on web.
      const account = await signUp(webUrl);
      const phone = device(webUrl, account.token, { transport: 'websocket' });
      const laptop = device(webUrl, account.token);
      const stream = subscribe(phone);
      await ready(stream);
      const metricId = await createMetric(laptop, 'Mood');
      await laptop.trpc.entries.create.mutate({ metricId, value: 4, date: '2026-03-01' });

      const insights = await waitFor(() => stream.changes().find((event) => event.entity === 'insights'), {
        timeoutMs: 120_000,
        describe: () => ({
          events: stream.events,
          worker: worker.stdout.slice(-5),
          web: web.stdout.slice(-5),
        }),
      });
      expect(insights.op).toBe('upsert');
      // The worker computed it; the web process never ran a job. The worker logs it after the store
      // commits, so its line may reach this process's pipe after the event reached the device.
      await waitFor(() => logged(worker, 'insights recomputed'), {
        timeoutMs: 10_000,
        describe: () => ({ worker: worker.stdout.slice(-5) }),
      });
      expect(logged(web, 'insights recomputed')).toBe(false);
      // And the device can read the set the worker stored.
      const set = await phone.trpc.analytics.insights.query({});
      expect(set).toBeDefined();

      // Both stop cleanly on SIGTERM.
      web.child.kill('SIGTERM');
      worker.child.kill('SIGTERM');
      expect(await web.exited).toBe(0);
      expect(await worker.exited).toBe(0);
    });
  });
}
