import { randomUUID } from 'node:crypto';
import { addDays, localToday } from '@lifexp/analytics';
import { readChanges } from '@lifexp/db';
import { expect, it } from 'vitest';
import { call, describeServer, errorOf, send, signUp } from './support';

type Client = Awaited<ReturnType<typeof signUp>>['client'];

async function metricsFor(client: Client) {
  const [rating, duration, binary, number, text] = await Promise.all([
    client.metrics.create.mutate({ name: 'Mood', type: 'rating', category: 'mood' }),
    client.metrics.create.mutate({ name: 'Sleep', type: 'duration', category: 'sleep' }),
    client.metrics.create.mutate({ name: 'Coffee', type: 'binary', category: 'habits' }),
    client.metrics.create.mutate({
      name: 'Weight',
      type: 'number',
      category: 'health',
      config: { min: 20, max: 400, unit: 'kg' },
    }),
    client.metrics.create.mutate({
      name: 'Journal',
      type: 'text',
      category: 'custom',
      config: { maxLength: 20 },
    }),
  ]);
  return { rating, duration, binary, number, text };
}

describeServer('entries', (ctx) => {
  it('accepts a valid value of every type and derives the number the analytics use', async () => {
    const { client } = await signUp(ctx().url);
    const m = await metricsFor(client);
    const cases: [string, unknown, number | null][] = [
      [m.rating.id, 1, 1],
      [m.rating.id, 5, 5],
      [m.duration.id, 0, 0],
      [m.duration.id, 27_000.5, 27_000.5],
      [m.binary.id, true, 1],
      [m.binary.id, false, 0],
      [m.number.id, 20, 20],
      [m.number.id, 72.35, 72.35],
      [m.text.id, 'slept well 🌙, "ok"', null],
      [m.text.id, '', null],
      // Text that happens to be valid JSON stays text.
      [m.text.id, '9', null],
      [m.text.id, 'true', null],
      [m.text.id, '"quoted"', null],
    ];
    for (const [metricId, value, numericValue] of cases) {
      const entry = await client.entries.create.mutate({
        metricId,
        value: value as never,
        date: '2026-03-01',
      });
      expect(await client.entries.get.query({ id: entry.id })).toMatchObject({ value });
      expect(entry).toMatchObject({
        metricId,
        value,
        numericValue,
        date: '2026-03-01',
        time: null,
        notes: null,
        tags: [],
        version: 1,
      });
    }
  });

  it.each([
    ['rating', 0, 'a rating must be from 1 to 5'],
    ['rating', 6, 'a rating must be from 1 to 5'],
    ['rating', 2.5, 'a rating must be a whole number'],
    ['rating', '3', 'a rating must be a whole number'],
    ['rating', true, 'a rating must be a whole number'],
    ['duration', -1, 'a duration must not be negative'],
    ['duration', 700_000, 'a duration must be at most 604800 seconds'],
    ['duration', 'eight hours', 'a duration must be a number of seconds'],
    ['binary', 1, 'a yes/no value must be true or false'],
    ['binary', 'true', 'a yes/no value must be true or false'],
    ['number', 19.99, 'the value must be at least 20'],
    ['number', 400.01, 'the value must be at most 400'],
    ['text', 'x'.repeat(21), 'the text must be at most 20 characters'],
    ['text', 42, 'the value must be text'],
  ] as const)('refuses a %s value %j: %s', async (type, value, reason) => {
    const { client } = await signUp(ctx().url);
    const m = await metricsFor(client);
    const error = await errorOf(
      client.entries.create.mutate({ metricId: m[type].id, value, date: '2026-03-01' }),
    );
    expect(error).toMatchObject({
      code: 'BAD_REQUEST',
      message: reason,
      details: { items: [{ index: 0, reason }] },
    });
    expect((await client.entries.list.query({})).items).toEqual([]);
  });

  it('refuses values JSON cannot carry or the schema does not allow: null, objects, arrays, NaN, Infinity', async () => {
    const { client, token } = await signUp(ctx().url);
    const m = await metricsFor(client);
    const auth = { authorization: `Bearer ${token}` };
    for (const value of [null, { n: 3 }, [3], Number.NaN, Number.POSITIVE_INFINITY]) {
      const response = await call(
        ctx().url,
        'entries.create',
        { metricId: m.number.id, value, date: '2026-03-01' },
        { headers: auth },
      );
      expect(response.status).toBe(400);
      expect(response.error?.message).toContain('value: ');
    }
    // 1e999 parses to Infinity in JavaScript: a raw body must not sneak it in.
    const raw = await send(`${ctx().url}/trpc/entries.create`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: `{"metricId":"${m.number.id}","value":1e999,"date":"2026-03-01"}`,
    });
    expect(raw.status).toBe(400);
    expect((await client.entries.list.query({})).items).toEqual([]);
  });

  it.each([
    [{ date: '2026-02-30' }, 'date: must be a real calendar date'],
    [{ date: '2025-02-29' }, 'date: must be a real calendar date'],
    [{ date: '1899-12-31' }, 'date: must not be before 1900-01-01'],
    [{ date: '03/01/2026' }, 'date: must be a date as YYYY-MM-DD'],
    [{ time: '24:00' }, 'time: must be a time as HH:MM or HH:MM:SS'],
    [{ time: '7:30' }, 'time: must be a time as HH:MM or HH:MM:SS'],
    [{ notes: 'n'.repeat(10_001) }, 'notes: must be at most 10000 characters'],
    [{ tags: Array.from({ length: 33 }, (_, i) => `t${i}`) }, 'tags: at most 32 tags'],
    [{ tags: ['x'.repeat(65)] }, 'tags.0: a tag must be at most 64 characters'],
    [{ tags: ['  '] }, 'tags.0: a tag must not be empty'],
    [{ metricId: 'abc' }, 'metricId: must be a UUID'],
    [{ mood: 'great' }, 'Unrecognized key'],
  ])('refuses entry fields #%# with BAD_REQUEST', async (patch, message) => {
    const { client } = await signUp(ctx().url);
    const m = await metricsFor(client);
    const error = await errorOf(
      client.entries.create.mutate({
        metricId: m.rating.id,
        value: 3,
        date: '2026-03-01',
        ...patch,
      } as never),
    );
    expect(error.code).toBe('BAD_REQUEST');
    expect(error.message).toContain(message);
    expect((await client.entries.list.query({})).items).toEqual([]);
  });

  it("limits the date to a day after the user's own today", async () => {
    const { client } = await signUp(ctx().url);
    // Kiritimati is UTC+14: its today is often the UTC tomorrow.
    await client.users.updatePreferences.mutate({ timezone: 'Pacific/Kiritimati' });
    const m = await metricsFor(client);
    const today = localToday('Pacific/Kiritimati');
    await client.entries.create.mutate({ metricId: m.rating.id, value: 3, date: addDays(today, 1) });
    const error = await errorOf(
      client.entries.create.mutate({ metricId: m.rating.id, value: 3, date: addDays(today, 2) }),
    );
    expect(error).toMatchObject({
      code: 'BAD_REQUEST',
      message: `the date must not be after ${addDays(today, 1)}`,
    });
  });

  it('normalizes time and tags', async () => {
    const { client } = await signUp(ctx().url);
    const m = await metricsFor(client);
    const entry = await client.entries.create.mutate({
      metricId: m.rating.id,
      value: 4,
      date: '2026-03-01',
      time: '07:30',
      notes: 'after the run',
      tags: [' Morning ', 'RUN', 'morning', 'run'],
    });
    expect(entry).toMatchObject({ time: '07:30:00', notes: 'after the run', tags: ['morning', 'run'] });
  });

  it('applies a retried create once, and refuses a different one with the same id', async () => {
    const { client, user } = await signUp(ctx().url);
    const m = await metricsFor(client);
    const input = {
      id: randomUUID(),
      metricId: m.rating.id,
      value: 4,
      date: '2026-03-01',
      time: '08:00',
      tags: ['a'],
    };
    const seqBefore = (await readChanges(ctx().database.db, user.id, 0, 1000)).length;
    const first = await client.entries.create.mutate(input);
    expect(await client.entries.create.mutate(input)).toEqual(first);
    expect(await client.entries.create.mutate({ ...input, time: '08:00:00', tags: ['A '] })).toEqual(first);
    expect((await client.entries.list.query({})).items).toHaveLength(1);
    expect(await readChanges(ctx().database.db, user.id, seqBefore, 1000)).toHaveLength(1);
    const different = await errorOf(client.entries.create.mutate({ ...input, value: 5 }));
    expect(different.code).toBe('CONFLICT');
    const other = await signUp(ctx().url);
    const otherMetrics = await metricsFor(other.client);
    const taken = await errorOf(
      other.client.entries.create.mutate({ ...input, metricId: otherMetrics.rating.id }),
    );
    expect(taken).toMatchObject({ code: 'CONFLICT', message: 'this id is already in use' });
  });

  it('creates many atomically, reporting every invalid item by index', async () => {
    const { client } = await signUp(ctx().url);
    const m = await metricsFor(client);
    const good = Array.from({ length: 10 }, (_, i) => ({
      metricId: m.rating.id,
      value: (i % 5) + 1,
      date: '2026-03-01',
    }));
    const bad = [...good];
    bad[3] = { metricId: m.rating.id, value: 9, date: '2026-03-01' };
    bad[7] = { metricId: randomUUID(), value: 1, date: '2026-03-01' };
    const error = await errorOf(client.entries.createMany.mutate({ entries: bad }));
    expect(error.code).toBe('BAD_REQUEST');
    expect(error.details).toEqual({
      items: [
        { index: 3, reason: 'a rating must be from 1 to 5' },
        { index: 7, reason: 'metric not found' },
      ],
    });
    expect((await client.entries.list.query({})).items).toEqual([]);

    const duplicateId = randomUUID();
    const dup = await errorOf(
      client.entries.createMany.mutate({
        entries: [0, 1].map(() => ({ id: duplicateId, metricId: m.rating.id, value: 3, date: '2026-03-01' })),
      }),
    );
    expect(dup.details).toEqual({ items: [{ index: 1, reason: 'the same id appears twice in this batch' }] });

    const tooMany = await errorOf(
      client.entries.createMany.mutate({ entries: Array.from({ length: 1001 }, () => good[0]!) }),
    );
    expect(tooMany).toMatchObject({ code: 'BAD_REQUEST', message: 'entries: at most 1000 entries per call' });
    expect((await errorOf(client.entries.createMany.mutate({ entries: [] }))).code).toBe('BAD_REQUEST');

    const created = await client.entries.createMany.mutate({ entries: good });
    expect(created.map((entry) => entry.value)).toEqual(good.map((entry) => entry.value));
    expect((await client.entries.list.query({})).items).toHaveLength(10);
  });

  it('updates with optimistic concurrency, carrying the current entry on conflict', async () => {
    const { client } = await signUp(ctx().url);
    const m = await metricsFor(client);
    const entry = await client.entries.create.mutate({
      metricId: m.rating.id,
      value: 2,
      date: '2026-03-01',
      time: '09:00',
      notes: 'meh',
    });
    const updated = await client.entries.update.mutate({
      id: entry.id,
      baseVersion: 1,
      value: 4,
      time: null,
      notes: null,
      tags: ['Better'],
    });
    expect(updated).toMatchObject({
      value: 4,
      numericValue: 4,
      time: null,
      notes: null,
      tags: ['better'],
      version: 2,
      date: '2026-03-01',
    });
    const stale = await errorOf(client.entries.update.mutate({ id: entry.id, baseVersion: 1, value: 1 }));
    expect(stale).toMatchObject({ code: 'CONFLICT', details: { current: updated } });
    const invalid = await errorOf(client.entries.update.mutate({ id: entry.id, baseVersion: 2, value: 7 }));
    expect(invalid).toMatchObject({ code: 'BAD_REQUEST', message: 'a rating must be from 1 to 5' });
    expect(await client.entries.get.query({ id: entry.id })).toEqual(updated);

    const staleDelete = await errorOf(client.entries.delete.mutate({ id: entry.id, baseVersion: 1 }));
    expect(staleDelete.code).toBe('CONFLICT');
    expect(await client.entries.delete.mutate({ id: entry.id, baseVersion: 2 })).toEqual({ id: entry.id });
    expect((await errorOf(client.entries.get.query({ id: entry.id }))).code).toBe('NOT_FOUND');
    expect((await errorOf(client.entries.delete.mutate({ id: entry.id, baseVersion: 3 }))).code).toBe(
      'NOT_FOUND',
    );
  });

  it('pages through every row exactly once, in order, while new entries arrive', async () => {
    const { client } = await signUp(ctx().url);
    const m = await metricsFor(client);
    const seeds = Array.from({ length: 230 }, (_, i) => ({
      metricId: i % 2 ? m.rating.id : m.number.id,
      value: i % 2 ? (i % 5) + 1 : 50 + (i % 7),
      date: addDays('2026-01-01', i % 40),
      ...(i % 3 === 0
        ? {}
        : { time: `${String(i % 24).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}` }),
    }));
    const original = await client.entries.createMany.mutate({ entries: seeds });
    const expected = [...original]
      .sort((a, b) =>
        a.date !== b.date
          ? b.date.localeCompare(a.date)
          : (a.time ?? '00:00:00') !== (b.time ?? '00:00:00')
            ? (b.time ?? '00:00:00').localeCompare(a.time ?? '00:00:00')
            : b.id.localeCompare(a.id),
      )
      .map((entry) => entry.id);

    const seen: string[] = [];
    let cursor: string | undefined;
    let page = 0;
    do {
      const result = await client.entries.list.query({ limit: 37, ...(cursor ? { cursor } : {}) });
      seen.push(...result.items.map((entry) => entry.id));
      cursor = result.nextCursor ?? undefined;
      // Writes between pages, before and after the cursor's position.
      await client.entries.create.mutate({
        metricId: m.rating.id,
        value: 3,
        date: addDays('2026-01-01', (page * 13) % 45),
      });
      page += 1;
    } while (cursor);
    const originalIds = new Set(expected);
    const seenOriginal = seen.filter((id) => originalIds.has(id));
    expect(seenOriginal).toEqual(expected);
    expect(new Set(seen).size).toBe(seen.length);
  });

  it('combines the filters', async () => {
    const { client } = await signUp(ctx().url);
    const m = await metricsFor(client);
    const all = await client.entries.createMany.mutate({
      entries: Array.from({ length: 60 }, (_, i) => ({
        metricId: i % 3 ? m.rating.id : m.binary.id,
        value: i % 3 ? (i % 5) + 1 : i % 2 === 0,
        date: addDays('2026-02-01', i % 20),
        tags: i % 4 === 0 ? ['gym'] : i % 4 === 1 ? ['gym', 'late'] : ['home'],
      })) as never,
    });
    const query = { from: '2026-02-05', to: '2026-02-15', metricId: m.rating.id, tag: 'GYM' };
    const result = await client.entries.list.query({ ...query, limit: 500 });
    const expected = all.filter(
      (entry) =>
        entry.date >= query.from &&
        entry.date <= query.to &&
        entry.metricId === m.rating.id &&
        entry.tags.includes('gym'),
    );
    expect(result.items.map((entry) => entry.id).sort()).toEqual(expected.map((entry) => entry.id).sort());
    expect(expected.length).toBeGreaterThan(0);
    expect((await client.entries.list.query({ tag: 'late', limit: 500 })).items).toHaveLength(15);
    // Several tags: entries carrying every one of them.
    const both = await client.entries.list.query({ tag: ['GYM', 'late'], limit: 500 });
    expect(both.items.map((entry) => entry.id).sort()).toEqual(
      all
        .filter((entry) => entry.tags.includes('gym') && entry.tags.includes('late'))
        .map((entry) => entry.id)
        .sort(),
    );
    expect(both.items).toHaveLength(15);

    const badRange = await errorOf(client.entries.list.query({ from: '2026-03-01', to: '2026-02-01' }));
    expect(badRange).toMatchObject({ code: 'BAD_REQUEST', message: 'to: from must not be after to' });
    const badCursor = await errorOf(client.entries.list.query({ cursor: 'bm90IGEgY3Vyc29y' }));
    expect(badCursor).toMatchObject({
      code: 'BAD_REQUEST',
      message: 'cursor: not a cursor this server issued',
    });
    expect((await errorOf(client.entries.list.query({ limit: 501 }))).code).toBe('BAD_REQUEST');
  });

  it("answers another user's entry NOT_FOUND for every procedure and never lists it", async () => {
    const owner = await signUp(ctx().url);
    const intruder = await signUp(ctx().url);
    const m = await metricsFor(owner.client);
    const entry = await owner.client.entries.create.mutate({
      metricId: m.rating.id,
      value: 4,
      date: '2026-03-01',
    });
    // Each call starts only when errorOf awaits it: calls started together go out as a query batch
    // and a mutation batch that settle apart, and one rejecting while another is awaited is unhandled.
    for (const attempt of [
      () => intruder.client.entries.get.query({ id: entry.id }),
      () => intruder.client.entries.update.mutate({ id: entry.id, baseVersion: 1, value: 1 }),
      () => intruder.client.entries.delete.mutate({ id: entry.id, baseVersion: 1 }),
      () => intruder.client.entries.create.mutate({ metricId: m.rating.id, value: 1, date: '2026-03-01' }),
    ]) {
      expect((await errorOf(attempt())).code).toBe('NOT_FOUND');
    }
    expect((await intruder.client.entries.list.query({ metricId: m.rating.id })).items).toEqual([]);
    expect(await owner.client.entries.get.query({ id: entry.id })).toEqual(entry);
  });

  it('writes one change_log event per changed object, matching the mutations', async () => {
    const { client, user } = await signUp(ctx().url);
    const { db } = ctx().database;
    const start = (await readChanges(db, user.id, 0, 1000)).at(-1)?.seq ?? 0;
    const metric = await client.metrics.create.mutate({
      name: 'Focus',
      type: 'duration',
      category: 'productivity',
      clientMutationId: 'm1',
    });
    const [a, b] = await client.entries.createMany.mutate({
      entries: [
        { metricId: metric.id, value: 600, date: '2026-03-01' },
        { metricId: metric.id, value: 900, date: '2026-03-02' },
      ],
      clientMutationId: 'batch-1',
    });
    const updated = await client.entries.update.mutate({
      id: a!.id,
      baseVersion: 1,
      value: 1200,
      clientMutationId: 'u1',
    });
    await client.entries.delete.mutate({ id: b!.id, baseVersion: 1, clientMutationId: 'd1' });
    await errorOf(client.entries.update.mutate({ id: a!.id, baseVersion: 1, value: 5 }));

    const events = await readChanges(db, user.id, start, 1000);
    expect(
      events.map((event) => ({
        seq: event.seq,
        entity: event.entity,
        op: event.op,
        id: event.entityId,
        data: event.data,
        by: event.clientMutationId,
      })),
    ).toEqual([
      { seq: start + 1, entity: 'metric', op: 'upsert', id: metric.id, data: metric, by: 'm1' },
      { seq: start + 2, entity: 'entry', op: 'upsert', id: a!.id, data: a, by: 'batch-1' },
      { seq: start + 3, entity: 'entry', op: 'upsert', id: b!.id, data: b, by: 'batch-1' },
      { seq: start + 4, entity: 'entry', op: 'upsert', id: a!.id, data: updated, by: 'u1' },
      { seq: start + 5, entity: 'entry', op: 'delete', id: b!.id, data: null, by: 'd1' },
    ]);
  });
});
