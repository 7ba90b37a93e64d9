import { randomUUID } from 'node:crypto';
import type { ListEntriesInput } from '@lifexp/contracts';
import { fillPlaceholders, sql } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import { expect, it } from 'vitest';
import { rowsOf } from '../src/client';
import { listEntriesQuery, listEntriesSql } from '../src/entries';
import { describeEachDriver } from '../src/testing';

// Every filter of entries.list must be servable by an index. With sequential scans switched off,
// the planner picks an index whenever one can answer the query: a plan without one means none can.
describeEachDriver('entries.list indexes', (ctx) => {
  const userId = randomUUID();
  const cases: [string, Partial<ListEntriesInput>, RegExp][] = [
    ['no filter', {}, /entries_user_date_idx/],
    ['date range', { from: '2026-01-01', to: '2026-02-01' }, /entries_user_date_idx/],
    ['metric', { metricId: randomUUID() }, /entries_user_metric_date_idx|entries_user_date_idx/],
    ['tag', { tag: 'gym' }, /entries_tags_idx|entries_user_date_idx/],
    [
      'cursor',
      { cursor: Buffer.from(JSON.stringify(['2026-01-05', '07:00:00', randomUUID()])).toString('base64url') },
      /entries_user_date_idx/,
    ],
  ];
  it.each(cases)('serves the %s filter from an index', async (_label, filter, index) => {
    const { db } = ctx();
    const { shape, values } = listEntriesQuery({ limit: 100, ...filter });
    const query = new PgDialect().sqlToQuery(listEntriesSql(shape));
    const plan = await db.transaction(async (tx) => {
      await tx.execute(sql`set local enable_seqscan = off`);
      const explained = sql.raw(
        `explain ${inline(query.sql, fillPlaceholders(query.params, { ...values, userId }))}`,
      );
      return rowsOf<{ 'QUERY PLAN': string }>(await tx.execute(explained))
        .map((row) => row['QUERY PLAN'])
        .join('\n');
    });
    expect(plan).toMatch(index);
    expect(plan).not.toMatch(/Seq Scan/);
  });
});

/** Inlines bind parameters as literals, for EXPLAIN (test-only; the values are our own). */
function inline(text: string, params: unknown[]): string {
  return text.replace(/\$(\d+)/g, (_, n: string) => {
    const value = params[Number(n) - 1];
    if (typeof value === 'number') return String(value);
    if (Array.isArray(value)) return `'{${value.join(',')}}'`;
    return `'${String(value).replace(/'/g, "''")}'`;
  });
}
