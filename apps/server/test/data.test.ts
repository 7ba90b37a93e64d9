import { randomUUID } from 'node:crypto';
import { readChanges, schema } from '@lifexp/db';
import { parse } from 'csv-parse/sync';
import { eq, sql } from 'drizzle-orm';
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { describeServer, errorOf, send, signUp, type TestServer } from './support';

type Account = Awaited<ReturnType<typeof signUp>> & { url: string };

async function exportOf(account: Account, format: 'json' | 'csv' = 'json', query = '') {
  const response = await send(`${account.url}/api/analytics/export?format=${format}${query}`, {
    headers: { authorization: `Bearer ${account.token}` },
  });
  return { response, text: await response.text() };
}

async function upload(account: Account, body: string, options: { type?: string; query?: string } = {}) {
  const response = await send(`${account.url}/api/data/import${options.query ?? ''}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${account.token}`, 'content-type': options.type ?? 'application/json' },
    body,
  });
  return {
    status: response.status,
    // An error is the body of every /api error: {code, message, details?, requestId}.
    body: (await response.json()) as Record<string, unknown> & {
      code?: string;
      message?: string;
      requestId?: string;
      details?: { problems: { path: string; message: string }[] };
    },
  };
}

/** Metrics and entries with ids and timestamps left out: what must survive a round trip. */
async function contentOf(account: Account) {
  const metrics = await account.client.metrics.list.query({ includeArchived: true });
  const names = new Map(metrics.map((metric) => [metric.id, metric.name]));
  const entries = (await account.client.entries.list.query({ limit: 500 })).items;
  return {
    metrics: metrics
      .map(({ name, type, category, config, isActive }) => ({ name, type, category, config, isActive }))
      .sort((a, b) => a.name.localeCompare(b.name)),
    entries: entries
      .map(({ metricId, value, date, time, notes, tags }) => ({
        metric: names.get(metricId),
        value,
        date,
        time,
        notes,
        tags,
      }))
      .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
  };
}

async function account(ctx: TestServer) {
  return { ...(await signUp(ctx.url)), url: ctx.url };
}

async function seed(owner: Account) {
  const mood = await owner.client.metrics.create.mutate({ name: 'Mood', type: 'rating', category: 'mood' });
  const weight = await owner.client.metrics.create.mutate({
    name: 'Weight',
    type: 'number',
    category: 'health',
    config: { unit: 'kg' },
  });
  const journal = await owner.client.metrics.create.mutate({
    name: '=HYPERLINK("x")',
    type: 'text',
    category: 'custom',
  });
  const coffee = await owner.client.metrics.create.mutate({
    name: 'Coffee',
    type: 'binary',
    category: 'habits',
  });
  await owner.client.entries.createMany.mutate({
    entries: [
      { metricId: mood.id, value: 4, date: '2026-03-01', time: '08:15', tags: ['morning', 'run'] },
      {
        metricId: weight.id,
        value: -0.5,
        date: '2026-03-01',
        notes: 'odd, "negative" scale\nsecond line 🌙',
      },
      {
        metricId: journal.id,
        value: '+1 for =cmd|calc, said @me',
        date: '2026-03-02',
        notes: '-minus first',
      },
      { metricId: coffee.id, value: true, date: '2026-03-02', tags: ['cafe'] },
    ],
  });
  return { mood, weight, journal, coffee };
}

describeServer(
  'export and import',
  (ctx) => {
    it('streams the JSON export with Content-Disposition, and it imports into a fresh account unchanged', async () => {
      const owner = await account(ctx());
      await seed(owner);
      const { response, text } = await exportOf(owner);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
      expect(response.headers.get('content-disposition')).toMatch(
        /^attachment; filename="lifexp-export-\d{4}-\d{2}-\d{2}\.json"$/,
      );
      const document = JSON.parse(text);
      expect(document).toMatchObject({ format: 'lifexp', version: 1, user: { email: owner.email } });
      expect(text).not.toMatch(/password|argon2|secret/i);
      expect(document.user.id).toBeUndefined();
      expect(document.metrics).toHaveLength(4);
      expect(document.entries).toHaveLength(4);

      const other = await account(ctx());
      const imported = await upload(other, text);
      expect(imported.status).toBe(200);
      expect(imported.body).toEqual({
        dryRun: false,
        metrics: { created: 4, updated: 0, skipped: 0 },
        entries: { created: 4, updated: 0, skipped: 0 },
      });
      expect(await contentOf(other)).toEqual(await contentOf(owner));
      // Re-importing the same export changes nothing, in either account.
      const before = await readChanges(ctx().database.db, other.user.id, 0, 10_000);
      const again = await upload(other, text);
      expect(again.body).toEqual({
        dryRun: false,
        metrics: { created: 0, updated: 0, skipped: 4 },
        entries: { created: 0, updated: 0, skipped: 4 },
      });
      const mine = await other.client.data.import.mutate({ document });
      expect(mine.entries).toEqual({ created: 0, updated: 0, skipped: 4 });
      expect(await readChanges(ctx().database.db, other.user.id, 0, 10_000)).toEqual(before);
      const ownerAgain = await owner.client.data.import.mutate({ document });
      expect(ownerAgain.entries).toEqual({ created: 0, updated: 0, skipped: 4 });
    });

    it('round-trips random data through export and import (property-based)', async () => {
      const valueFor = {
        rating: fc.integer({ min: 1, max: 5 }),
        number: fc.double({ min: -1e6, max: 1e6, noNaN: true, noDefaultInfinity: true }),
        binary: fc.boolean(),
        text: fc.string({ maxLength: 40 }),
        duration: fc.integer({ min: 0, max: 86_400 }),
      };
      const entryArb = fc.record({
        type: fc.constantFrom('rating', 'number', 'binary', 'text', 'duration' as const),
        day: fc.integer({ min: 0, max: 60 }),
        time: fc.option(fc.constantFrom('00:00', '07:30', '23:59:59'), { nil: undefined }),
        notes: fc.option(fc.string({ maxLength: 60 }), { nil: undefined }),
        // Tags with the CSV tag separator, the escape character and a formula-like start included.
        tags: fc.uniqueArray(fc.stringMatching(/^[a-z;\\=][a-z0-9;\\ -]{0,10}$/), { maxLength: 3 }),
      });
      await fc.assert(
        fc.asyncProperty(
          fc.array(entryArb, { minLength: 1, maxLength: 25 }),
          fc.integer(),
          async (specs, seed) => {
            const owner = await account(ctx());
            const metrics = new Map<string, string>();
            for (const type of new Set(specs.map((spec) => spec.type))) {
              const created = await owner.client.metrics.create.mutate({
                name: `M-${type}`,
                type,
                category: 'custom',
              } as never);
              metrics.set(type, created.id);
            }
            const values = fc.sample(
              fc.tuple(...specs.map((spec) => valueFor[spec.type] as fc.Arbitrary<unknown>)),
              { numRuns: 1, seed },
            )[0]!;
            await owner.client.entries.createMany.mutate({
              entries: specs.map((spec, index) => ({
                metricId: metrics.get(spec.type)!,
                value: values[index] as never,
                date: new Date(Date.UTC(2026, 0, 1 + spec.day)).toISOString().slice(0, 10),
                ...(spec.time ? { time: spec.time } : {}),
                ...(spec.notes !== undefined ? { notes: spec.notes } : {}),
                tags: spec.tags,
              })),
            });
            const target = await account(ctx());
            const viaJson = await upload(target, (await exportOf(owner)).text);
            expect(viaJson.status).toBe(200);
            expect(await contentOf(target)).toEqual(await contentOf(owner));
            const viaCsv = await account(ctx());
            const csv = await upload(viaCsv, (await exportOf(owner, 'csv')).text, { type: 'text/csv' });
            expect(csv.status, JSON.stringify(csv.body)).toBe(200);
            const fromCsv = await contentOf(viaCsv);
            const original = await contentOf(owner);
            expect(fromCsv.entries).toEqual(original.entries);
          },
        ),
        { numRuns: 8 },
      );
    }, 180_000);

    it('writes CSV that a standard parser reads back into the same values, safe from formula injection', async () => {
      const owner = await account(ctx());
      await seed(owner);
      const { response, text } = await exportOf(owner, 'csv');
      expect(response.headers.get('content-type')).toBe('text/csv; charset=utf-8');
      expect(response.headers.get('content-disposition')).toMatch(/filename="lifexp-export-.*\.csv"/);
      const rows = parse(text, { columns: true }) as Record<string, string>[];
      expect(Object.keys(rows[0]!)).toEqual([
        'date',
        'time',
        'metric',
        'category',
        'type',
        'value',
        'unit',
        'notes',
        'tags',
      ]);
      expect(rows).toHaveLength(4);
      const weight = rows.find((row) => row.metric === 'Weight')!;
      expect(weight).toMatchObject({
        value: '-0.5',
        unit: 'kg',
        notes: 'odd, "negative" scale\nsecond line 🌙',
      });
      const journal = rows.find((row) => row.type === 'text')!;
      // Text cells that a spreadsheet would run as formulas start with a quote.
      expect(journal).toMatchObject({
        metric: `'=HYPERLINK("x")`,
        value: "'+1 for =cmd|calc, said @me",
        notes: "'-minus first",
      });
      expect(rows.find((row) => row.metric === 'Mood')).toMatchObject({
        value: '4',
        time: '08:15:00',
        tags: 'morning;run',
      });
      expect(rows.find((row) => row.metric === 'Coffee')).toMatchObject({ value: 'true', tags: 'cafe' });

      const other = await account(ctx());
      const imported = await upload(other, text, { type: 'text/csv' });
      expect(imported.body).toMatchObject({ metrics: { created: 4 }, entries: { created: 4 } });
      expect((await contentOf(other)).entries).toEqual((await contentOf(owner)).entries);
      expect((await upload(other, text, { type: 'text/csv' })).body).toMatchObject({
        entries: { created: 0, skipped: 4 },
      });
    });

    it.each([
      ['wrong version', (d: Record<string, unknown>) => ({ ...d, version: 2 }), 'version'],
      ['wrong format', (d: Record<string, unknown>) => ({ ...d, format: 'other' }), 'format'],
      [
        'wrong types',
        (d: Record<string, unknown>) => ({
          ...d,
          entries: [{ ...(d.entries as object[])[0], date: 20260301 }],
        }),
        'entries[0].date',
      ],
      [
        'an unknown metric',
        (d: Record<string, unknown>) => ({
          ...d,
          entries: [{ ...(d.entries as object[])[0], metricId: randomUUID() }],
        }),
        'entries[0].metricId',
      ],
      [
        'duplicate ids',
        (d: Record<string, unknown>) => ({
          ...d,
          entries: [(d.entries as object[])[0], (d.entries as object[])[0]],
        }),
        'entries[1].id',
      ],
      [
        'a value invalid for its metric',
        (d: Record<string, unknown>) => ({
          ...d,
          entries: (d.entries as { value: unknown; metricId: string }[]).map((e) => ({
            ...e,
            value: e.value === 4 ? 9 : e.value,
          })),
        }),
        '.value',
      ],
      [
        'an impossible date',
        (d: Record<string, unknown>) => ({
          ...d,
          entries: [{ ...(d.entries as object[])[0], date: '2026-02-30' }],
        }),
        'entries[0].date',
      ],
      [
        'a bad metric config',
        (d: Record<string, unknown>) => ({
          ...d,
          metrics: (d.metrics as { config: object }[]).map((m) => ({
            ...m,
            config: { ...m.config, min: 9, max: 2 },
          })),
        }),
        'config',
      ],
    ])('rejects a document with %s, naming the path, writing nothing', async (_label, mutateDoc, path) => {
      const owner = await account(ctx());
      await seed(owner);
      const document = JSON.parse((await exportOf(owner)).text);
      const target = await account(ctx());
      const result = await upload(target, JSON.stringify(mutateDoc(document)));
      expect(result.status).toBe(400);
      expect(result.body.code).toBe('BAD_REQUEST');
      expect(result.body.details?.problems.some((problem) => problem.path.includes(path))).toBe(true);
      const viaTrpc = await errorOf(target.client.data.import.mutate({ document: mutateDoc(document) }));
      expect(viaTrpc.code).toBe('BAD_REQUEST');
      expect(await target.client.metrics.list.query({ includeArchived: true })).toEqual([]);
    });

    it('rejects truncated JSON and a malformed CSV, writing nothing', async () => {
      const owner = await account(ctx());
      await seed(owner);
      const text = (await exportOf(owner)).text;
      const target = await account(ctx());
      const truncated = await upload(target, text.slice(0, text.length / 2));
      expect(truncated.status).toBe(400);
      expect(truncated.body.message).toMatch(/not valid JSON/);
      const csv = await upload(target, 'date,time,metric\n2026-01-01,,x\n', { type: 'text/csv' });
      expect(csv.status).toBe(400);
      expect(csv.body.message).toMatch(/lacks the column/);
      const badRow = await upload(
        target,
        'date,time,metric,category,type,value,unit,notes,tags\n2026-01-01,,Mood,mood,rating,high,,,\n',
        { type: 'text/csv' },
      );
      expect(badRow.body.details?.problems).toEqual([{ path: 'rows[2].value', message: 'must be a number' }]);
      expect(await target.client.metrics.list.query({ includeArchived: true })).toEqual([]);
    });

    it('reports a dry run without writing, and overwrites only on request', async () => {
      const owner = await account(ctx());
      const { mood } = await seed(owner);
      const document = JSON.parse((await exportOf(owner)).text);
      const target = await account(ctx());
      const dry = await target.client.data.import.mutate({ document, dryRun: true });
      expect(dry).toEqual({
        dryRun: true,
        metrics: { created: 4, updated: 0, skipped: 0 },
        entries: { created: 4, updated: 0, skipped: 0 },
      });
      expect(await target.client.metrics.list.query({ includeArchived: true })).toEqual([]);

      const entry = document.entries.find((e: { metricId: string }) => e.metricId === mood.id);
      await owner.client.entries.update.mutate({ id: entry.id, baseVersion: 1, value: 2 });
      const skip = await owner.client.data.import.mutate({ document });
      expect(skip.entries).toEqual({ created: 0, updated: 0, skipped: 4 });
      expect((await owner.client.entries.get.query({ id: entry.id })).value).toBe(2);
      const overwrite = await owner.client.data.import.mutate({ document, onConflict: 'overwrite' });
      expect(overwrite.entries).toEqual({ created: 0, updated: 1, skipped: 3 });
      expect(await owner.client.entries.get.query({ id: entry.id })).toMatchObject({ value: 4, version: 3 });
    });

    it("cannot touch another user's data with a document carrying their ids", async () => {
      const victim = await account(ctx());
      await seed(victim);
      const document = JSON.parse((await exportOf(victim)).text);
      const before = await contentOf(victim);
      const attacker = await account(ctx());
      for (const entry of document.entries) if (typeof entry.value === 'number') entry.value = 1;
      const result = await attacker.client.data.import.mutate({ document, onConflict: 'overwrite' });
      expect(result.entries.created).toBe(4);
      expect(await contentOf(victim)).toEqual(before);
      const attackerIds = (await attacker.client.entries.list.query({})).items.map((e) => e.id);
      expect(attackerIds.some((id) => document.entries.some((e: { id: string }) => e.id === id))).toBe(false);
      expect((await attacker.client.data.import.mutate({ document })).entries).toEqual({
        created: 0,
        updated: 0,
        skipped: 4,
      });
    });

    it('answers PAYLOAD_TOO_LARGE above the upload limit, and requires a session', async () => {
      const owner = await account(ctx());
      const big = await upload(
        owner,
        JSON.stringify({ format: 'lifexp', version: 1, metrics: [], entries: [], pad: 'x'.repeat(70_000) }),
      );
      expect(big.status).toBe(413);
      expect(big.body).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', requestId: expect.any(String) });
      const anonymous = await send(`${ctx().url}/api/analytics/export`);
      expect(anonymous.status).toBe(401);
      const anonymousImport = await send(`${ctx().url}/api/data/import`, { method: 'POST', body: '{}' });
      expect(anonymousImport.status).toBe(401);
      const badFormat = await exportOf(owner, 'xml' as never);
      expect(badFormat.response.status).toBe(400);
    });

    it('reads an upload as it streams: refuses an endless body past the limit, imports a chunked one', async () => {
      const owner = await account(ctx());
      const metricId = randomUUID();
      const head = `{"format":"lifexp","version":1,"metrics":[{"id":"${metricId}","name":"Steps","type":"number","category":"fitness","config":{}}],"entries":[`;
      const entry = (i: number) =>
        `${i ? ',' : ''}{"id":"${randomUUID()}","metricId":"${metricId}","value":${i},"date":"2026-01-01"}`;
      const streamed = (entries: number | 'endless') => {
        let i = 0;
        let pulled = 0;
        const body = new ReadableStream<Uint8Array>({
          pull(controller) {
            if (entries !== 'endless' && i > entries) return controller.close();
            let chunk = i === 0 ? head : '';
            for (let n = 0; n < 50 && (entries === 'endless' || i < entries); n++) chunk += entry(i++);
            if (entries !== 'endless' && i >= entries) {
              chunk += ']}';
              i = entries + 1;
            }
            pulled += chunk.length;
            controller.enqueue(new TextEncoder().encode(chunk));
          },
        });
        return { body, pulled: () => pulled };
      };
      const post = (body: ReadableStream<Uint8Array>) =>
        send(`${owner.url}/api/data/import`, {
          method: 'POST',
          headers: { authorization: `Bearer ${owner.token}`, 'content-type': 'application/json' },
          body,
          duplex: 'half',
        } as RequestInit);
      // No Content-Length and no end: only a server that reads and counts as it goes can answer.
      const endless = streamed('endless');
      const refused = await post(endless.body);
      expect(refused.status).toBe(413);
      expect(await refused.json()).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
      await endless.body.cancel().catch(() => {});
      expect(await owner.client.metrics.list.query({ includeArchived: true })).toEqual([]);
      // Under the limit, a chunked body imports whole.
      const small = streamed(300);
      const accepted = await post(small.body);
      expect(accepted.status).toBe(200);
      expect(await accepted.json()).toMatchObject({ entries: { created: 300 } });
      expect(small.pulled()).toBeLessThan(65_536);
    });

    it('tells other devices through sync events, one per object, or one import event for a big import', async () => {
      const owner = await account(ctx());
      const target = await account(ctx());
      const metric = await owner.client.metrics.create.mutate({
        name: 'Steps',
        type: 'number',
        category: 'fitness',
      });
      const entries = Array.from({ length: 1_100 }, (_, i) => ({
        metricId: metric.id,
        value: i,
        date: '2026-03-01',
      }));
      await owner.client.entries.createMany.mutate({ entries: entries.slice(0, 1000) });
      await owner.client.entries.createMany.mutate({ entries: entries.slice(1000) });
      const { db } = ctx().database;
      const small = await target.client.data.import.mutate({
        document: {
          format: 'lifexp',
          version: 1,
          metrics: [{ id: randomUUID(), name: 'Tiny', type: 'rating', category: 'mood', config: {} }],
          entries: [],
        },
      });
      expect(small.metrics.created).toBe(1);
      const events = await readChanges(db, target.user.id, 0, 10);
      expect(events.map((e) => [e.entity, e.op])).toEqual([['metric', 'upsert']]);
      const big = await target.client.data.import.mutate({
        document: JSON.parse((await exportOf(owner)).text),
      });
      expect(big).toMatchObject({ entries: { created: 1_100 } });
      const after = await readChanges(db, target.user.id, events.at(-1)!.seq, 10_000);
      expect(after).toHaveLength(1);
      expect(after[0]).toMatchObject({
        entity: 'import',
        op: 'upsert',
        data: { resync: true, entries: { created: 1_100 } },
      });
      const [{ n }] = (await db
        .select({ n: sql<number>`count(*)::int` })
        .from(schema.entries)
        .where(eq(schema.entries.userId, target.user.id))) as [{ n: number }];
      expect(n).toBe(1_100);
    });

    it('exports over tRPC too, with the same filters', async () => {
      const owner = await account(ctx());
      const { mood, weight } = await seed(owner);
      const json = await owner.client.data.export.query({ format: 'json', metricIds: [mood.id] });
      expect((json.content as { entries: unknown[] }).entries).toHaveLength(1);
      const csv = await owner.client.data.export.query({
        format: 'csv',
        from: '2026-03-01',
        to: '2026-03-01',
        metricIds: [mood.id, weight.id],
      });
      expect(parse(csv.content as string, { columns: true })).toHaveLength(2);
      const bad = await errorOf(
        owner.client.data.export.query({ format: 'json', from: '2026-03-05', to: '2026-03-01' }),
      );
      expect(bad.code).toBe('BAD_REQUEST');
    });
  },
  { IMPORT_MAX_BYTES: '65536', MAX_BODY_BYTES: '4194304' },
);
