import { randomUUID } from 'node:crypto';
import type { CreateEntryInput, Entry } from '@lifexp/contracts';
import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { readChanges } from '../src/changes';
import type { Db } from '../src/client';
import { importDocument } from '../src/data';
import { createEntries, createEntry, getEntry, updateEntry } from '../src/entries';
import { type EntryColumns, normalizeEntry, sameEntryContent } from '../src/entryRules';
import { DomainError } from '../src/errors';
import { entries, metrics, users } from '../src/schema';
import { describeEachDriver } from '../src/testing';

const LATEST = '2026-12-31';
const numberMetric = { type: 'number', config: {}, isActive: true } as const;

/**
 * Every field in a form that the stored form differs from: a -0, a time without seconds, an empty
 * note, tags with spaces, capitals and a repeat. Every path must store `stored`.
 */
const messy = {
  value: -0,
  date: '2026-03-01',
  time: '07:30',
  notes: '',
  tags: [' Morning ', 'RUN', 'morning'],
};
/** The same content as `messy`, sent as it is stored. */
const clean = { value: 0, date: '2026-03-01', time: '07:30:00', tags: ['morning', 'run'] };
const stored = {
  value: 0,
  numericValue: 0,
  date: '2026-03-01',
  time: '07:30:00',
  notes: null,
  tags: ['morning', 'run'],
};

function contentOf(entry: Entry) {
  const { value, numericValue, date, time, notes, tags } = entry;
  return { value, numericValue, date, time, notes, tags };
}

describe('normalizeEntry', () => {
  it('stores every field in one form: -0 as 0, HH:MM:SS, an empty note as null, normalized tags', () => {
    const result = normalizeEntry(messy, { metric: numberMetric, latestDate: LATEST, archived: 'refuse' });
    expect(result).toEqual({ ok: true, columns: stored });
    // toEqual tells 0 from -0; the value and the analytics number must both be a plain 0.
    expect(Object.is((result as { columns: EntryColumns }).columns.numericValue, 0)).toBe(true);
    expect(Object.is((result as { columns: EntryColumns }).columns.value, 0)).toBe(true);
  });

  it('stores absent time, notes and tags as null, null and []', () => {
    expect(
      normalizeEntry(
        { value: 3, date: '2026-03-01' },
        { metric: numberMetric, latestDate: LATEST, archived: 'refuse' },
      ),
    ).toEqual({
      ok: true,
      columns: { value: 3, numericValue: 3, date: '2026-03-01', time: null, notes: null, tags: [] },
    });
    expect(
      normalizeEntry(
        { value: 3, date: '2026-03-01', time: null, notes: null },
        { metric: numberMetric, latestDate: LATEST, archived: 'accept' },
      ),
    ).toMatchObject({ ok: true, columns: { time: null, notes: null, tags: [] } });
  });

  it('refuses an archived metric with CONFLICT only when asked to, as a named rule', () => {
    const archived = { ...numberMetric, isActive: false };
    expect(normalizeEntry(messy, { metric: archived, latestDate: LATEST, archived: 'refuse' })).toEqual({
      ok: false,
      problems: [
        { code: 'CONFLICT', field: 'metricId', reason: 'the metric is archived and takes no new entries' },
      ],
    });
    expect(normalizeEntry(messy, { metric: archived, latestDate: LATEST, archived: 'accept' })).toEqual({
      ok: true,
      columns: stored,
    });
  });

  it('reports every problem with its own code and field, value first', () => {
    const result = normalizeEntry(
      { value: 'ten', date: '2027-01-02', time: '7:30', notes: 'n'.repeat(10_001), tags: ['  '] },
      { metric: numberMetric, latestDate: LATEST, archived: 'refuse' },
    );
    expect(result).toEqual({
      ok: false,
      problems: [
        { code: 'BAD_REQUEST', field: 'value', reason: 'the value must be a finite number' },
        { code: 'BAD_REQUEST', field: 'date', reason: `the date must not be after ${LATEST}` },
        { code: 'BAD_REQUEST', field: 'time', reason: 'time: must be a time as HH:MM or HH:MM:SS' },
        { code: 'BAD_REQUEST', field: 'notes', reason: 'notes: must be at most 10000 characters' },
        { code: 'BAD_REQUEST', field: 'tags.0', reason: 'tags.0: a tag must not be empty' },
      ],
    });
  });
});

describe('sameEntryContent', () => {
  const row = { metricId: 'm', ...stored };
  it('compares the stored forms, tags as a set', () => {
    expect(sameEntryContent(row, { metricId: 'm', ...stored })).toBe(true);
    expect(sameEntryContent(row, { metricId: 'm', ...stored, tags: ['run', 'morning'] })).toBe(true);
  });
  it.each([
    ['metricId', { metricId: 'other' }],
    ['value', { value: 1, numericValue: 1 }],
    ['date', { date: '2026-03-02' }],
    ['time', { time: '07:31:00' }],
    ['time (none)', { time: null }],
    ['notes', { notes: 'x' }],
    ['notes (empty, not normalized)', { notes: '' }],
    ['tags', { tags: ['morning'] }],
    ['tags (another)', { tags: ['morning', 'walk'] }],
  ] as const)('tells a different %s apart', (_field, patch) => {
    expect(sameEntryContent(row, { metricId: 'm', ...stored, ...patch } as never)).toBe(false);
  });
});

async function newAccount(db: Db) {
  const [user] = await db
    .insert(users)
    .values({ email: `${randomUUID()}@example.test`, passwordHash: 'x' })
    .returning();
  const [metric] = await db
    .insert(metrics)
    .values({ userId: user!.id, name: 'Steps', type: 'number', category: 'fitness', config: {} })
    .returning();
  return { userId: user!.id, metricId: metric!.id };
}

function documentOf(metric: { id: string; name?: string; isActive?: boolean }, list: object[]) {
  const { id, name = 'Steps', isActive = true } = metric;
  return {
    format: 'lifexp',
    version: 1,
    metrics: [{ id, name, type: 'number', category: 'fitness', isActive }],
    entries: list,
  };
}

describeEachDriver('one rule for writing an entry', (ctx) => {
  it('create, createMany, update and import store the same form of every field', async () => {
    const { db } = ctx();
    const { userId, metricId } = await newAccount(db);
    const created = await createEntry(db, userId, { metricId, ...messy } as CreateEntryInput);
    const [many] = await createEntries(db, userId, { entries: [{ metricId, ...messy } as CreateEntryInput] });
    const plain = await createEntry(db, userId, {
      metricId,
      value: 5,
      date: '2026-02-01',
      notes: 'before',
      tags: ['x'],
    });
    const updated = await updateEntry(db, userId, { id: plain.id, baseVersion: 1, ...messy });
    const importedId = randomUUID();
    const report = await importDocument(
      db,
      userId,
      documentOf({ id: metricId }, [{ id: importedId, metricId, ...messy }]),
    );
    expect(report.entries.created).toBe(1);
    const imported = await getEntry(db, userId, importedId);

    for (const entry of [created, many!, updated, imported]) {
      expect(contentOf(entry)).toEqual(stored);
      // What was stored, read back from the database, not only what the write answered.
      expect(contentOf(await getEntry(db, userId, entry.id))).toEqual(stored);
    }
  });

  it('stores an absent note and an empty one alike on every path', async () => {
    const { db } = ctx();
    const { userId, metricId } = await newAccount(db);
    const withEmpty = await createEntry(db, userId, { metricId, value: 1, date: '2026-03-01', notes: '' });
    const without = await createEntry(db, userId, { metricId, value: 1, date: '2026-03-01' });
    const edited = await updateEntry(db, userId, { id: without.id, baseVersion: 1, notes: '' });
    const id = randomUUID();
    await importDocument(
      db,
      userId,
      documentOf({ id: metricId }, [{ id, metricId, value: 1, date: '2026-03-01', notes: '' }]),
    );
    const rows = await db.select({ notes: entries.notes }).from(entries).where(eq(entries.userId, userId));
    expect(rows).toEqual([{ notes: null }, { notes: null }, { notes: null }]);
    expect([withEmpty.notes, edited.notes, (await getEntry(db, userId, id)).notes]).toEqual([
      null,
      null,
      null,
    ]);
  });

  it('answers a create retried in any form of the same content with the original, writing once', async () => {
    const { db } = ctx();
    const { userId, metricId } = await newAccount(db);
    const id = randomUUID();
    const first = await createEntry(db, userId, { id, metricId, ...clean });
    const events = (await readChanges(db, userId, 0, 100)).length;
    const retries: Partial<CreateEntryInput>[] = [
      {},
      // What an offline queue replays from a form: an empty note field.
      { notes: '' },
      { time: '07:30' },
      { value: -0 },
      { tags: ['RUN', ' morning'] },
      { tags: ['run', 'morning', 'Run'] },
      messy as Partial<CreateEntryInput>,
    ];
    for (const retry of retries) {
      const input = { id, metricId, ...clean, ...retry } as CreateEntryInput;
      expect(await createEntry(db, userId, input)).toEqual(first);
      expect(await createEntries(db, userId, { entries: [input] })).toEqual([first]);
    }
    expect(await db.select().from(entries).where(eq(entries.userId, userId))).toHaveLength(1);
    expect(await readChanges(db, userId, 0, 100)).toHaveLength(events);
  });

  it('answers a retried create that first sent an empty note, as a queue replays it, with the original', async () => {
    const { db } = ctx();
    const { userId, metricId } = await newAccount(db);
    const input = { id: randomUUID(), metricId, ...messy } as CreateEntryInput;
    const first = await createEntry(db, userId, input);
    expect(await createEntry(db, userId, input)).toEqual(first);
    expect(first.notes).toBeNull();
  });

  it.each([
    ['value', { value: 1 }],
    ['date', { date: '2026-03-02' }],
    ['time', { time: '07:31' }],
    ['no time', { time: undefined }],
    ['notes', { notes: 'slept badly' }],
    ['tags', { tags: ['morning'] }],
  ] as const)('refuses a retried create with a different %s: CONFLICT', async (_field, patch) => {
    const { db } = ctx();
    const { userId, metricId } = await newAccount(db);
    const input = { id: randomUUID(), metricId, ...messy } as CreateEntryInput;
    await createEntry(db, userId, input);
    const error = await createEntry(db, userId, { ...input, ...patch } as CreateEntryInput).catch((e) => e);
    expect(error).toBeInstanceOf(DomainError);
    expect(error).toMatchObject({
      code: 'CONFLICT',
      message: 'a different entry with this id already exists',
    });
  });

  it('skips an import of the same content in another form, even when overwriting, and overwrites a real change', async () => {
    const { db } = ctx();
    const { userId, metricId } = await newAccount(db);
    const id = randomUUID();
    const first = await createEntry(db, userId, { id, metricId, ...clean });
    const same = documentOf({ id: metricId }, [{ id, metricId, ...messy, tags: ['run', 'Morning'] }]);
    const skipped = await importDocument(db, userId, same, { onConflict: 'overwrite' });
    expect(skipped.entries).toEqual({ created: 0, updated: 0, skipped: 1 });
    expect(await getEntry(db, userId, id)).toEqual(first);

    const changed = documentOf({ id: metricId }, [{ id, metricId, ...messy, notes: 'now with a note' }]);
    const overwritten = await importDocument(db, userId, changed, { onConflict: 'overwrite' });
    expect(overwritten.entries).toEqual({ created: 0, updated: 1, skipped: 0 });
    expect(await getEntry(db, userId, id)).toMatchObject({ ...stored, notes: 'now with a note', version: 2 });
  });

  it("imports an archived metric's history, edits it, and refuses new entries to it with CONFLICT", async () => {
    const { db } = ctx();
    const { userId } = await newAccount(db);
    const metricId = randomUUID();
    const id = randomUUID();
    const document = documentOf({ id: metricId, name: 'Old steps', isActive: false }, [
      { id, metricId, ...messy },
      { id: randomUUID(), metricId, value: 7, date: '2026-03-02' },
    ]);
    const report = await importDocument(db, userId, document);
    expect(report).toMatchObject({ metrics: { created: 1 }, entries: { created: 2 } });
    expect(contentOf(await getEntry(db, userId, id))).toEqual(stored);
    // A re-import of the same backup changes nothing.
    expect((await importDocument(db, userId, document)).entries).toEqual({
      created: 0,
      updated: 0,
      skipped: 2,
    });

    expect((await updateEntry(db, userId, { id, baseVersion: 1, value: 9 })).value).toBe(9);

    const refused = await createEntry(db, userId, { metricId, value: 1, date: '2026-03-03' }).catch((e) => e);
    expect(refused).toMatchObject({
      code: 'CONFLICT',
      message: 'the metric is archived and takes no new entries',
    });
    const batch = await createEntries(db, userId, {
      entries: [
        { metricId, value: 1, date: '2026-03-03' },
        { metricId, value: 2, date: '2026-03-03' },
      ],
    }).catch((e) => e);
    expect(batch).toMatchObject({
      code: 'BAD_REQUEST',
      details: {
        items: [
          { index: 0, reason: 'the metric is archived and takes no new entries' },
          { index: 1, reason: 'the metric is archived and takes no new entries' },
        ],
      },
    });
  });

  it('answers a lone refused create by its own code: NOT_FOUND, BAD_REQUEST', async () => {
    const { db } = ctx();
    const { userId, metricId } = await newAccount(db);
    const missing = await createEntry(db, userId, {
      metricId: randomUUID(),
      value: 1,
      date: '2026-03-01',
    }).catch((e) => e);
    expect(missing).toMatchObject({ code: 'NOT_FOUND', message: 'metric not found' });
    const invalid = await createEntry(db, userId, {
      metricId,
      value: 'x' as never,
      date: '2026-03-01',
    }).catch((e) => e);
    expect(invalid).toMatchObject({
      code: 'BAD_REQUEST',
      message: 'the value must be a finite number',
      details: { items: [{ index: 0, reason: 'the value must be a finite number' }] },
    });
    const late = await createEntry(db, userId, { metricId, value: 1, date: '2099-01-01' }).catch((e) => e);
    expect(late).toMatchObject({
      code: 'BAD_REQUEST',
      message: expect.stringMatching(/^the date must not be after/),
    });
  });
});
