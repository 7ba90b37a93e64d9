import { randomUUID } from 'node:crypto';
import { eq, sql } from 'drizzle-orm';
import { expect, it } from 'vitest';
import { registerUser } from '../src/accounts';
import { latestSeq } from '../src/changes';
import { csvCell, derivedId, importDocument, joinTags, splitTags } from '../src/data';
import { changeLog, entries, metrics } from '../src/schema';
import { describeEachDriver } from '../src/testing';

function documentWith(count: number) {
  const metricId = randomUUID();
  return {
    format: 'lifexp',
    version: 1,
    metrics: [{ id: metricId, name: 'Steps', type: 'number', category: 'fitness', config: {} }],
    entries: Array.from({ length: count }, (_, i) => ({
      id: randomUUID(),
      metricId,
      value: i,
      date: '2026-01-01',
    })),
  };
}

describeEachDriver('importDocument', (ctx) => {
  it('leaves nothing behind when interrupted halfway', async () => {
    const { db } = ctx();
    const user = await registerUser(db, {
      email: `${randomUUID()}@example.test`,
      password: 'long enough pw',
    });
    const document = documentWith(2_500);
    let calls = 0;
    await expect(
      importDocument(db, user.id, document, {
        onProgress: () => {
          calls += 1;
          // The first 1,000 entries are written; the fault strikes before the rest.
          if (calls === 2) throw new Error('disk full (injected)');
        },
      }),
    ).rejects.toThrow('disk full (injected)');
    expect(calls).toBe(2);
    const count = async (table: typeof entries | typeof metrics | typeof changeLog) =>
      (await db.select({ n: sql<number>`count(*)::int` }).from(table).where(eq(table.userId, user.id)))[0]!.n;
    expect(await count(entries)).toBe(0);
    expect(await count(metrics)).toBe(0);
    expect(await count(changeLog)).toBe(0);
    expect(await latestSeq(db, user.id)).toBe(0);

    const report = await importDocument(db, user.id, document);
    expect(report.entries.created).toBe(2_500);
    expect(await count(entries)).toBe(2_500);
  });

  it('a dry run reports the same counts as the import and writes nothing', async () => {
    const { db } = ctx();
    const user = await registerUser(db, {
      email: `${randomUUID()}@example.test`,
      password: 'long enough pw',
    });
    const document = documentWith(30);
    const dry = await importDocument(db, user.id, document, { dryRun: true });
    expect(await latestSeq(db, user.id)).toBe(0);
    const real = await importDocument(db, user.id, document);
    expect({ ...dry, dryRun: false }).toEqual(real);
  });
});

it('derives stable, per-account, well-formed ids', () => {
  const a = randomUUID();
  const b = randomUUID();
  const original = randomUUID();
  expect(derivedId(a, original)).toBe(derivedId(a, original));
  expect(derivedId(a, original)).not.toBe(derivedId(b, original));
  expect(derivedId(a, original)).toMatch(
    /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
  );
});

it.each([
  ['=SUM(A1)', true, "'=SUM(A1)"],
  ['+1', true, "'+1"],
  ['-1', false, '-1'],
  ['@me', true, "'@me"],
  ['a,b', true, '"a,b"'],
  ['say "hi"', true, '"say ""hi"""'],
  ['two\nlines', true, '"two\nlines"'],
  ["'quoted", true, "''quoted"],
  [null, true, ''],
  ['x;=1+1;', true, '"x;=1+1;"'],
  ['a;b', true, '"a;b"'],
  [' =1+1', true, "' =1+1"],
  ['  @SUM(A1)', true, "'  @SUM(A1)"],
  ['\n=1+1', true, `"'\n=1+1"`],
  ['\r\n+1', true, `"'\r\n+1"`],
  ['\t=1', true, "'\t=1"],
])('csvCell(%j, text=%s) is %j', (value, text, expected) => {
  expect(csvCell(value, text)).toBe(expected);
});

it.each([
  [['morning', 'run'], 'morning;run'],
  [['a;b'], 'a\\;b'],
  [['back\\slash', 'x'], 'back\\\\slash;x'],
  [['ends\\'], 'ends\\\\'],
  [[], ''],
])('joinTags(%j) is %j and splitTags reads it back', (tags, cell) => {
  expect(joinTags(tags)).toBe(cell);
  expect(splitTags(cell).filter((tag) => tag !== '')).toEqual(tags);
});

it('splitTags inverts joinTags for every tag list over ; \\ and a (up to 3 tags of up to 3 characters)', () => {
  const words = [''];
  for (let length = 1; length <= 3; length++) {
    for (const word of words.filter((w) => w.length === length - 1)) {
      for (const c of ['a', ';', '\\']) words.push(word + c);
    }
  }
  const nonEmpty = words.filter((w) => w !== '');
  let lists = 0;
  for (const a of nonEmpty) {
    expect(splitTags(joinTags([a]))).toEqual([a]);
    for (const b of nonEmpty) {
      expect(splitTags(joinTags([a, b]))).toEqual([a, b]);
      for (const c of nonEmpty) {
        expect(splitTags(joinTags([a, b, c]))).toEqual([a, b, c]);
        lists++;
      }
    }
  }
  expect(lists).toBe(39 ** 3);
});

it('splitTags keeps a backslash that escapes nothing, as a hand-made cell means it', () => {
  expect(splitTags('c:\\temp;x')).toEqual(['c:\\temp', 'x']);
});
