import { randomUUID } from 'node:crypto';
import { csvCell, derivedId, latestSeq, rowsOf, schema } from '@lifexp/db';
import { parse } from 'csv-parse/sync';
import { count, eq, sql } from 'drizzle-orm';
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { safeError } from '../src/errorLog';
import { call, describeServer, eventually, send, signUp, type TestServer } from './support';

const NUL = String.fromCharCode(0);
const LONE = String.fromCharCode(0xd83d);
/** User content that must never reach a log line. */
const SECRET = 'private-note-9c41f2';

type Account = Awaited<ReturnType<typeof signUp>>;

function bearer(account: Account) {
  return { authorization: `Bearer ${account.token}` };
}

function cursorOf(date: string, time: string, id: string) {
  return Buffer.from(JSON.stringify([date, time, id])).toString('base64url');
}

async function rowCounts(ctx: TestServer, userId: string) {
  const { db } = ctx.database.database;
  const [metrics] = await db
    .select({ n: count() })
    .from(schema.metrics)
    .where(eq(schema.metrics.userId, userId));
  const [entries] = await db
    .select({ n: count() })
    .from(schema.entries)
    .where(eq(schema.entries.userId, userId));
  return { metrics: metrics!.n, entries: entries!.n, seq: await latestSeq(db, userId) };
}

describeServer('hostile text, cursors and logs', (ctx) => {
  it('answers 400 to NUL and lone surrogates in every kind of string input, writes nothing, logs no content', async () => {
    const person = await signUp(ctx().url);
    const text = await person.client.metrics.create.mutate({
      name: 'Journal',
      type: 'text',
      category: 'custom',
    });
    const mood = await person.client.metrics.create.mutate({
      name: 'Mood',
      type: 'rating',
      category: 'mood',
    });
    const before = await rowCounts(ctx(), person.user.id);
    const entry = { metricId: mood.id, value: 3, date: '2026-01-02' };
    const attempts: [string, unknown][] = [
      ['entries.create', { ...entry, notes: `${SECRET}${NUL}` }],
      ['entries.create', { metricId: text.id, value: `${SECRET}${NUL}`, date: '2026-01-02' }],
      ['entries.create', { metricId: text.id, value: `${SECRET}${LONE}`, date: '2026-01-02' }],
      ['entries.create', { ...entry, tags: [`${SECRET}${NUL}`] }],
      ['entries.create', { ...entry, clientMutationId: `${SECRET}${NUL}` }],
      ['entries.createMany', { entries: [{ ...entry, notes: `${SECRET}${LONE}` }] }],
      ['metrics.create', { name: `${SECRET}${NUL}`, type: 'binary', category: 'habits' }],
      ['metrics.update', { id: text.id, baseVersion: 1, name: `${SECRET}${NUL}` }],
      ['users.updatePreferences', { preferences: { ui: { note: `${SECRET}${NUL}` } } }],
      ['users.updatePreferences', { preferences: { ui: { [`${SECRET}${NUL}`]: true } } }],
      [
        'data.import',
        {
          document: {
            format: 'lifexp',
            version: 1,
            metrics: [{ id: randomUUID(), name: 'Imported', type: 'text', category: 'custom' }],
            entries: [],
          },
          clientMutationId: `${SECRET}${NUL}`,
        },
      ],
    ];
    const metricId = randomUUID();
    attempts.push([
      'data.import',
      {
        document: {
          format: 'lifexp',
          version: 1,
          metrics: [{ id: metricId, name: 'Imported', type: 'text', category: 'custom' }],
          entries: [{ id: randomUUID(), metricId, value: 'v', date: '2026-01-02', notes: `${SECRET}${NUL}` }],
        },
      },
    ]);
    for (const [procedure, input] of attempts) {
      const response = await call(ctx().url, procedure, input, { headers: bearer(person) });
      expect({ procedure, status: response.status, code: response.error?.data.code }).toEqual({
        procedure,
        status: 400,
        code: 'BAD_REQUEST',
      });
    }
    const upload = await send(`${ctx().url}/api/data/import`, {
      method: 'POST',
      headers: { ...bearer(person), 'content-type': 'application/json' },
      body: JSON.stringify(attempts.at(-1)![1] as { document: unknown }).replace(/^\{"document":|\}$/g, ''),
    });
    expect(upload.status).toBe(400);
    expect(await rowCounts(ctx(), person.user.id)).toEqual(before);
    expect(JSON.stringify(ctx().logs)).not.toContain(SECRET);
  });

  it('answers 400 to hand-made cursors with an impossible date, time or id', async () => {
    const person = await signUp(ctx().url);
    const good = randomUUID();
    const cursors = [
      cursorOf('2026-02-30', '08:00:00', good),
      cursorOf('2026-13-45', '08:00:00', good),
      cursorOf('2026-01-01', '99:99:99', good),
      cursorOf('2026-01-01', '24:00:00', good),
      cursorOf('2026-01-01', '08:00:00', '-'.repeat(36)),
      cursorOf('2026-01-01', '08:00:00', 'g'.repeat(8).concat('-', '0'.repeat(27))),
      cursorOf(`${SECRET}`, '08:00:00', good),
    ];
    for (const cursor of cursors) {
      const response = await call(
        ctx().url,
        'entries.list',
        { cursor },
        { type: 'query', headers: bearer(person) },
      );
      expect({ cursor, status: response.status, code: response.error?.data.code }).toEqual({
        cursor,
        status: 400,
        code: 'BAD_REQUEST',
      });
    }
    const valid = await call(
      ctx().url,
      'entries.list',
      { cursor: cursorOf('2026-01-01', '08:00:00', good) },
      { type: 'query', headers: bearer(person) },
    );
    expect(valid.status).toBe(200);
    expect(JSON.stringify(ctx().logs)).not.toContain(SECRET);
  });
});

it('describes a failed query by its statement and code, never its parameters or message', () => {
  const cause = Object.assign(new Error(`invalid byte sequence: ${SECRET}`), {
    code: '22021',
    detail: `Key (notes)=(${SECRET})`,
    constraint: 'entries_pkey',
  });
  const error = Object.assign(
    new Error(`Failed query: insert into "entries" values ($1)\nparams: ${SECRET}`),
    {
      query: 'insert into "entries" values ($1)',
      params: [SECRET],
      cause,
    },
  );
  const described = safeError(error);
  expect(JSON.stringify(described)).not.toContain(SECRET);
  expect(described).toMatchObject({
    statement: 'insert into "entries" values ($1)',
    cause: { code: '22021', constraint: 'entries_pkey' },
  });
});

describeServer("import writes only the importer's rows", (ctx) => {
  it.each([
    ["never writes another account's entry at a derived id", false],
    ['a derived metric id another account holds is no 500', true],
  ])('%s', async (_title, squatMetric) => {
    const a = await signUp(ctx().url);
    const b = await signUp(ctx().url);
    const { db } = ctx().database.database;
    // B holds an entry id and a metric id that A's document carries, and the ids A's import derives for them.
    const bMetric = await b.client.metrics.create.mutate({
      name: 'B metric',
      type: 'rating',
      category: 'mood',
    });
    const bSquat = await b.client.metrics.create.mutate({
      id: squatMetric ? derivedId(a.user.id, bMetric.id) : randomUUID(),
      name: 'B squat',
      type: 'rating',
      category: 'mood',
    });
    const entryId = randomUUID();
    await b.client.entries.create.mutate({ id: entryId, metricId: bMetric.id, value: 2, date: '2026-01-03' });
    const squatted = await b.client.entries.create.mutate({
      id: derivedId(a.user.id, entryId),
      metricId: bMetric.id,
      value: 1,
      date: '2026-01-03',
      notes: 'B note',
    });
    const bBefore = await rowCounts(ctx(), b.user.id);
    const document = {
      format: 'lifexp',
      version: 1,
      metrics: [{ id: bMetric.id, name: 'A mood', type: 'rating', category: 'mood' }],
      entries: [{ id: entryId, metricId: bMetric.id, value: 5, date: '2026-01-04', notes: 'A private note' }],
    };
    for (let round = 0; round < 2; round++) {
      const report = await a.client.data.import.mutate({ document, onConflict: 'overwrite' });
      expect(report.metrics).toEqual(
        round === 0 ? { created: 1, updated: 0, skipped: 0 } : { created: 0, updated: 0, skipped: 1 },
      );
      expect(report.entries).toEqual(
        round === 0 ? { created: 1, updated: 0, skipped: 0 } : { created: 0, updated: 0, skipped: 1 },
      );
    }
    // B's rows are exactly as B left them.
    expect(await b.client.entries.get.query({ id: squatted.id })).toEqual(squatted);
    expect(await b.client.metrics.get.query({ id: bSquat.id })).toEqual(bSquat);
    expect(await rowCounts(ctx(), b.user.id)).toEqual(bBefore);
    const [aEntry] = (await a.client.entries.list.query({})).items;
    expect(aEntry).toMatchObject({ notes: 'A private note', value: 5 });
    expect([entryId, squatted.id]).not.toContain(aEntry!.id);
    const [row] = await db.select().from(schema.entries).where(eq(schema.entries.id, aEntry!.id));
    expect(row!.userId).toBe(a.user.id);
    const [aMetric] = await a.client.metrics.list.query({});
    expect([bMetric.id, bSquat.id]).not.toContain(aMetric!.id);
  });

  it('re-importing an unchanged export with overwrite changes no row, bumps no version, emits no event', async () => {
    const person = await signUp(ctx().url);
    const weight = await person.client.metrics.create.mutate({
      name: 'Weight',
      type: 'number',
      category: 'health',
      config: { unit: 'kg', decimals: 1, min: 20, max: 300, aggregation: 'last', missing: 'unknown' },
    });
    const mood = await person.client.metrics.create.mutate({
      name: 'Mood',
      type: 'rating',
      category: 'mood',
      config: { min: 1, max: 10 },
    });
    await person.client.metrics.create.mutate({ name: 'Sleep', type: 'duration', category: 'sleep' });
    await person.client.metrics.update.mutate({ id: mood.id, baseVersion: 1, isActive: false });
    await person.client.entries.create.mutate({
      metricId: weight.id,
      value: 71.5,
      date: '2026-01-02',
      time: '07:30',
      notes: 'after run',
      tags: ['Morning', 'scale'],
    });
    const exported = await person.client.data.export.query({ format: 'json' });
    const document = exported.content;
    const metricsBefore = await person.client.metrics.list.query({ includeArchived: true });
    const entriesBefore = await person.client.entries.list.query({});
    const before = await rowCounts(ctx(), person.user.id);
    const report = await person.client.data.import.mutate({ document, onConflict: 'overwrite' });
    expect(report.metrics).toEqual({ created: 0, updated: 0, skipped: 3 });
    expect(report.entries).toEqual({ created: 0, updated: 0, skipped: 1 });
    expect(await person.client.metrics.list.query({ includeArchived: true })).toEqual(metricsBefore);
    expect(await person.client.entries.list.query({})).toEqual(entriesBefore);
    expect(await rowCounts(ctx(), person.user.id)).toEqual(before);
  });
});

it('csvCell is one inert field whether a spreadsheet splits on , or ; and reads back exactly (property)', () => {
  const alphabet = fc.constantFrom(
    '=',
    '+',
    '-',
    '@',
    ';',
    ',',
    '"',
    "'",
    ' ',
    '\t',
    '\r',
    '\n',
    'a',
    '1',
    '(',
    ')',
  );
  fc.assert(
    fc.property(fc.string({ unit: alphabet, maxLength: 12 }), (value) => {
      const cell = csvCell(value);
      for (const delimiter of [',', ';']) {
        const rows = parse(cell === '' ? '""' : cell, { delimiter, relax_quotes: false }) as string[][];
        expect(rows).toHaveLength(1);
        expect(rows[0]).toHaveLength(1);
        const field = rows[0]![0]!;
        // No formula trigger where a spreadsheet looks for one, and one stripped quote gives the value back.
        expect(field).not.toMatch(/^\s*[=+\-@]/);
        expect(field.startsWith("'") ? field.slice(1) : field).toBe(value);
      }
    }),
    { numRuns: 2_000 },
  );
});

describeServer(
  'deleteAccount leaves no job behind',
  (ctx) => {
    const jobsOf = async (userId: string) => {
      const result = await ctx().database.database.db.execute(
        sql`select count(*)::int as n from pgboss.job where data->>'userId' = ${userId}`,
      );
      return rowsOf<{ n: number }>(result)[0]!.n;
    };

    it('removes the pending insights recompute that carries the user id', async () => {
      const person = await signUp(ctx().url);
      const other = await signUp(ctx().url);
      await person.client.metrics.create.mutate({ name: 'Mood', type: 'rating', category: 'mood' });
      await other.client.metrics.create.mutate({ name: 'Mood', type: 'rating', category: 'mood' });
      // The write queues a debounced recompute: wait until it is in the queue.
      await eventually(
        async () => ((await jobsOf(person.user.id)) > 0 ? true : undefined),
        'the queued recompute',
      );
      await eventually(
        async () => ((await jobsOf(other.user.id)) > 0 ? true : undefined),
        'the other recompute',
      );
      const deleted = await call(
        ctx().url,
        'users.deleteAccount',
        { password: 'correct horse battery' },
        { headers: bearer(person) },
      );
      expect(deleted.status).toBe(200);
      expect(await jobsOf(person.user.id)).toBe(0);
      // Another user's job stays.
      expect(await jobsOf(other.user.id)).toBeGreaterThan(0);
    });
  },
  { INSIGHTS_DEBOUNCE_SECONDS: '3600' },
);
