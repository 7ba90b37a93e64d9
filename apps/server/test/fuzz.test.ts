import { createSession, rowsOf } from '@lifexp/db';
import { testDrivers } from '@lifexp/db/testing';
import { sql } from 'drizzle-orm';
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { arbitraryFromSchema, callProcedure, hostile, listProcedures } from './router';
import { describeServer, send, signUp, type TestServer } from './support';

/**
 * Property-based calls to every procedure of the router over real HTTP: inputs generated from each
 * procedure's own zod input schema (through its JSON schema), half of them with a hostile value put in
 * somewhere. No answer may be a 5xx, the server must stay up, and a rejected call must write nothing.
 * A failing call is shrunk by fast-check and printed with its seed.
 */

/**
 * Calls per run, 10,000 in all: PostgreSQL (faster under concurrency) carries most when it is tested,
 * the embedded database a smaller share; without PostgreSQL the embedded database carries them all.
 */
const VOLUME = 10_000;
const CALLS = testDrivers.includes('postgres')
  ? ({ pglite: 2_000, postgres: VOLUME - 2_000 } as const)
  : ({ pglite: VOLUME, postgres: 0 } as const);
/** Concurrent callers, each its own account, so that each can check its own rows between its calls. */
const WORKERS = 12;

interface Caller {
  userId: string;
  email: string;
  token: string;
  ids: string[];
}

/** What a rejected call must leave as it was: the caller's rows, versions, seq and account. */
async function stateOf(ctx: TestServer, userId: string): Promise<string> {
  const result = await ctx.database.database.db.execute(sql`
    select
      (select count(*) from metrics where user_id = ${userId})::text as metrics,
      (select coalesce(sum(version), 0) from metrics where user_id = ${userId})::text as "metricVersions",
      (select count(*) from entries where user_id = ${userId})::text as entries,
      (select coalesce(sum(version), 0) from entries where user_id = ${userId})::text as "entryVersions",
      (select coalesce(max(seq), 0) from sync_state where user_id = ${userId})::text as seq,
      (select md5(preferences::text || timezone || password_hash) from users where id = ${userId}) as account`);
  return JSON.stringify(rowsOf(result)[0]);
}

describeServer(
  'fuzz: every procedure over real HTTP',
  (ctx) => {
    it('answers generated and hostile calls without a 5xx, stays up, and a rejected call writes nothing', async () => {
      const { url } = ctx();
      const procedures = listProcedures();
      const total = Number(process.env.FUZZ_CALLS ?? CALLS[ctx().database.driver]);
      const callers: Caller[] = [];
      for (let i = 0; i < WORKERS; i++) {
        const account = await signUp(url);
        const metric = await account.client.metrics.create.mutate({
          name: 'Mood',
          type: 'rating',
          category: 'mood',
        });
        const entry = await account.client.entries.create.mutate({
          metricId: metric.id,
          value: 3,
          date: '2026-01-01',
        });
        callers.push({
          userId: account.user.id,
          email: account.email,
          token: account.token,
          ids: [metric.id, entry.id],
        });
      }
      const counts = new Map<string, number>(procedures.map((procedure) => [procedure.path, 0]));
      const statuses = new Map<number, number>();

      const run = async (caller: Caller, seed: number) => {
        const ids = () => caller.ids;
        const arbitrary = fc.oneof(
          ...procedures.map((procedure) => {
            const valid = arbitraryFromSchema(procedure.json, { ids });
            return {
              // Account procedures hash passwords or end the session: a smaller share, though one
              // that still reaches each of them (at 1 in 10, a run of 2,000 calls missed one now and then).
              weight: procedure.path.startsWith('users.') ? 3 : 10,
              arbitrary: fc.record({
                procedure: fc.constant(procedure),
                input: fc.oneof({ weight: 1, arbitrary: valid }, { weight: 1, arbitrary: hostile(valid) }),
              }),
            };
          }),
        );
        await fc.assert(
          fc.asyncProperty(arbitrary, async ({ procedure, input }) => {
            const before = await stateOf(ctx(), caller.userId);
            const answer = await callProcedure(url, procedure, input, caller.token);
            counts.set(procedure.path, (counts.get(procedure.path) ?? 0) + 1);
            statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
            if (answer.status >= 500) {
              throw new Error(`${procedure.path} answered ${answer.status}: ${answer.body.slice(0, 500)}`);
            }
            if (answer.status >= 400) {
              const after = await stateOf(ctx(), caller.userId);
              if (after !== before) {
                throw new Error(
                  `${procedure.path} was refused (${answer.status}) but wrote: ${before} → ${after}`,
                );
              }
            }
            if (answer.status === 401) {
              // The call ended the caller's session (logout, logoutAll…): a new session, made as sign-in
              // makes it (a login over HTTP would meet the per-address throttle the fuzzed logins trip).
              caller.token = (await createSession(ctx().database.database.db, caller.userId)).token;
            }
            if (procedure.path.endsWith('.create') && answer.status === 200) {
              const created = (JSON.parse(answer.body) as { result?: { data?: { id?: string } } }).result
                ?.data?.id;
              if (created && caller.ids.length < 50) caller.ids.push(created);
            }
          }),
          { numRuns: Math.ceil(total / WORKERS), seed, verbose: 1 },
        );
      };
      const base = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
      await Promise.all(callers.map((caller, index) => run(caller, base + index)));

      // Still up, and still answering.
      expect((await send(`${url}/healthz`)).status).toBe(200);
      const made = [...counts.values()].reduce((sum, n) => sum + n, 0);
      console.log(
        `fuzz [${ctx().database.driver}] seed ${base}: ${made} calls over ${procedures.length} procedures;`,
        Object.fromEntries(counts),
        'statuses',
        Object.fromEntries(statuses),
      );
      expect(made).toBeGreaterThanOrEqual(total);
      for (const [path, n] of counts) expect({ path, covered: n > 0 }).toEqual({ path, covered: true });
    }, 900_000);
  },
  { INSIGHTS_DEBOUNCE_SECONDS: '3600' },
);
