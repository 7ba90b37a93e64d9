import { randomUUID } from 'node:crypto';
import { type Db, schema, setNextNoticeAt, storeInsightSet, usersDueForNotices } from '@lifexp/db';
import { startWebhookReceiver } from '@lifexp/notifications/testing';
import { and, asc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { NOTIFY_QUEUE, WEBHOOK_QUEUE } from '../src/notifications';
import { call, describeServer, errorOf, eventually, signUp, type TestServer } from './support';

// The scheduler with fixed clocks (ticks called with a given instant, on dates long past, so the
// running scheduler never finds them), deliveries through the real queue, the procedures, and the
// failure paths. The real-time end-to-end run is in notifications-live.test.ts.

type Client = Awaited<ReturnType<typeof signUp>>['client'];
const at = (iso: string) => Date.parse(iso);

async function noticesOf(db: Db, userId: string) {
  return db
    .select()
    .from(schema.notifications)
    .where(eq(schema.notifications.userId, userId))
    .orderBy(asc(schema.notifications.createdAt));
}

async function person(ctx: TestServer, timezone: string, notifications: Record<string, unknown>) {
  const account = await signUp(ctx.url);
  await account.client.users.updatePreferences.mutate({ timezone, preferences: { notifications } });
  return account;
}

async function delivered(ctx: TestServer, userId: string, count: number) {
  return eventually(async () => {
    const rows = await noticesOf(ctx.database.db, userId);
    return rows.length === count && rows.every((row) => row.deliveredAt !== null) ? rows : undefined;
  }, `${count} delivered notices`);
}

async function mood(client: Client, name = 'Mood') {
  return client.metrics.create.mutate({ name, type: 'rating', category: 'mood' });
}

const receiverBox: { receiver?: Awaited<ReturnType<typeof startWebhookReceiver>> } = {};
beforeAll(async () => {
  receiverBox.receiver = await startWebhookReceiver();
});
afterAll(async () => {
  await receiverBox.receiver?.close();
});

describeServer(
  'notifications with fixed clocks',
  (ctx) => {
    const tick = (iso: string) => ctx().server.deps.notifications.tick(at(iso));

    it('settings are validated: bad ones are refused with the path, nothing changes', async () => {
      const { client } = await signUp(ctx().url);
      const good = {
        reminders: [{ time: '08:30', days: [1, 2, 3, 4, 5] }],
        streakAtRisk: { enabled: true, time: '20:00' },
        newInsights: true,
        weeklySummary: { enabled: true, day: 0, time: '18:00' },
        quietHours: { start: '22:00', end: '07:00' },
        channels: { inApp: true, push: false, webhook: true, email: false },
      };
      const saved = await client.users.updatePreferences.mutate({ preferences: { notifications: good } });
      expect(saved.preferences.notifications).toEqual(good);
      for (const [bad, path] of [
        [{ reminders: [{ time: '8:30' }] }, 'notifications.reminders.0.time'],
        [{ reminders: [{ time: '24:00' }] }, 'notifications.reminders.0.time'],
        [{ reminders: [{ time: '08:30', days: [7] }] }, 'notifications.reminders.0.days.0'],
        [{ reminders: [{ time: '08:30', days: [1, 1] }] }, 'notifications.reminders.0.days'],
        [{ reminders: [{ time: '08:30', metricIds: ['nope'] }] }, 'notifications.reminders.0.metricIds.0'],
        [{ reminders: [{ time: '08:30' }, { time: '08:30' }] }, 'notifications.reminders'],
        [
          { reminders: Array.from({ length: 11 }, (_, i) => ({ time: `0${i % 10}:1${i % 6}` })) },
          'notifications.reminders',
        ],
        [{ quietHours: { start: '22:00', end: '22:00' } }, 'notifications.quietHours'],
        [{ channels: { sms: true } }, 'notifications.channels'],
        [{ weeklySummary: { enabled: true, day: 9, time: '18:00' } }, 'notifications.weeklySummary.day'],
        [{ surprise: 1 }, 'notifications'],
      ] as const) {
        const error = await errorOf(
          client.users.updatePreferences.mutate({ preferences: { notifications: bad as never } }),
        );
        expect(error.code, JSON.stringify(bad)).toBe('BAD_REQUEST');
        expect(error.message, JSON.stringify(bad)).toContain(path);
      }
      expect((await client.users.profile.query()).preferences.notifications).toEqual(good);
    });

    it('Asia/Kolkata (+05:30): a 09:30 reminder fires once, at 09:30 local, and is delivered in-app', async () => {
      const { client, user } = await person(ctx(), 'Asia/Kolkata', { reminders: [{ time: '09:30' }] });
      await tick('2026-01-12T03:59:00Z');
      expect(await noticesOf(ctx().database.db, user.id)).toHaveLength(0);
      await tick('2026-01-12T04:00:00Z');
      await tick('2026-01-12T04:00:30Z');
      await tick('2026-01-12T04:07:00Z');
      const [notice] = await delivered(ctx(), user.id, 1);
      expect(notice).toMatchObject({
        kind: 'reminder',
        localDate: '2026-01-12',
        dedupeKey: 'reminder:09:30',
        inApp: true,
      });
      const list = await client.notifications.list.query();
      expect(list.items).toHaveLength(1);
      expect(list.items[0]).toMatchObject({ kind: 'reminder', link: '/log?date=2026-01-12', readAt: null });
      expect(list.items[0]?.body).toMatch(/^Nothing is logged yet today/);
      expect(list.unread).toBe(1);
      // The next day it fires again, once.
      await tick('2026-01-13T04:00:00Z');
      await tick('2026-01-13T04:01:00Z');
      await delivered(ctx(), user.id, 2);
    });

    it('a tick reads only the users whose moment has come, and stores each one its next moment', async () => {
      const { db } = ctx().database;
      const { client, user } = await person(ctx(), 'UTC', { reminders: [{ time: '09:00' }] });
      const nextOf = async () =>
        (
          await db.select().from(schema.users).where(eq(schema.users.id, user.id))
        )[0]?.nextNoticeAt?.toISOString();
      const dueAt = async (iso: string) =>
        (await usersDueForNotices(db, new Date(iso), 100_000)).some((due) => due.id === user.id);
      // New settings: looked at by the next tick, whatever its clock.
      expect(await nextOf()).toBe('1970-01-01T00:00:00.000Z');
      await tick('2026-04-01T08:00:00Z');
      expect(await noticesOf(db, user.id)).toEqual([]);
      expect(await nextOf()).toBe('2026-04-01T09:00:00.000Z');
      expect(await dueAt('2026-04-01T08:59:59Z')).toBe(false);
      expect(await dueAt('2026-04-01T09:00:00Z')).toBe(true);
      await tick('2026-04-01T09:00:00Z');
      expect((await noticesOf(db, user.id)).map((row) => row.localDate)).toEqual(['2026-04-01']);
      expect(await nextOf()).toBe('2026-04-02T09:00:00.000Z');
      // A new zone moves the moment: looked at again at once.
      await client.users.updatePreferences.mutate({ timezone: 'Asia/Tokyo' });
      expect(await nextOf()).toBe('1970-01-01T00:00:00.000Z');
      await tick('2026-04-01T09:30:00Z'); // 18:30 in Tokyo
      expect(await nextOf()).toBe('2026-04-02T00:00:00.000Z'); // 09:00 in Tokyo
      // Settings removed: never looked at again.
      await client.users.updatePreferences.mutate({ preferences: { notifications: null } });
      await tick('2026-04-01T09:31:00Z');
      expect(await nextOf()).toBeUndefined();
    });

    it("settings changed while a tick works are not overwritten by the old settings' next moment", async () => {
      const { db } = ctx().database;
      const { client, user } = await person(ctx(), 'UTC', { reminders: [{ time: '09:00' }] });
      await tick('2026-04-05T08:00:00Z');
      const [stale] = (await usersDueForNotices(db, new Date('2026-04-05T10:00:00Z'), 100_000)).filter(
        (due) => due.id === user.id,
      );
      expect(stale?.settings).toEqual({ reminders: [{ time: '09:00' }] });
      await client.users.updatePreferences.mutate({
        preferences: { notifications: { reminders: [{ time: '10:30' }] } },
      });
      expect(await setNextNoticeAt(db, [{ user: stale!, next: new Date('2026-04-06T09:00:00Z') }])).toEqual(
        [],
      );
      await tick('2026-04-05T10:30:00Z');
      expect((await noticesOf(db, user.id)).map((row) => row.dedupeKey)).toEqual(['reminder:10:30']);
      const [row] = await db.select().from(schema.users).where(eq(schema.users.id, user.id));
      expect(row?.nextNoticeAt?.toISOString()).toBe('2026-04-06T10:30:00.000Z');
    });

    it('America/New_York: 02:30 on the spring-forward day fires once, at 03:00 local; fall-back 01:30 once', async () => {
      const { user } = await person(ctx(), 'America/New_York', {
        reminders: [{ time: '02:30' }, { time: '01:30' }],
      });
      for (const iso of ['2026-03-08T06:30:00Z', '2026-03-08T06:59:00Z']) await tick(iso);
      expect(await noticesOf(ctx().database.db, user.id)).toHaveLength(1); // only 01:30 (06:30Z, EST)
      await tick('2026-03-08T07:00:00Z'); // 03:00 EDT: 02:30 did not exist
      await tick('2026-03-08T07:30:00Z');
      await tick('2026-03-08T08:00:00Z');
      const march = await noticesOf(ctx().database.db, user.id);
      expect(march.map((row) => [row.dedupeKey, row.localDate])).toEqual([
        ['reminder:01:30', '2026-03-08'],
        ['reminder:02:30', '2026-03-08'],
      ]);
      // Fall back: 01:30 happens twice (05:30Z EDT, 06:30Z EST): one notice.
      await tick('2026-11-01T05:30:00Z');
      await tick('2026-11-01T06:30:00Z');
      await tick('2026-11-01T06:35:00Z');
      const rows = await noticesOf(ctx().database.db, user.id);
      expect(rows.filter((row) => row.localDate === '2026-11-01').map((row) => row.dedupeKey)).toEqual([
        'reminder:01:30',
      ]);
    });

    it('Australia/Adelaide (+10:30 in summer): 07:15 local, on the chosen weekdays only', async () => {
      // 2026-01-12 is a Monday; Monday only.
      const { user } = await person(ctx(), 'Australia/Adelaide', {
        reminders: [{ time: '07:15', days: [1] }],
      });
      await tick('2026-01-10T20:45:00Z'); // Sunday 07:15 local
      expect(await noticesOf(ctx().database.db, user.id)).toHaveLength(0);
      await tick('2026-01-11T20:44:00Z');
      expect(await noticesOf(ctx().database.db, user.id)).toHaveLength(0);
      await tick('2026-01-11T20:45:00Z'); // Monday 07:15 local
      const rows = await noticesOf(ctx().database.db, user.id);
      expect(rows.map((row) => row.localDate)).toEqual(['2026-01-12']);
    });

    it('does not fire when the metrics were logged that day; names the ones still open', async () => {
      const { client, user } = await signUp(ctx().url);
      const moodMetric = await mood(client);
      const sleep = await client.metrics.create.mutate({
        name: 'Sleep',
        type: 'duration',
        category: 'sleep',
      });
      await client.entries.create.mutate({ metricId: moodMetric.id, value: 4, date: '2026-02-02' });
      await client.users.updatePreferences.mutate({
        timezone: 'UTC',
        preferences: {
          notifications: {
            reminders: [
              { time: '10:00', metricIds: [moodMetric.id] },
              { time: '11:00', metricIds: [moodMetric.id, sleep.id] },
              { time: '12:00' },
            ],
          },
        },
      });
      await tick('2026-02-02T10:00:00Z');
      await tick('2026-02-02T11:00:00Z');
      await tick('2026-02-02T12:00:00Z');
      const rows = await noticesOf(ctx().database.db, user.id);
      expect(rows.map((row) => row.dedupeKey)).toEqual(['reminder:11:00']);
      expect(rows[0]?.body).toMatch(/^Sleep is still open for today/);
      expect(rows[0]?.data).toEqual({ missing: ['Sleep'] });
      // A reminder may name only the caller's own metrics: another user's is NOT_FOUND, nothing saved.
      const other = await signUp(ctx().url);
      const refused = await errorOf(
        other.client.users.updatePreferences.mutate({
          preferences: { notifications: { reminders: [{ time: '10:00', metricIds: [sleep.id] }] } },
        }),
      );
      expect(refused).toMatchObject({ code: 'NOT_FOUND', message: 'metric not found' });
      expect((await other.client.users.profile.query()).preferences).toEqual({});
    });

    it('streak at risk: a streak of 3 days and nothing today, at the chosen time; not for 2 days', async () => {
      const risky = await person(ctx(), 'UTC', { streakAtRisk: { enabled: true, time: '20:00' } });
      const short = await person(ctx(), 'UTC', { streakAtRisk: { enabled: true, time: '20:00' } });
      const logged = await person(ctx(), 'UTC', { streakAtRisk: { enabled: true, time: '20:00' } });
      for (const [account, dates] of [
        [risky, ['2026-02-07', '2026-02-08', '2026-02-09']],
        [short, ['2026-02-08', '2026-02-09']],
        [logged, ['2026-02-07', '2026-02-08', '2026-02-09', '2026-02-10']],
      ] as const) {
        const metric = await mood(account.client);
        for (const date of dates)
          await account.client.entries.create.mutate({ metricId: metric.id, value: 3, date });
      }
      await tick('2026-02-10T20:00:00Z');
      const rows = await noticesOf(ctx().database.db, risky.user.id);
      expect(rows.map((row) => [row.kind, row.localDate])).toEqual([['streak', '2026-02-10']]);
      expect(rows[0]?.body).toContain('3 days in a row');
      expect(await noticesOf(ctx().database.db, short.user.id)).toHaveLength(0);
      expect(await noticesOf(ctx().database.db, logged.user.id)).toHaveLength(0);
    });

    it('weekly summary on its day: XP gained this week', async () => {
      // 2026-02-15 is a Sunday.
      const account = await person(ctx(), 'UTC', { weeklySummary: { enabled: true, day: 0, time: '18:00' } });
      const metric = await mood(account.client);
      for (const date of ['2026-02-07', '2026-02-13', '2026-02-14', '2026-02-15'])
        await account.client.entries.create.mutate({ metricId: metric.id, value: 3, date });
      await tick('2026-02-14T18:00:00Z'); // Saturday: nothing
      await tick('2026-02-15T18:00:00Z');
      const rows = await noticesOf(ctx().database.db, account.user.id);
      expect(rows.map((row) => row.kind)).toEqual(['weekly']);
      // Only 13th–15th are in the week: 12 + 13 + 14 XP (a day, a metric, the streak bonus).
      expect(rows[0]?.data).toMatchObject({ xpGained: 39 });
      expect(rows[0]?.body).toMatch(/^You gained 39 XP this week\./);
    });

    it('weekly summary: the strongest finding and the trends that turned since a week before', async () => {
      const account = await person(ctx(), 'UTC', { weeklySummary: { enabled: true, day: 0, time: '18:00' } });
      const { db } = ctx().database;
      const focus = { id: randomUUID(), name: 'Focus' };
      const trend = (direction: string) => ({
        type: 'trend' as const,
        confidence: 0.9,
        dateFrom: null,
        dateTo: null,
        data: { metric: focus, direction, tentative: false, sentence: `Focus is going ${direction}.` },
      });
      const old = await storeInsightSet(db, account.user.id, [trend('up')]);
      await db
        .update(schema.insights)
        .set({ createdAt: new Date('2026-02-01T04:00:00Z') })
        .where(eq(schema.insights.setId, old.setId));
      await storeInsightSet(db, account.user.id, [
        trend('down'),
        {
          type: 'correlation',
          confidence: 0.95,
          dateFrom: null,
          dateTo: null,
          data: {
            a: { id: randomUUID(), name: 'Sleep' },
            b: { id: randomUUID(), name: 'Mood' },
            lag: 0,
            tentative: false,
            significant: true,
            sentence: 'More sleep, better mood.',
          },
        },
      ]);
      await tick('2026-02-15T18:00:00Z');
      const [row] = await noticesOf(db, account.user.id);
      expect(row?.body).toBe(
        'You gained 0 XP this week. Strongest finding: More sleep, better mood. Turned around: Focus (now down).',
      );
      expect(row?.data).toMatchObject({ turned: [{ metric: 'Focus', from: 'up', to: 'down' }] });
    });

    it('new insight: a significant, non-tentative finding after a recompute, at most one notice a day', async () => {
      const account = await person(ctx(), 'UTC', { newInsights: true });
      const quiet = await person(ctx(), 'UTC', { newInsights: false });
      const finding = (tentative: boolean, b: string) => ({
        type: 'correlation' as const,
        confidence: 0.99,
        dateFrom: '2025-01-01',
        dateTo: '2025-12-31',
        data: {
          a: { id: randomUUID(), name: 'Sleep' },
          b: { id: b, name: 'Mood' },
          lag: 0,
          tentative,
          significant: true,
          sentence: `On days after you sleep over 7.5 h your mood is 0.8 higher (${b.slice(0, 4)}).`,
        },
      });
      const { db } = ctx().database;
      const tentativeSet = await storeInsightSet(db, account.user.id, [finding(true, randomUUID())]);
      await ctx().server.deps.notifications.afterRecompute(account.user.id, tentativeSet.setId);
      expect(await noticesOf(db, account.user.id)).toHaveLength(0);
      const real = await storeInsightSet(db, account.user.id, [finding(false, randomUUID())]);
      await ctx().server.deps.notifications.afterRecompute(account.user.id, real.setId);
      const more = await storeInsightSet(db, account.user.id, [finding(false, randomUUID())]);
      await ctx().server.deps.notifications.afterRecompute(account.user.id, more.setId);
      const rows = await noticesOf(db, account.user.id);
      expect(rows.map((row) => row.kind)).toEqual(['insight']);
      expect(rows[0]?.body).toMatch(/^On days after you sleep over 7\.5 h/);
      expect(rows[0]?.link).toMatch(/^\/insights\/[0-9a-f-]{36}$/);
      const quietSet = await storeInsightSet(db, quiet.user.id, [finding(false, randomUUID())]);
      await ctx().server.deps.notifications.afterRecompute(quiet.user.id, quietSet.setId);
      expect(await noticesOf(db, quiet.user.id)).toHaveLength(0);
    });

    it('a real recompute job that finds a strong link tells the user once, with a link to it', async () => {
      const account = await person(ctx(), 'UTC', { newInsights: true });
      const sleep = await account.client.metrics.create.mutate({
        name: 'Sleep',
        type: 'number',
        category: 'sleep',
      });
      const moodMetric = await mood(account.client);
      const today = new Date().toISOString().slice(0, 10);
      const day = (i: number) =>
        new Date(Date.parse(`${today}T00:00:00Z`) - i * 86_400_000).toISOString().slice(0, 10);
      // 120 days: mood follows sleep closely (a strong, non-tentative correlation).
      const values = Array.from({ length: 120 }, (_, i) => ((i * 7919) % 13) / 2 + 4);
      await account.client.entries.createMany.mutate({
        entries: values.flatMap((hours, i) => [
          { metricId: sleep.id, value: hours, date: day(i) },
          { metricId: moodMetric.id, value: Math.max(1, Math.min(5, Math.round(hours - 4))), date: day(i) },
        ]),
      });
      const notice = await eventually(async () => {
        const rows = await noticesOf(ctx().database.db, account.user.id);
        return rows.find((row) => row.kind === 'insight' && row.deliveredAt);
      }, 'the new-insight notice after the recompute');
      expect(notice.body).toMatch(/sleep|mood/i);
      const [insight] = await ctx()
        .database.db.select()
        .from(schema.insights)
        .where(eq(schema.insights.id, notice.link.replace('/insights/', '')));
      expect(insight).toMatchObject({ userId: account.user.id, isActive: true, type: 'correlation' });
    });

    it('in-app off: nothing in the list, but the notice still happens once', async () => {
      const { client, user } = await person(ctx(), 'UTC', {
        reminders: [{ time: '09:00' }],
        channels: { inApp: false },
      });
      await tick('2026-02-20T09:00:00Z');
      await delivered(ctx(), user.id, 1);
      expect((await client.notifications.list.query()).items).toEqual([]);
    });

    it('list pages newest first; markRead and markAllRead touch only the caller’s notices', async () => {
      const { client, user } = await person(ctx(), 'UTC', { reminders: [{ time: '09:00' }] });
      const days = ['2026-04-01', '2026-04-02', '2026-04-03', '2026-04-04', '2026-04-05'];
      for (const day of days) await tick(`${day}T09:00:00Z`);
      await delivered(ctx(), user.id, 5);
      const first = await client.notifications.list.query({ limit: 2 });
      expect(first.items).toHaveLength(2);
      expect(first.nextCursor).not.toBeNull();
      const second = await client.notifications.list.query({
        limit: 2,
        cursor: first.nextCursor ?? undefined,
      });
      const third = await client.notifications.list.query({
        limit: 2,
        cursor: second.nextCursor ?? undefined,
      });
      const all = [...first.items, ...second.items, ...third.items];
      expect(new Set(all.map((item) => item.id)).size).toBe(5);
      expect(third.nextCursor).toBeNull();
      const stranger = await signUp(ctx().url);
      expect(await stranger.client.notifications.markRead.mutate({ ids: [all[0]!.id] })).toEqual({
        updated: 0,
      });
      expect((await stranger.client.notifications.list.query()).items).toEqual([]);
      expect(await client.notifications.markRead.mutate({ ids: [all[0]!.id, all[0]!.id] })).toEqual({
        updated: 1,
      });
      expect((await client.notifications.list.query({ unreadOnly: true })).items).toHaveLength(4);
      expect(await client.notifications.markAllRead.mutate()).toEqual({ updated: 4 });
      const after = await client.notifications.list.query();
      expect(after.unread).toBe(0);
      expect(after.items.every((item) => item.readAt !== null)).toBe(true);
      for (const bad of [{ limit: 0 }, { limit: 101 }, { cursor: 'garbage' }, { cursor: 'x'.repeat(101) }]) {
        expect((await errorOf(client.notifications.list.query(bad as never))).code, JSON.stringify(bad)).toBe(
          'BAD_REQUEST',
        );
      }
      expect((await errorOf(client.notifications.markRead.mutate({ ids: [] }))).code).toBe('BAD_REQUEST');
      expect(
        (
          await errorOf(
            client.notifications.markRead.mutate({ ids: Array.from({ length: 101 }, () => randomUUID()) }),
          )
        ).code,
      ).toBe('BAD_REQUEST');
    });

    it('webhooks: create shows the secret once, list and delete are the owner’s; limits and bad URLs refused', async () => {
      const { client } = await signUp(ctx().url);
      const created = await client.webhooks.create.mutate({
        url: 'https://hooks.example.com/lifexp',
        description: 'Zapier',
      });
      expect(created.secret).toMatch(/^whsec_/);
      const listed = await client.webhooks.list.query();
      expect(listed).toEqual([expect.objectContaining({ id: created.id, url: created.url, enabled: true })]);
      expect(JSON.stringify(listed)).not.toContain(created.secret);
      const stranger = await signUp(ctx().url);
      expect((await errorOf(stranger.client.webhooks.delete.mutate({ id: created.id }))).code).toBe(
        'NOT_FOUND',
      );
      expect((await errorOf(stranger.client.webhooks.test.mutate({ id: created.id }))).code).toBe(
        'NOT_FOUND',
      );
      expect(await stranger.client.webhooks.list.query()).toEqual([]);
      for (const url of [
        'ftp://example.com/',
        'https://user:pw@example.com/',
        'not a url',
        `https://e.com/${'x'.repeat(2100)}`,
      ])
        expect((await errorOf(client.webhooks.create.mutate({ url }))).code, url).toBe('BAD_REQUEST');
      for (let i = 1; i < 3; i += 1)
        await client.webhooks.create.mutate({ url: `https://hooks.example.com/${i}` });
      const over = await errorOf(client.webhooks.create.mutate({ url: 'https://hooks.example.com/4' }));
      expect(over.code).toBe('TOO_MANY_REQUESTS');
      expect(await client.webhooks.list.query()).toHaveLength(3);
      expect(await client.webhooks.delete.mutate({ id: created.id })).toEqual({ ok: true });
      expect((await errorOf(client.webhooks.delete.mutate({ id: created.id }))).code).toBe('NOT_FOUND');
    });

    it('webhooks.test sends a signed test message, and is rate limited', async () => {
      const receiver = receiverBox.receiver!;
      const { client } = await signUp(ctx().url);
      const hook = await client.webhooks.create.mutate({ url: receiver.url });
      receiver.setSecret(hook.secret);
      receiver.setStatus(200);
      const result = await client.webhooks.test.mutate({ id: hook.id });
      expect(result).toEqual({ ok: true, status: 200, error: null });
      expect(receiver.received.at(-1)).toMatchObject({ verified: true, body: { type: 'notification.test' } });
      for (let i = 1; i < 5; i += 1) await client.webhooks.test.mutate({ id: hook.id });
      const limited = await errorOf(client.webhooks.test.mutate({ id: hook.id }));
      expect(limited.code).toBe('TOO_MANY_REQUESTS');
    });

    it('a failing webhook is retried with the same message id, then paused, and the owner is told in-app', async () => {
      const receiver = receiverBox.receiver!;
      const { client, user } = await person(ctx(), 'UTC', { reminders: [{ time: '09:00' }] });
      const hook = await client.webhooks.create.mutate({ url: receiver.url });
      receiver.setSecret(hook.secret);
      receiver.setStatus(503);
      const before = receiver.received.length;
      await ctx().server.deps.notifications.tick(at('2026-05-01T09:00:00Z'));
      const paused = await eventually(async () => {
        const [row] = await client.webhooks.list.query();
        return row && !row.enabled ? row : undefined;
      }, 'the webhook to be paused');
      expect(paused).toMatchObject({ consecutiveFailures: 3, lastError: 'answered 503' });
      const attempts = receiver.received.slice(before);
      expect(attempts).toHaveLength(3);
      expect(new Set(attempts.map((a) => a.id)).size).toBe(1);
      expect(attempts.every((a) => a.verified)).toBe(true);
      const told = await eventually(async () => {
        const list = await client.notifications.list.query();
        return list.items.find((item) => item.kind === 'webhook-disabled');
      }, 'the in-app notice about the paused webhook');
      expect(told.body).toContain('failed 3 times in a row');
      // Paused: later notices do not call it; a successful test turns it back on.
      receiver.setStatus(200);
      const count = receiver.received.length;
      await ctx().server.deps.notifications.tick(at('2026-05-02T09:00:00Z'));
      await delivered(ctx(), user.id, 3);
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect(receiver.received.length).toBe(count);
      expect(await client.webhooks.test.mutate({ id: hook.id })).toMatchObject({ ok: true });
      expect((await client.webhooks.list.query())[0]).toMatchObject({
        enabled: true,
        consecutiveFailures: 0,
      });
    });

    it('quiet hours hold a notice back: queued for their end, not delivered before', async () => {
      const now = new Date();
      const hhmm = (date: Date) => date.toISOString().slice(11, 16);
      const start = hhmm(new Date(now.getTime() - 3_600_000));
      const end = hhmm(new Date(now.getTime() + 3_600_000));
      const { user } = await person(ctx(), 'UTC', {
        reminders: [{ time: hhmm(now) }],
        quietHours: { start, end },
      });
      await ctx().server.deps.notifications.tick(now.getTime());
      const [row] = await noticesOf(ctx().database.db, user.id);
      expect(row?.deliverAfter.getTime()).toBeGreaterThan(now.getTime() + 3_500_000);
      expect(
        Math.abs(
          (row?.deliverAfter.getTime() ?? 0) - (Math.floor(now.getTime() / 60_000) * 60_000 + 3_600_000),
        ),
      ).toBeLessThan(60_000);
      const jobs = await ctx().server.deps.jobs.boss.findJobs(NOTIFY_QUEUE, { id: row!.id });
      expect(jobs).toHaveLength(1);
      expect(jobs[0]?.startAfter.getTime()).toBe(row?.deliverAfter.getTime());
      await new Promise((resolve) => setTimeout(resolve, 3000));
      expect((await noticesOf(ctx().database.db, user.id))[0]?.deliveredAt).toBeNull();
    });

    it('deleting the account drops everything pending: queued jobs, notices, webhooks, subscriptions', async () => {
      const now = new Date();
      const hhmm = (date: Date) => date.toISOString().slice(11, 16);
      const account = await person(ctx(), 'UTC', {
        reminders: [{ time: hhmm(now) }],
        quietHours: {
          start: hhmm(new Date(now.getTime() - 3_600_000)),
          end: hhmm(new Date(now.getTime() + 3_600_000)),
        },
      });
      await account.client.webhooks.create.mutate({ url: 'https://hooks.example.com/x' });
      await ctx().server.deps.notifications.tick(now.getTime());
      const { boss } = ctx().server.deps.jobs;
      const { db } = ctx().database;
      const [row] = await noticesOf(db, account.user.id);
      expect(await boss.findJobs(NOTIFY_QUEUE, { data: { userId: account.user.id } })).toHaveLength(1);
      const response = await call(
        ctx().url,
        'users.deleteAccount',
        { password: 'correct horse battery' },
        { headers: { authorization: `Bearer ${account.token}` } },
      );
      expect(response.status).toBe(200);
      expect(await boss.findJobs(NOTIFY_QUEUE, { data: { userId: account.user.id } })).toHaveLength(0);
      expect(await boss.findJobs(WEBHOOK_QUEUE, { data: { userId: account.user.id } })).toHaveLength(0);
      expect(await noticesOf(db, account.user.id)).toHaveLength(0);
      expect(
        await db.select().from(schema.webhooks).where(eq(schema.webhooks.userId, account.user.id)),
      ).toHaveLength(0);
      expect(
        await db
          .select()
          .from(schema.notifications)
          .where(and(eq(schema.notifications.id, row!.id))),
      ).toHaveLength(0);
    });
  },
  {
    NOTIFICATIONS_TICK_SECONDS: '3600',
    JOBS_POLL_SECONDS: '1',
    INSIGHTS_DEBOUNCE_SECONDS: '0',
    WEBHOOKS_ALLOW_PRIVATE: 'true',
    WEBHOOKS_MAX_PER_ACCOUNT: '3',
    WEBHOOKS_RETRY_LIMIT: '2',
    WEBHOOKS_RETRY_DELAY_SECONDS: '1',
    WEBHOOKS_DISABLE_AFTER: '3',
  },
);

describeServer(
  'outbound URLs with private addresses refused',
  (ctx) => {
    it('webhooks.create and push.subscribe refuse loopback, private and link-local targets; nothing is stored', async () => {
      const { client } = await signUp(ctx().url);
      for (const url of [
        'http://127.0.0.1:8080/hook',
        'http://localhost/hook',
        'http://[::1]/hook',
        'http://169.254.169.254/latest/meta-data/',
        'http://10.0.0.5/',
        'https://192.168.1.10/',
        'http://[::ffff:127.0.0.1]/',
      ]) {
        const error = await errorOf(client.webhooks.create.mutate({ url }));
        expect(error.code, url).toBe('BAD_REQUEST');
        expect(error.message, url).toMatch(/private address|loopback/);
      }
      expect(await client.webhooks.list.query()).toEqual([]);
      const keys = { p256dh: 'B'.repeat(87), auth: 'A'.repeat(22) };
      for (const endpoint of [
        'https://127.0.0.1/push/1',
        'https://localhost/push',
        'https://10.1.1.1/push',
      ]) {
        const error = await errorOf(client.push.subscribe.mutate({ endpoint, keys }));
        expect(error.code, endpoint).toBe('BAD_REQUEST');
      }
      expect(await ctx().database.db.select().from(schema.pushSubscriptions)).toEqual([]);
    });
  },
  { NOTIFICATIONS_TICK_SECONDS: '3600', WEBHOOKS_ALLOW_PRIVATE: 'false' },
);
