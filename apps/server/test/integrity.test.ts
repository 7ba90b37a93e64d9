import { randomUUID } from 'node:crypto';
import { derivedId, latestSeq, schema } from '@lifexp/db';
import { and, count, eq, isNull } from 'drizzle-orm';
import { expect, it } from 'vitest';
import { safeError } from '../src/errorLog';
import { call, describeServer, signUp, type TestServer } from './support';

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
    const upload = await fetch(`${ctx().url}/api/data/import`, {
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

export { and, derivedId, isNull };
