import { loadConfig } from '@lifexp/config';
import { memoryLog } from '@lifexp/config/testing';
import type { SyncEvent } from '@lifexp/contracts';
import { createDb, readChanges, schema } from '@lifexp/db';
import { createPostgresDatabase, dropPostgresDatabase, testDrivers } from '@lifexp/db/testing';
import { wallTime } from '@lifexp/notifications';
import {
  mimePart,
  selfSignedCertificate,
  startPushService,
  startSmtpSink,
  startWebhookReceiver,
} from '@lifexp/notifications/testing';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../src/server';
import { call, describeServer, eventually, send, signUp, wsClient } from './support';

// Real time, real sinks: the scheduler ticks every second, a person sets a reminder for the next
// minute and receives it once on every channel — in-app (list and live sync event), Web Push (an
// HTTPS push service that checks the VAPID JWT and decrypts), a signed webhook and an email.

const certificate = selfSignedCertificate();
const sinks = {} as {
  push: Awaited<ReturnType<typeof startPushService>>;
  webhooks: Awaited<ReturnType<typeof startWebhookReceiver>>;
  smtp: Awaited<ReturnType<typeof startSmtpSink>>;
};
const env: Record<string, string> = {
  NOTIFICATIONS_TICK_SECONDS: '1',
  JOBS_POLL_SECONDS: '1',
  WEBHOOKS_ALLOW_PRIVATE: 'true',
  OUTBOUND_CA_FILE: certificate.certFile,
  PUSH_MAX_SUBSCRIPTIONS_PER_ACCOUNT: '3',
  // Links in notices leave the app: they are made absolute on the public origin.
  PUBLIC_ORIGIN: 'https://lifexp.example.com',
};

beforeAll(async () => {
  sinks.push = await startPushService(certificate);
  sinks.webhooks = await startWebhookReceiver();
  sinks.smtp = await startSmtpSink();
  env.SMTP_URL = sinks.smtp.url;
});
afterAll(async () => {
  await sinks.push.close();
  await sinks.webhooks.close();
  await sinks.smtp.close();
  certificate.dispose();
});

const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describeServer(
  'notifications end to end',
  (ctx) => {
    it('a reminder for the next minute arrives once on each enabled channel', async () => {
      const { client, user, token, email } = await signUp(ctx().url);
      const zone = 'Asia/Kolkata';
      await client.users.updatePreferences.mutate({ timezone: zone });
      const browser = sinks.push.subscribe();
      const goneBrowser = sinks.push.subscribe(410);
      await client.push.subscribe.mutate({ endpoint: browser.endpoint, keys: browser.keys });
      await client.push.subscribe.mutate({
        endpoint: goneBrowser.endpoint,
        keys: goneBrowser.keys,
        expirationTime: null,
      });
      const { publicKey } = await client.push.publicKey.query();
      const path = `/hooks/${user.id}`;
      const hook = await client.webhooks.create.mutate({ url: sinks.webhooks.urlFor(path) });
      sinks.webhooks.setSecret(hook.secret, path);

      const { socket, client: live } = wsClient(ctx().url, { token });
      const events: SyncEvent[] = [];
      const subscription = live.sync.changes.subscribe(undefined, {
        onData: (tracked) => events.push(tracked.data as SyncEvent),
      });
      await eventually(
        async () => (events.some((e) => e.kind === 'ready') ? true : undefined),
        'the stream to start',
      );

      // A reminder for the next minute, as a person would set it.
      const minute = Math.floor(Date.now() / 60_000) * 60_000 + 60_000;
      await client.users.updatePreferences.mutate({
        preferences: {
          notifications: {
            reminders: [{ time: wallTime(minute, zone).time }],
            channels: { email: true },
          },
        },
      });

      const pushed = await eventually(
        async () => {
          const found = sinks.push.received.filter((m) => browser.endpoint.endsWith(m.path));
          return found.length > 0 ? found : undefined;
        },
        'the push message',
        100_000,
      );
      const hooked = await eventually(async () => {
        const found = sinks.webhooks.received.filter((m) => m.path === path);
        return found.length > 0 ? found : undefined;
      }, 'the webhook');
      const mailed = await eventually(async () => {
        const found = sinks.smtp.received.filter((m) => m.to.includes(email));
        return found.length > 0 ? found : undefined;
      }, 'the email');
      const notified = await eventually(async () => {
        const found = events.filter((e) => e.kind === 'change' && e.entity === 'notification');
        return found.length > 0 ? found : undefined;
      }, 'the notification event on the sync stream');
      // Several more ticks: still once everywhere.
      await settle(4000);
      subscription.unsubscribe();
      socket.close();

      const list = await client.notifications.list.query();
      expect(list.items).toHaveLength(1);
      const notice = list.items[0]!;
      expect(notice).toMatchObject({ kind: 'reminder', localDate: wallTime(minute, zone).date });
      // Not before its minute.
      expect(Date.parse(notice.createdAt)).toBeGreaterThanOrEqual(minute);

      expect(sinks.push.received.filter((m) => browser.endpoint.endsWith(m.path))).toHaveLength(1);
      expect(pushed[0]?.payload).toMatchObject({
        id: notice.id,
        kind: 'reminder',
        title: notice.title,
        body: notice.body,
      });
      expect((pushed[0]!.payload as { url: string }).url).toBe(`https://lifexp.example.com${notice.link}`);
      expect(pushed[0]?.vapidKey).toBe(publicKey);
      // The subscription whose service answered 410 is gone; the other stays.
      const stored = await ctx()
        .database.db.select({ endpoint: schema.pushSubscriptions.endpoint })
        .from(schema.pushSubscriptions)
        .where(eq(schema.pushSubscriptions.userId, user.id));
      expect(stored.map((row) => row.endpoint)).toEqual([browser.endpoint]);

      expect(sinks.webhooks.received.filter((m) => m.path === path)).toHaveLength(1);
      expect(hooked[0]).toMatchObject({
        id: `msg_${notice.id}`,
        verified: true,
        body: { type: 'notification.created', data: { id: notice.id } },
      });

      expect(sinks.smtp.received.filter((m) => m.to.includes(email))).toHaveLength(1);
      const text = mimePart(mailed[0]!.raw, 'text/plain') ?? '';
      expect(text).toContain(notice.body);
      expect(mimePart(mailed[0]!.raw, 'text/html')).toContain('Unsubscribe');

      expect(notified).toHaveLength(1);
      expect(notified[0]).toMatchObject({
        entity: 'notification',
        op: 'upsert',
        id: notice.id,
        data: { id: notice.id, kind: 'reminder' },
      });

      // The email's unsubscribe link: GET shows a button, POST turns the email channel off.
      const link = /No more emails: (\S+)/.exec(text)?.[1];
      expect(link).toMatch(/^https:\/\/lifexp\.example\.com\/api\/notifications\/unsubscribe\?token=/);
      const target = `${ctx().url}${new URL(link!).pathname}${new URL(link!).search}`;
      const page = await send(target);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('<form method="post"');
      expect((await client.users.profile.query()).preferences.notifications?.channels?.email).toBe(true);
      const done = await send(target, {
        method: 'POST',
        body: 'List-Unsubscribe=One-Click',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      expect(done.status).toBe(200);
      expect((await client.users.profile.query()).preferences.notifications).toMatchObject({
        channels: { email: false },
        reminders: [expect.any(Object)],
      });
      const forged = await send(
        `${ctx().url}/api/notifications/unsubscribe?token=${user.id}.${'A'.repeat(43)}`,
        { method: 'POST' },
      );
      expect(forged.status).toBe(400);

      // Unsubscribing a push endpoint: the caller's own only.
      const stranger = await signUp(ctx().url);
      expect(await stranger.client.push.unsubscribe.mutate({ endpoint: browser.endpoint })).toEqual({
        removed: 0,
      });
      expect(await client.push.unsubscribe.mutate({ endpoint: browser.endpoint })).toEqual({ removed: 1 });
    }, 150_000);

    it('push.subscribe validates the subscription and bounds how many an account keeps', async () => {
      const { client } = await signUp(ctx().url);
      const browser = sinks.push.subscribe();
      for (const bad of [
        { endpoint: 'http://example.com/push', keys: browser.keys },
        { endpoint: browser.endpoint, keys: { p256dh: 'short', auth: browser.keys.auth } },
        { endpoint: browser.endpoint, keys: { p256dh: browser.keys.p256dh, auth: '!'.repeat(22) } },
        { endpoint: browser.endpoint },
      ]) {
        const response = await call(ctx().url, 'push.subscribe', bad, {
          headers: { authorization: `Bearer ${(await signUp(ctx().url)).token}` },
        });
        expect(response.error?.data.code, JSON.stringify(bad)).toBe('BAD_REQUEST');
      }
      for (let i = 0; i < 3; i += 1) {
        const next = sinks.push.subscribe();
        await client.push.subscribe.mutate({ endpoint: next.endpoint, keys: next.keys });
      }
      const over = sinks.push.subscribe();
      await expect(
        client.push.subscribe.mutate({ endpoint: over.endpoint, keys: over.keys }),
      ).rejects.toMatchObject({
        data: { code: 'TOO_MANY_REQUESTS' },
      });
    });
  },
  env,
  { listen: true },
);

// Two server instances on one PostgreSQL database, both ticking every second (and called at once on
// top): each notice exists once, is delivered once, and reaches each channel once.
if (testDrivers.includes('postgres')) {
  describe('two instances on one PostgreSQL', () => {
    let url: string;
    const servers: RunningServer[] = [];
    beforeAll(async () => {
      url = await createPostgresDatabase();
      for (let i = 0; i < 2; i += 1) {
        const config = loadConfig({
          NODE_ENV: 'production',
          PORT: '0',
          REGISTRATIONS_PER_ADDRESS: '100000',
          ...env,
        });
        const database = await createDb({ databaseUrl: url, poolMax: 5 });
        servers.push(await startServer(config, { log: memoryLog().log, database }));
      }
    });
    afterAll(async () => {
      for (const server of servers) await server.close();
      await dropPostgresDatabase(url);
    });

    it('exactly once per user, notice and local date', async () => {
      const [a, b] = servers as [RunningServer, RunningServer];
      const people: (Awaited<ReturnType<typeof signUp>> & { path: string })[] = [];
      for (let i = 0; i < 8; i += 1) {
        const person = await signUp(i % 2 ? a.url : b.url);
        const path = `/twice/${person.user.id}`;
        const hook = await person.client.webhooks.create.mutate({ url: sinks.webhooks.urlFor(path) });
        sinks.webhooks.setSecret(hook.secret, path);
        people.push({ ...person, path });
      }
      const now = Date.now();
      for (const person of people) {
        await person.client.users.updatePreferences.mutate({
          timezone: 'America/New_York',
          preferences: { notifications: { reminders: [{ time: wallTime(now, 'America/New_York').time }] } },
        });
      }
      // On top of both schedulers ticking every second: both instances at once, several times.
      for (let round = 0; round < 5; round += 1)
        await Promise.all([
          a.deps.notifications.tick(),
          b.deps.notifications.tick(),
          a.deps.notifications.tick(),
        ]);
      const { db } = a.deps.database;
      await eventually(async () => {
        const rows = await db.select().from(schema.notifications);
        return rows.length === people.length && rows.every((row) => row.deliveredAt) ? rows : undefined;
      }, 'every notice delivered');
      await eventually(
        async () =>
          people.every((p) => sinks.webhooks.received.some((m) => m.path === p.path)) ? true : undefined,
        'every webhook',
      );
      await settle(4000);
      for (const person of people) {
        const rows = await db
          .select()
          .from(schema.notifications)
          .where(eq(schema.notifications.userId, person.user.id));
        expect(rows).toHaveLength(1);
        const changes = (await readChanges(db, person.user.id, 0, 1000)).filter(
          (c) => c.entity === 'notification',
        );
        expect(changes).toHaveLength(1);
        const hooks = sinks.webhooks.received.filter((m) => m.path === person.path);
        expect(hooks).toHaveLength(1);
        expect(hooks[0]?.verified).toBe(true);
        expect((await person.client.notifications.list.query()).items).toHaveLength(1);
      }
    });
  });
}
