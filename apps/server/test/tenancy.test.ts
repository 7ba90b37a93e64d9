import { claimDelivery, insertNotice, rowsOf } from '@lifexp/db';
import { sql } from 'drizzle-orm';
import fc from 'fast-check';
import { expect, it } from 'vitest';
import {
  arbitraryFromSchema,
  callProcedure,
  idPaths,
  listProcedures,
  type ProcedureInfo,
  toJsonText,
} from './router';
import { describeServer, signUp, type TestServer } from './support';

/**
 * The cross-tenant matrix, generated from the router: every procedure whose input takes an id
 * anywhere (a metric, an entry, anything added later), or a whole document, is called by one user
 * with another user's ids in each id position. The answer must be NOT_FOUND, CONFLICT (an id in use),
 * a refusal or an empty answer, must carry nothing of the other user's, and the other user's data
 * must not change. A new procedure is covered by being in the router.
 */

const SECRET = 'victim-secret-5d1e';
const SAMPLES = 6;

async function everythingOf(ctx: TestServer, userId: string): Promise<string> {
  const result = await ctx.database.database.db.execute(sql`
    select json_build_object(
      'metrics', (select coalesce(json_agg(m order by m.id), '[]') from metrics m where m.user_id = ${userId}),
      'entries', (select coalesce(json_agg(e order by e.id), '[]') from entries e where e.user_id = ${userId}),
      'seq', (select seq from sync_state where user_id = ${userId}),
      'webhooks', (select coalesce(json_agg(w order by w.id), '[]') from webhooks w where w.user_id = ${userId}),
      'notifications', (select coalesce(json_agg(n order by n.id), '[]') from notifications n where n.user_id = ${userId}),
      'push', (select coalesce(json_agg(p order by p.id), '[]') from push_subscriptions p where p.user_id = ${userId}),
      'user', (select json_build_object('p', preferences, 't', timezone, 'h', password_hash) from users where id = ${userId})
    )::text as everything`);
  return rowsOf<{ everything: string }>(result)[0]!.everything;
}

/** Sets every id position in `input` (by path, '*' = each item) to `id`; returns whether any was set. */
function plant(input: unknown, path: string[], id: string): boolean {
  if (path.length === 0) return false;
  const [head, ...rest] = path as [string, ...string[]];
  if (head === '*') {
    if (!Array.isArray(input)) return false;
    let set = false;
    input.forEach((item, index) => {
      if (rest.length === 0) {
        input[index] = id;
        set = true;
      } else set = plant(item, rest, id) || set;
    });
    return set;
  }
  if (input === null || typeof input !== 'object') return false;
  const record = input as Record<string, unknown>;
  if (rest.length === 0) {
    record[head] = id;
    return true;
  }
  if (record[head] === undefined) record[head] = rest[0] === '*' ? [{}] : {};
  return plant(record[head], rest, id);
}

/**
 * Valid inputs the generator seldom produces whole (an id deep inside refined settings): the victim's
 * ids are planted in them like in the generated samples.
 */
const knownBases: Record<string, (ownId: string) => unknown[]> = {
  'users.updatePreferences': (ownId) => [
    { preferences: { notifications: { reminders: [{ time: '08:00', metricIds: [ownId] }] } } },
  ],
};

describeServer(
  'cross-tenant matrix over the whole router',
  (ctx) => {
    it("no procedure that takes an id reads, changes or reveals another user's objects", async () => {
      const { url } = ctx();
      const victim = await signUp(url);
      const metric = await victim.client.metrics.create.mutate({
        name: `${SECRET} metric`,
        type: 'text',
        category: 'custom',
      });
      const entry = await victim.client.entries.create.mutate({
        metricId: metric.id,
        value: `${SECRET} value`,
        date: '2026-01-02',
        notes: `${SECRET} note`,
        tags: ['victim-tag'],
      });
      const gone = await victim.client.metrics.create.mutate({
        name: 'Deleted',
        type: 'binary',
        category: 'habits',
      });
      await victim.client.metrics.delete.mutate({ id: gone.id, baseVersion: 1 });
      const hook = await victim.client.webhooks.create.mutate({
        url: 'https://hooks.example.invalid/victim',
        description: `${SECRET} hook`,
      });
      const notice = await insertNotice(ctx().database.db, {
        userId: victim.user.id,
        kind: 'reminder',
        key: 'reminder:08:00',
        localDate: '2026-01-02',
        title: `${SECRET} title`,
        body: `${SECRET} body`,
        link: '/log',
        data: {},
        inApp: true,
        deliverAfter: new Date(),
      });
      await claimDelivery(ctx().database.db, victim.user.id, notice!.id);
      const victimIds = [metric.id, entry.id, gone.id, hook.id, notice!.id];
      const victimMarks = [
        SECRET,
        'victim-tag',
        metric.createdAt,
        entry.createdAt,
        gone.createdAt,
        hook.secret,
      ];

      const attacker = await signUp(url);
      const own = await attacker.client.metrics.create.mutate({
        name: 'Own',
        type: 'text',
        category: 'custom',
      });
      const ownEntry = await attacker.client.entries.create.mutate({
        metricId: own.id,
        value: 'mine',
        date: '2026-01-02',
      });

      const before = await everythingOf(ctx(), victim.user.id);
      const procedures = listProcedures().filter((procedure) => procedure.type !== 'subscription');
      const withIds = procedures.filter((procedure) => idPaths(procedure.json).length > 0);
      // A document (an import) carries ids too: the victim's go inside it.
      const withDocuments = procedures.filter((procedure) =>
        Object.values(procedure.json?.properties ?? {}).some(
          (child) => child.type === undefined && !child.anyOf,
        ),
      );
      expect(withIds.map((p) => p.path)).toEqual(
        expect.arrayContaining([
          'metrics.get',
          'metrics.update',
          'metrics.delete',
          'entries.get',
          'entries.update',
        ]),
      );

      let calls = 0;
      const covered = new Map<string, number>();
      const check = async (procedure: ProcedureInfo, input: unknown) => {
        const answer = await callProcedure(url, procedure, input, attacker.token);
        calls++;
        const where = `${procedure.path} ${toJsonText(input).slice(0, 300)} → ${answer.status} ${answer.body.slice(0, 300)}`;
        expect([200, 400, 404, 409], where).toContain(answer.status);
        // A refusal counts when it is about the id (a batch lists its items' reasons in a BAD_REQUEST).
        if (answer.status !== 400 || /not found|already in use/.test(answer.body))
          covered.set(procedure.path, (covered.get(procedure.path) ?? 0) + 1);
        expect(answer.body.includes(SECRET), where).toBe(false);
        // An id the caller sent may come back (an object of its own, created under that id); the victim's
        // content and timestamps may not.
        for (const mark of victimMarks) expect(answer.body.includes(mark), where).toBe(false);
      };

      for (const procedure of withIds) {
        const paths = idPaths(procedure.json);
        const bases = [
          ...fc.sample(arbitraryFromSchema(procedure.json, { ids: () => [own.id, ownEntry.id] }), {
            numRuns: SAMPLES,
            seed: 42,
          }),
          ...(knownBases[procedure.path]?.(own.id) ?? []),
        ];
        for (const base of bases) {
          for (const victimId of victimIds) {
            // Every id position at once, and each position alone (the rest the attacker's own).
            for (const chosen of [paths, ...paths.map((path) => [path])]) {
              const input = JSON.parse(JSON.stringify(base ?? {}));
              if (chosen.map((path) => plant(input, path, victimId)).some(Boolean))
                await check(procedure, input);
            }
          }
        }
      }
      for (const procedure of withDocuments) {
        const key = Object.entries(procedure.json?.properties ?? {}).find(
          ([, child]) => child.type === undefined && !child.anyOf,
        )![0];
        const victimExport = (await victim.client.data.export.query({ format: 'json' })).content as {
          metrics: unknown[];
          entries: unknown[];
        };
        for (const onConflict of ['skip', 'overwrite']) {
          const document = {
            format: 'lifexp',
            version: 1,
            metrics: victimExport.metrics,
            entries: (victimExport.entries as Record<string, unknown>[]).map((e) => ({
              ...e,
              notes: 'overwritten',
            })),
          };
          const input = {
            [key]: document,
            ...(procedure.json?.properties?.onConflict ? { onConflict } : {}),
          };
          const answer = await callProcedure(url, procedure, input, attacker.token);
          calls++;
          expect(answer.status, answer.body.slice(0, 300)).toBeLessThan(500);
          expect(answer.body.includes(SECRET)).toBe(false);
          covered.set(procedure.path, (covered.get(procedure.path) ?? 0) + 1);
        }
      }

      // The victim's rows, versions, seq and account are exactly as they were.
      expect(await everythingOf(ctx(), victim.user.id)).toBe(before);
      expect(await victim.client.entries.get.query({ id: entry.id })).toEqual(entry);
      const tested = [...withIds, ...withDocuments].map((procedure) => procedure.path);
      for (const path of tested)
        expect({ path, answered: (covered.get(path) ?? 0) > 0 }).toEqual({ path, answered: true });
      console.log(
        `tenant matrix [${ctx().database.driver}]: ${calls} calls over ${tested.length} procedures:`,
        tested.join(', '),
      );
    }, 600_000);
  },
  {
    INSIGHTS_DEBOUNCE_SECONDS: '3600',
    WEBHOOKS_ALLOW_PRIVATE: 'true',
    NOTIFICATIONS_TICK_SECONDS: '3600',
    // One account calls every procedure in turn, hundreds a second: its call rate is lifted here
    // (account-rate.test.ts covers the limit).
    API_ACCOUNT_CALLS_BURST: '1000000',
  },
);
