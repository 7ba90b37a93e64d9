import { randomUUID } from 'node:crypto';
import { purgeDeleted, readChanges, schema } from '@lifexp/db';
import { eq, sql } from 'drizzle-orm';
import { expect, it } from 'vitest';
import { describeServer, errorOf, signUp } from './support';

describeServer('metrics', (ctx) => {
  it('creates every type with its config defaults, lists and gets them', async () => {
    const { client } = await signUp(ctx().url);
    const mood = await client.metrics.create.mutate({ name: ' Mood ', type: 'rating', category: 'mood' });
    expect(mood).toMatchObject({
      name: 'Mood',
      type: 'rating',
      category: 'mood',
      config: { min: 1, max: 5, aggregation: 'mean', missing: 'unknown' },
      isActive: true,
      version: 1,
    });
    const sleep = await client.metrics.create.mutate({ name: 'Sleep', type: 'duration', category: 'sleep' });
    expect(sleep.config).toEqual({ displayUnit: 'minutes', aggregation: 'sum', missing: 'unknown' });
    const coffee = await client.metrics.create.mutate({
      name: 'Coffee',
      type: 'binary',
      category: 'habits',
      config: { aggregation: 'max', missing: 'zero' },
    });
    expect(coffee.config).toEqual({ aggregation: 'max', missing: 'zero' });
    const weight = await client.metrics.create.mutate({
      name: 'Weight',
      type: 'number',
      category: 'health',
      config: { min: 20, max: 400, unit: 'kg', decimals: 1 },
    });
    expect(weight.config).toEqual({
      min: 20,
      max: 400,
      unit: 'kg',
      decimals: 1,
      aggregation: 'mean',
      missing: 'unknown',
    });
    const journal = await client.metrics.create.mutate({ name: 'Journal', type: 'text', category: 'custom' });
    expect(journal.config).toEqual({ maxLength: 1000, aggregation: 'last', missing: 'unknown' });

    const listed = await client.metrics.list.query();
    expect(listed.map((metric) => metric.name)).toEqual(['Mood', 'Sleep', 'Coffee', 'Weight', 'Journal']);
    expect(await client.metrics.get.query({ id: weight.id })).toEqual(weight);
  });

  it.each([
    [{ name: 'X', type: 'stars', category: 'mood' }, 'type: Invalid discriminator value'],
    [{ name: 'X', type: 'rating', category: 'feelings' }, 'must be one of sleep'],
    [{ name: '   ', type: 'rating', category: 'mood' }, 'name: must not be empty'],
    [{ name: 'x'.repeat(101), type: 'rating', category: 'mood' }, 'name: must be at most 100 characters'],
    [
      { name: 'X', type: 'rating', category: 'mood', config: { min: 5, max: 5 } },
      'min must be less than max',
    ],
    [{ name: 'X', type: 'rating', category: 'mood', config: { min: 1.5, max: 5 } }, 'config.min'],
    [
      { name: 'X', type: 'number', category: 'mood', config: { min: 10, max: -10 } },
      'min must be less than max',
    ],
    [{ name: 'X', type: 'binary', category: 'mood', config: { maxLength: 5 } }, 'Unrecognized key'],
    [
      { name: 'X', type: 'duration', category: 'sleep', config: { aggregation: 'median' } },
      'config.aggregation',
    ],
    [{ name: 'X', type: 'text', category: 'custom', config: { maxLength: 100_000 } }, 'config.maxLength'],
    [{ name: 'X', type: 'rating', category: 'mood', id: 'not-a-uuid' }, 'id: must be a UUID'],
  ])('refuses bad metric #%# with BAD_REQUEST and creates nothing', async (input, message) => {
    const { client } = await signUp(ctx().url);
    const error = await errorOf(client.metrics.create.mutate(input as never));
    expect(error.code).toBe('BAD_REQUEST');
    expect(error.message).toContain(message);
    expect(await client.metrics.list.query({ includeArchived: true })).toEqual([]);
  });

  it('refuses a second live metric of the same name, case-insensitively', async () => {
    const { client } = await signUp(ctx().url);
    await client.metrics.create.mutate({ name: 'Mood', type: 'rating', category: 'mood' });
    const error = await errorOf(
      client.metrics.create.mutate({ name: 'MOOD', type: 'number', category: 'mood' }),
    );
    expect(error).toMatchObject({ code: 'CONFLICT', message: 'a metric named "MOOD" already exists' });
  });

  it('applies a retried create once and refuses a different one with the same id', async () => {
    const { client, user } = await signUp(ctx().url);
    const id = randomUUID();
    const input = { id, name: 'Focus', type: 'duration', category: 'productivity' } as const;
    const first = await client.metrics.create.mutate(input);
    const retry = await client.metrics.create.mutate(input);
    expect(retry).toEqual(first);
    expect(await client.metrics.list.query()).toHaveLength(1);
    const changes = await readChanges(ctx().database.db, user.id, 0, 100);
    expect(changes.filter((change) => change.entity === 'metric')).toHaveLength(1);

    const different = await errorOf(client.metrics.create.mutate({ ...input, name: 'Deep focus' }));
    expect(different.code).toBe('CONFLICT');
    expect(different.details).toMatchObject({ current: { id, name: 'Focus' } });

    const other = await signUp(ctx().url);
    const stolen = await errorOf(other.client.metrics.create.mutate({ ...input, name: 'Mine now' }));
    expect(stolen).toMatchObject({ code: 'CONFLICT', message: 'this id is already in use', details: null });
    expect((await client.metrics.get.query({ id })).name).toBe('Focus');
  });

  it('updates with optimistic concurrency: a stale version is CONFLICT and carries the current metric', async () => {
    const { client } = await signUp(ctx().url);
    const metric = await client.metrics.create.mutate({ name: 'Steps', type: 'number', category: 'fitness' });
    const renamed = await client.metrics.update.mutate({
      id: metric.id,
      baseVersion: 1,
      name: 'Daily steps',
    });
    expect(renamed).toMatchObject({ name: 'Daily steps', version: 2 });
    const stale = await errorOf(
      client.metrics.update.mutate({ id: metric.id, baseVersion: 1, name: 'Walking' }),
    );
    expect(stale.code).toBe('CONFLICT');
    expect(stale.details).toEqual({ current: renamed });
    expect((await client.metrics.get.query({ id: metric.id })).name).toBe('Daily steps');
  });

  it('archives a metric: kept with its entries, hidden from the default list, closed to new entries', async () => {
    const { client } = await signUp(ctx().url);
    const metric = await client.metrics.create.mutate({
      name: 'Meditation',
      type: 'binary',
      category: 'habits',
    });
    const entry = await client.entries.create.mutate({
      metricId: metric.id,
      value: true,
      date: '2026-01-05',
    });
    const archived = await client.metrics.update.mutate({ id: metric.id, baseVersion: 1, isActive: false });
    expect(archived.isActive).toBe(false);
    expect(await client.metrics.list.query()).toEqual([]);
    expect(await client.metrics.list.query({ includeArchived: true })).toEqual([archived]);
    expect(await client.entries.get.query({ id: entry.id })).toEqual(entry);
    const refused = await errorOf(
      client.entries.create.mutate({ metricId: metric.id, value: true, date: '2026-01-06' }),
    );
    expect(refused).toMatchObject({
      code: 'CONFLICT',
      message: 'the metric is archived and takes no new entries',
    });
    await client.metrics.update.mutate({ id: metric.id, baseVersion: 2, isActive: true });
    await client.entries.create.mutate({ metricId: metric.id, value: false, date: '2026-01-06' });
  });

  it('refuses a type change while entries exist, and allows it when there are none', async () => {
    const { client } = await signUp(ctx().url);
    const metric = await client.metrics.create.mutate({ name: 'Energy', type: 'rating', category: 'mood' });
    const changed = await client.metrics.update.mutate({
      id: metric.id,
      baseVersion: 1,
      type: 'number',
      config: { unit: 'pts' },
    });
    expect(changed).toMatchObject({
      type: 'number',
      config: { unit: 'pts', aggregation: 'mean' },
      version: 2,
    });
    await client.entries.create.mutate({ metricId: metric.id, value: 7.5, date: '2026-01-05' });
    const refused = await errorOf(
      client.metrics.update.mutate({ id: metric.id, baseVersion: 2, type: 'rating' }),
    );
    expect(refused).toMatchObject({
      code: 'CONFLICT',
      message: 'the type cannot change while the metric has entries',
    });
    const badConfig = await errorOf(
      client.metrics.update.mutate({ id: metric.id, baseVersion: 2, config: { min: 'low' } }),
    );
    expect(badConfig.code).toBe('BAD_REQUEST');
    expect((await client.metrics.get.query({ id: metric.id })).version).toBe(2);
  });

  it('refuses to narrow a range that existing entries fall outside, saying how many', async () => {
    const { client } = await signUp(ctx().url);
    const metric = await client.metrics.create.mutate({
      name: 'Mood',
      type: 'rating',
      category: 'mood',
      config: { min: 1, max: 10 },
    });
    for (const value of [1, 4, 9, 10])
      await client.entries.create.mutate({ metricId: metric.id, value, date: '2026-01-05' });
    const narrowed = await errorOf(
      client.metrics.update.mutate({ id: metric.id, baseVersion: 1, config: { min: 2, max: 8 } }),
    );
    expect(narrowed).toMatchObject({
      code: 'CONFLICT',
      message: '3 entries fall outside the new range; change or delete them first',
      details: { affectedEntries: 3 },
    });
    const widened = await client.metrics.update.mutate({
      id: metric.id,
      baseVersion: 1,
      config: { min: 0, max: 10 },
    });
    expect(widened.config).toMatchObject({ min: 0, max: 10 });

    const text = await client.metrics.create.mutate({ name: 'Journal', type: 'text', category: 'custom' });
    await client.entries.create.mutate({
      metricId: text.id,
      value: 'a fairly long line',
      date: '2026-01-05',
    });
    const shorter = await errorOf(
      client.metrics.update.mutate({ id: text.id, baseVersion: 1, config: { maxLength: 5 } }),
    );
    expect(shorter.details).toEqual({ affectedEntries: 1 });
  });

  it('deletes a metric with its entries, one sync event each, and purges them later', async () => {
    const { client, user } = await signUp(ctx().url);
    const metric = await client.metrics.create.mutate({ name: 'Water', type: 'number', category: 'health' });
    const created = await client.entries.createMany.mutate({
      entries: [1, 2, 3].map((value) => ({ metricId: metric.id, value, date: '2026-01-05' })),
    });
    const stale = await errorOf(client.metrics.delete.mutate({ id: metric.id, baseVersion: 2 }));
    expect(stale.code).toBe('CONFLICT');
    const seqBefore = (await readChanges(ctx().database.db, user.id, 0, 1000)).at(-1)!.seq;
    expect(
      await client.metrics.delete.mutate({ id: metric.id, baseVersion: 1, clientMutationId: 'tap-42' }),
    ).toEqual({
      id: metric.id,
      deletedEntries: 3,
    });
    expect((await errorOf(client.metrics.get.query({ id: metric.id }))).code).toBe('NOT_FOUND');
    for (const entry of created)
      expect((await errorOf(client.entries.get.query({ id: entry.id }))).code).toBe('NOT_FOUND');
    expect((await client.entries.list.query({})).items).toEqual([]);

    const events = await readChanges(ctx().database.db, user.id, seqBefore, 1000);
    const described = events.map((event) => [
      event.entity,
      event.op,
      event.entityId,
      event.data,
      event.clientMutationId,
    ]);
    // One delete per entry (in no particular order), then the metric's own.
    expect(described.slice(0, 3).sort()).toEqual(
      created.map((entry) => ['entry', 'delete', entry.id, null, 'tap-42']).sort(),
    );
    expect(described.slice(3)).toEqual([['metric', 'delete', metric.id, null, 'tap-42']]);

    // The rows stay until the purge passes them; then they are gone for good.
    const { db } = ctx().database;
    const count = async () =>
      (
        await db
          .select({ n: sql<number>`count(*)::int` })
          .from(schema.entries)
          .where(eq(schema.entries.userId, user.id))
      )[0]!.n;
    expect(await count()).toBe(3);
    await purgeDeleted(db, new Date(Date.now() - 60_000));
    expect(await count()).toBe(3);
    await purgeDeleted(db, new Date(Date.now() + 1000));
    expect(await count()).toBe(0);
    expect(await db.select().from(schema.metrics).where(eq(schema.metrics.id, metric.id))).toEqual([]);
  });

  it("answers another user's metric NOT_FOUND for every procedure", async () => {
    const owner = await signUp(ctx().url);
    const intruder = await signUp(ctx().url);
    const metric = await owner.client.metrics.create.mutate({
      name: 'Private',
      type: 'rating',
      category: 'mood',
    });
    const attempts = [
      intruder.client.metrics.get.query({ id: metric.id }),
      intruder.client.metrics.update.mutate({ id: metric.id, baseVersion: 1, name: 'Hacked' }),
      intruder.client.metrics.delete.mutate({ id: metric.id, baseVersion: 1 }),
      intruder.client.entries.create.mutate({ metricId: metric.id, value: 3, date: '2026-01-05' }),
      intruder.client.entries.createMany.mutate({
        entries: [{ metricId: metric.id, value: 3, date: '2026-01-05' }],
      }),
    ];
    for (const attempt of attempts) expect((await errorOf(attempt)).code).toMatch(/NOT_FOUND|BAD_REQUEST/);
    expect((await errorOf(intruder.client.metrics.get.query({ id: metric.id }))).code).toBe('NOT_FOUND');
    expect(await intruder.client.metrics.list.query({ includeArchived: true })).toEqual([]);
    expect(await owner.client.metrics.get.query({ id: metric.id })).toEqual(metric);
    expect((await owner.client.entries.list.query({})).items).toEqual([]);
  });
});
