import { randomUUID } from 'node:crypto';
import type { ExportInput } from '@lifexp/contracts';
import { and, asc, eq, gte, inArray, isNull, lte, sql } from 'drizzle-orm';
import { expect, it } from 'vitest';
import { registerUser } from '../src/accounts';
import { latestSeq, readChanges } from '../src/changes';
import type { Db } from '../src/client';
import { toEntry } from '../src/entries';
import { DomainError } from '../src/errors';
import { documentParts } from '../src/jsonStream';
import { changeLog, entries, metrics } from '../src/schema';
import { describeEachDriver } from '../src/testing';
import { exportStream, importStream } from '../src/transfer';

/** A document of `count` entries over two metrics, as text split in chunks of `size` characters. */
function documentOf(count: number) {
  const steps = randomUUID();
  const note = randomUUID();
  return {
    format: 'lifexp',
    version: 1,
    metrics: [
      { id: steps, name: 'Steps', type: 'number', category: 'fitness', config: {} },
      { id: note, name: 'Journal', type: 'text', category: 'custom', config: {} },
    ],
    entries: Array.from({ length: count }, (_, i) => ({
      id: randomUUID(),
      metricId: i % 2 ? steps : note,
      value: i % 2 ? i : `day ${i}`,
      date: '2026-01-01',
    })),
  };
}

function* chunked(text: string, size: number): Generator<string> {
  for (let at = 0; at < text.length; at += size) yield text.slice(at, at + size);
}

/** Every string a CSV or JSON writer could get wrong. */
const AWKWARD = [
  'a "quoted" word',
  'comma, semicolon; both',
  'line one\nline two\r\nline three',
  'tab\there, back\\slash',
  'unicode: é ß 日本 😀 \u2028 \u00a0',
  '=1+1',
  "'leading quote",
  '  -formula after blanks',
];

async function account(db: Db) {
  return registerUser(db, { email: `${randomUUID()}@example.test`, password: 'long enough pw' });
}

async function countOf(db: Db, table: typeof entries | typeof metrics | typeof changeLog, userId: string) {
  return (await db.select({ n: sql<number>`count(*)::int` }).from(table).where(eq(table.userId, userId)))[0]!
    .n;
}

async function nothingWritten(db: Db, userId: string) {
  expect(await countOf(db, entries, userId)).toBe(0);
  expect(await countOf(db, metrics, userId)).toBe(0);
  expect(await countOf(db, changeLog, userId)).toBe(0);
  expect(await latestSeq(db, userId)).toBe(0);
}

async function refusal(promise: Promise<unknown>): Promise<DomainError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DomainError);
  return error as DomainError;
}

async function textOf(
  db: Db,
  userId: string,
  format: 'json' | 'csv',
  filter: Omit<ExportInput, 'format'> = {},
) {
  let text = '';
  for await (const chunk of exportStream(db, userId, { format, ...filter }).chunks) text += chunk;
  return text;
}

/** The user's entries' content, without ids and timestamps, in a stable order. */
async function contentOf(db: Db, userId: string) {
  const rows = await db
    .select()
    .from(entries)
    .where(eq(entries.userId, userId))
    .orderBy(asc(entries.date), asc(entries.notes));
  const names = new Map(
    (await db.select().from(metrics).where(eq(metrics.userId, userId))).map((m) => [m.id, m.name]),
  );
  return rows
    .map((row) => ({
      metric: names.get(row.metricId),
      value: row.value,
      date: row.date,
      time: row.time,
      notes: row.notes,
      tags: [...row.tags].sort(),
    }))
    .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
}

describeEachDriver('streamed import and export', (ctx) => {
  it('refuses a document whose last entry is bad, naming it, with nothing written', async () => {
    const { db } = ctx();
    const user = await account(db);
    const document = documentOf(12_000);
    document.entries[11_999]!.value = 'not a number';
    const error = await refusal(importStream(db, user.id, chunked(JSON.stringify(document), 4_096), 'json'));
    expect(error.code).toBe('BAD_REQUEST');
    expect(error.details?.problems).toEqual([
      { path: 'entries[11999].value', message: expect.stringMatching(/number/) },
    ]);
    await nothingWritten(db, user.id);
  });

  it('refuses a document cut off after several staged batches as not valid JSON, with nothing written', async () => {
    const { db } = ctx();
    const user = await account(db);
    const text = JSON.stringify(documentOf(12_000));
    // Cut inside the 11,000th entry or so: two batches of 5,000 were staged (one may still be in flight).
    const error = await refusal(
      importStream(db, user.id, chunked(text.slice(0, Math.floor(text.length * 0.92)), 4_096), 'json'),
    );
    expect(error.code).toBe('BAD_REQUEST');
    expect(error.message).toMatch(/^the file is not valid JSON/);
    await nothingWritten(db, user.id);
    // The connection is usable afterwards: the same document, whole, imports.
    const report = await importStream(db, user.id, chunked(text, 4_096), 'json');
    expect(report.entries.created).toBe(12_000);
  });

  it('imports a document streamed in small chunks, the same as one parsed whole', async () => {
    const { db } = ctx();
    const document = documentOf(7_001);
    const streamed = await account(db);
    const report = await importStream(db, streamed.id, chunked(JSON.stringify(document), 333), 'json');
    expect(report).toEqual({
      dryRun: false,
      metrics: { created: 2, updated: 0, skipped: 0 },
      entries: { created: 7_001, updated: 0, skipped: 0 },
    });
    expect(await countOf(db, entries, streamed.id)).toBe(7_001);
    // A big import tells other devices with one event.
    const events = await readChanges(db, streamed.id, 0, 10);
    expect(events.map((e) => e.entity)).toEqual(['import']);
    // Re-importing changes nothing.
    const again = await importStream(db, streamed.id, [JSON.stringify(document)], 'json');
    expect(again.entries).toEqual({ created: 0, updated: 0, skipped: 7_001 });
    expect(await latestSeq(db, streamed.id)).toBe(1);
  });

  it('a streamed dry run reports what the import does and writes nothing', async () => {
    const { db } = ctx();
    const user = await account(db);
    const text = JSON.stringify(documentOf(2_500));
    const dry = await importStream(db, user.id, chunked(text, 1_000), 'json', { dryRun: true });
    await nothingWritten(db, user.id);
    const real = await importStream(db, user.id, chunked(text, 1_000), 'json');
    expect({ ...dry, dryRun: false }).toEqual(real);
  });

  it('stops at a failing source (a size limit) with nothing written', async () => {
    const { db } = ctx();
    const user = await account(db);
    const text = JSON.stringify(documentOf(6_000));
    let read = 0;
    const limited = (async function* () {
      for (const chunk of chunked(text, 1_000)) {
        read += chunk.length;
        if (read > text.length / 2) throw new DomainError('PAYLOAD_TOO_LARGE', 'too large');
        yield chunk;
      }
    })();
    const error = await refusal(importStream(db, user.id, limited, 'json'));
    expect(error.code).toBe('PAYLOAD_TOO_LARGE');
    await nothingWritten(db, user.id);
  });

  it('answers broken JSON anywhere with BAD_REQUEST, nothing written', async () => {
    const { db } = ctx();
    const user = await account(db);
    const text = JSON.stringify(documentOf(3_000));
    for (const broken of [
      text.slice(0, -2), // cut short
      `${text.slice(0, -2)}}]}`, // one brace too many after the last entry
      text.replace('"entries":[', '"entries":[,'),
      `${text} trailing`,
      '[]',
    ]) {
      const error = await refusal(importStream(db, user.id, chunked(broken, 500), 'json'));
      expect(error.code).toBe('BAD_REQUEST');
      expect(error.message).toMatch(/not valid JSON/);
    }
    await nothingWritten(db, user.id);
  });

  it('names duplicate entry ids and entries of unknown metrics, writing nothing', async () => {
    const { db } = ctx();
    const user = await account(db);
    const document = documentOf(3_000);
    document.entries[2_500]!.id = document.entries[10]!.id;
    const duplicate = await refusal(importStream(db, user.id, [JSON.stringify(document)], 'json'));
    expect(duplicate.details?.problems).toEqual([
      { path: 'entries[2500].id', message: 'duplicate entry id' },
    ]);
    const unknown = documentOf(10);
    unknown.entries[9]!.metricId = randomUUID();
    const missing = await refusal(importStream(db, user.id, [JSON.stringify(unknown)], 'json'));
    expect(missing.details?.problems).toEqual([
      { path: 'entries[9].metricId', message: 'no metric with this id in the document' },
    ]);
    await nothingWritten(db, user.id);
  });

  it('reads entries that come before the metrics', async () => {
    const { db } = ctx();
    const user = await account(db);
    const { entries: list, metrics: defs, ...head } = documentOf(1_500);
    const text = JSON.stringify({ entries: list, ...head, metrics: defs });
    const report = await importStream(db, user.id, chunked(text, 700), 'json');
    expect(report.entries.created).toBe(1_500);
  });

  it("never touches another account's entries when streamed their ids, and maps the same again", async () => {
    const { db } = ctx();
    const victim = await account(db);
    const attacker = await account(db);
    const document = documentOf(1_200);
    await importStream(db, victim.id, [JSON.stringify(document)], 'json');
    const before = await contentOf(db, victim.id);
    for (const entry of document.entries) if (typeof entry.value === 'number') entry.value = 1;
    const text = JSON.stringify(document);
    const report = await importStream(db, attacker.id, chunked(text, 2_048), 'json', {
      onConflict: 'overwrite',
    });
    expect(report.entries).toEqual({ created: 1_200, updated: 0, skipped: 0 });
    expect(await contentOf(db, victim.id)).toEqual(before);
    const ids = new Set<string>(document.entries.map((e) => e.id));
    const theirs = await db.select({ id: entries.id }).from(entries).where(eq(entries.userId, attacker.id));
    expect(theirs.some((row) => ids.has(row.id))).toBe(false);
    const again = await importStream(db, attacker.id, chunked(text, 2_048), 'json', {
      onConflict: 'overwrite',
    });
    expect(again.entries).toEqual({ created: 0, updated: 0, skipped: 1_200 });
  });

  it('exports thousands of entries in many chunks exactly as the API shows them, filtered or not', async () => {
    const { db } = ctx();
    const owner = await account(db);
    const noteId = randomUUID();
    const stepsId = randomUUID();
    // Characters of one to four bytes and every kind of control character, in every entry: a
    // multi-byte character falls across chunk boundaries somewhere.
    const awkward = 'é ß 日本 😀 \u0001\u0002\u001f\u007f \u2028 "q" \\ , ;\n\r\t';
    const document = {
      format: 'lifexp',
      version: 1,
      metrics: [
        { id: noteId, name: 'Journal', type: 'text', category: 'custom', config: {} },
        { id: stepsId, name: 'Steps', type: 'number', category: 'fitness', config: {} },
      ],
      entries: Array.from({ length: 3_000 }, (_, i) => ({
        id: randomUUID(),
        metricId: i % 3 ? stepsId : noteId,
        value: i % 3 ? i * 1.5 : `${awkward} ${i}`,
        date: `2025-${String((i % 12) + 1).padStart(2, '0')}-${String((i % 28) + 1).padStart(2, '0')}`,
        time: i % 2 ? '07:30' : null,
        notes: i % 5 ? null : `${i} ${awkward}`,
        tags: i % 4 ? [] : [awkward, `t${i}`],
      })),
    };
    await importStream(db, owner.id, [JSON.stringify(document)], 'json');
    const expected = async (...conditions: Parameters<typeof and>) =>
      (
        await db
          .select()
          .from(entries)
          .where(and(eq(entries.userId, owner.id), isNull(entries.deletedAt), ...conditions))
          .orderBy(asc(entries.date), asc(entries.id))
      ).map(toEntry);

    const whole = await textOf(db, owner.id, 'json');
    expect(whole.length).toBeGreaterThan(512 * 1024);
    const all = await expected();
    expect(all).toHaveLength(3_000);
    expect((JSON.parse(whole) as { entries: unknown[] }).entries).toEqual(all);
    expect(whole).toContain(`"entries":[${all.map((entry) => JSON.stringify(entry)).join(',')}]`);

    const filtered = await textOf(db, owner.id, 'json', {
      from: '2025-03-01',
      to: '2025-06-30',
      metricIds: [noteId],
    });
    const some = await expected(
      gte(entries.date, '2025-03-01'),
      lte(entries.date, '2025-06-30'),
      inArray(entries.metricId, [noteId]),
    );
    expect(some.length).toBeGreaterThan(100);
    expect((JSON.parse(filtered) as { entries: unknown[] }).entries).toEqual(some);

    // No entry in the range: an empty list, still a valid document. (On PostgreSQL, small exports
    // right after one another once left a connection unable to read its next answer.)
    const none = JSON.parse(await textOf(db, owner.id, 'json', { from: '2030-01-01' })) as {
      entries: unknown[];
    };
    expect(none.entries).toEqual([]);
  });

  it('round-trips quotes, separators, line breaks and unicode through JSON and CSV', async () => {
    const { db } = ctx();
    const owner = await account(db);
    const noteId = randomUUID();
    const stepsId = randomUUID();
    const document = {
      format: 'lifexp',
      version: 1,
      metrics: [
        { id: noteId, name: 'Notes, "daily"; 日記', type: 'text', category: 'custom', config: {} },
        { id: stepsId, name: 'Steps', type: 'number', category: 'fitness', config: { unit: 'k"m, ;' } },
      ],
      entries: AWKWARD.flatMap((text, i) => [
        {
          id: randomUUID(),
          metricId: noteId,
          value: text,
          date: `2026-01-0${(i % 9) + 1}`,
          time: i % 2 ? '07:30' : null,
          notes: text,
          tags: [text.slice(0, 20).trim() || 'x', 'semi;colon', 'back\\slash'],
        },
        { id: randomUUID(), metricId: stepsId, value: i + 0.25, date: '2026-02-01', notes: text },
      ]),
    };
    await importStream(db, owner.id, [JSON.stringify(document)], 'json');
    const expected = await contentOf(db, owner.id);

    // The JSON export is each entry exactly as the API shows it.
    const json = await textOf(db, owner.id, 'json');
    const parsed = JSON.parse(json) as { entries: unknown[] };
    const rows = await db
      .select()
      .from(entries)
      .where(eq(entries.userId, owner.id))
      .orderBy(asc(entries.date), asc(entries.id));
    expect(parsed.entries).toEqual(rows.map(toEntry));
    expect(json).toContain(rows.map((row) => JSON.stringify(toEntry(row))).join(','));

    for (const format of ['json', 'csv'] as const) {
      const text = format === 'json' ? json : await textOf(db, owner.id, format);
      const target = await account(db);
      const report = await importStream(db, target.id, chunked(text, 97), format);
      expect(report.entries.created).toBe(AWKWARD.length * 2);
      expect(await contentOf(db, target.id)).toEqual(expected);
    }
  });
});

it('reads a JSON object part by part across any chunking, with JSON.parse’s grammar', async () => {
  const document = {
    format: 'lifexp',
    n: -1.5e3,
    flag: true,
    none: null,
    metrics: [{ id: 'a', s: 'q"\\}]{[,' }],
    entries: [{ a: 1, s: 'é😀\n"\\' }, 2, 'x]', [1, [2, {}]], false, null, -0.5e-3],
    after: { deep: [[['}']]] },
  };
  const text = JSON.stringify(document, null, 1);
  for (const size of [1, 2, 3, 7, 64, text.length]) {
    const bytes = new TextEncoder().encode(text);
    const chunks = Array.from({ length: Math.ceil(bytes.length / size) }, (_, i) =>
      bytes.slice(i * size, (i + 1) * size),
    );
    const read: Record<string, unknown> = {};
    const list: unknown[] = [];
    for await (const part of documentParts(chunks)) {
      if (part.kind === 'member') read[part.key] = part.value;
      if (part.kind === 'entry') list.push(part.value);
    }
    expect({ ...read, entries: list }).toEqual(document);
  }
});
