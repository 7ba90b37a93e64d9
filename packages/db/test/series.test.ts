import { randomUUID } from 'node:crypto';
import { addDays, localToday } from '@lifexp/analytics';
import { createMetricInput } from '@lifexp/contracts';
import { expect, it } from 'vitest';
import { registerUser, updatePreferences } from '../src/accounts';
import type { Db } from '../src/client';
import { createEntries, deleteEntry } from '../src/entries';
import { createMetric, deleteMetric, updateMetric } from '../src/metrics';
import { loadDailySeries, type UserSeries } from '../src/series';
import { describeEachDriver } from '../src/testing';

async function newUser(db: Db, timezone?: string): Promise<string> {
  const row = await registerUser(db, {
    email: `${randomUUID()}@example.test`,
    password: 'correct horse battery',
    timezone,
  });
  return row.id;
}

/** A metric as the API would create it (the contract fills in the config's defaults). */
async function metric(db: Db, userId: string, input: Record<string, unknown>) {
  return createMetric(db, userId, createMetricInput.parse({ category: 'custom', ...input }));
}

type Item = { metricId: string; value: number | boolean | string; date: string; time?: string };

async function log(db: Db, userId: string, items: Item[]) {
  return createEntries(db, userId, {
    entries: items.map((item) => ({
      ...item,
      time: item.time === undefined ? undefined : `${item.time}:00`,
    })),
  });
}

/** The series of one metric as a plain { start, values } with NaN as null (toEqual-friendly). */
function seriesOf(result: UserSeries, metricId: string) {
  const found = result.series.find((series) => series.metric.id === metricId);
  if (!found) return undefined;
  return {
    start: found.start,
    values: [...found.values].map((value) => (Number.isNaN(value) ? null : value)),
  };
}

const D = '2025-03-10';

describeEachDriver('daily series', (ctx) => {
  it("combines each day's entries by the metric's aggregation", async () => {
    const { db } = ctx();
    const userId = await newUser(db);
    const ids: Record<string, string> = {};
    for (const aggregation of ['sum', 'mean', 'last', 'min', 'max'] as const) {
      ids[aggregation] = (
        await metric(db, userId, { name: aggregation, type: 'number', config: { aggregation } })
      ).id;
    }
    // 7 without a time (counts as the day's start), 3 at 08:00, 9 at 12:00, 4 at 21:00 — given out of order.
    for (const id of Object.values(ids)) {
      await log(db, userId, [
        { metricId: id, value: 9, date: D, time: '12:00' },
        { metricId: id, value: 4, date: D, time: '21:00' },
        { metricId: id, value: 7, date: D },
        { metricId: id, value: 3, date: D, time: '08:00' },
        { metricId: id, value: 1, date: addDays(D, 2), time: '10:00' },
      ]);
    }
    const result = await loadDailySeries(db, userId, { to: addDays(D, 2) });
    const day = (aggregation: string) => seriesOf(result, ids[aggregation]!)!;
    expect(day('sum')).toEqual({ start: D, values: [23, null, 1] });
    expect(day('mean')).toEqual({ start: D, values: [5.75, null, 1] });
    expect(day('last')).toEqual({ start: D, values: [4, null, 1] });
    expect(day('min')).toEqual({ start: D, values: [3, null, 1] });
    expect(day('max')).toEqual({ start: D, values: [9, null, 1] });
  });

  it("'last' takes the latest time, then the latest created of entries at the same time", async () => {
    const { db } = ctx();
    const userId = await newUser(db);
    const a = await metric(db, userId, { name: 'A', type: 'rating', config: { aggregation: 'last' } });
    const b = await metric(db, userId, { name: 'B', type: 'rating', config: { aggregation: 'last' } });
    // Same day, same time, separate writes: the one written later wins, whatever its value.
    await log(db, userId, [{ metricId: a.id, value: 2, date: D, time: '20:00' }]);
    await log(db, userId, [{ metricId: a.id, value: 5, date: D, time: '20:00' }]);
    await log(db, userId, [{ metricId: b.id, value: 5, date: D, time: '20:00' }]);
    await log(db, userId, [{ metricId: b.id, value: 2, date: D, time: '20:00' }]);
    // A later time beats a later write; no time counts as the start of the day.
    await log(db, userId, [{ metricId: a.id, value: 3, date: addDays(D, 1), time: '22:00' }]);
    await log(db, userId, [{ metricId: a.id, value: 1, date: addDays(D, 1), time: '07:00' }]);
    await log(db, userId, [{ metricId: a.id, value: 4, date: addDays(D, 1) }]);
    const result = await loadDailySeries(db, userId, { to: addDays(D, 1) });
    expect(seriesOf(result, a.id)).toEqual({ start: D, values: [5, 3] });
    expect(seriesOf(result, b.id)).toEqual({ start: D, values: [2, null] });
  });

  it("a missing day is unknown (NaN) or zero, per the metric's policy", async () => {
    const { db } = ctx();
    const userId = await newUser(db);
    const unknown = await metric(db, userId, { name: 'Steps', type: 'number' });
    const zero = await metric(db, userId, {
      name: 'Drinks',
      type: 'number',
      config: { aggregation: 'sum', missing: 'zero' },
    });
    for (const id of [unknown.id, zero.id]) {
      await log(db, userId, [
        { metricId: id, value: 2, date: D },
        { metricId: id, value: 3, date: addDays(D, 2) },
      ]);
    }
    const to = addDays(D, 3);
    const whole = await loadDailySeries(db, userId, { to });
    expect(seriesOf(whole, unknown.id)).toEqual({ start: D, values: [2, null, 3, null] });
    expect(seriesOf(whole, zero.id)).toEqual({ start: D, values: [2, 0, 3, 0] });
    // With a `from` before the first entry, a zero metric is zero from `from` on (it was known
    // to be nothing); an unknown one still starts at its first known day.
    const from = addDays(D, -2);
    const ranged = await loadDailySeries(db, userId, { from, to });
    expect(ranged.from).toBe(from);
    expect(seriesOf(ranged, zero.id)).toEqual({ start: from, values: [0, 0, 2, 0, 3, 0] });
    expect(seriesOf(ranged, unknown.id)).toEqual({ start: D, values: [2, null, 3, null] });
    // `from` and `to` cut the entries off.
    const inner = await loadDailySeries(db, userId, { from: addDays(D, 1), to: addDays(D, 2) });
    expect(seriesOf(inner, unknown.id)).toEqual({ start: addDays(D, 2), values: [3] });
    expect(seriesOf(inner, zero.id)).toEqual({ start: addDays(D, 1), values: [0, 3] });
  });

  it('leaves out text metrics, archived ones unless asked, deleted metrics and deleted entries', async () => {
    const { db } = ctx();
    const userId = await newUser(db);
    const mood = await metric(db, userId, { name: 'Mood', type: 'rating' });
    const yes = await metric(db, userId, { name: 'Run', type: 'binary' });
    const note = await metric(db, userId, { name: 'Note', type: 'text' });
    const old = await metric(db, userId, { name: 'Old', type: 'number' });
    const gone = await metric(db, userId, { name: 'Gone', type: 'number' });
    const created = await log(db, userId, [
      { metricId: mood.id, value: 4, date: D },
      { metricId: mood.id, value: 2, date: addDays(D, 1) },
      { metricId: yes.id, value: true, date: D },
      { metricId: yes.id, value: false, date: addDays(D, 1) },
      { metricId: note.id, value: 'a good day', date: D },
      { metricId: old.id, value: 70, date: D },
      { metricId: gone.id, value: 1, date: D },
    ]);
    await deleteEntry(db, userId, { id: created[1]!.id, baseVersion: 1 });
    await updateMetric(db, userId, { id: old.id, baseVersion: old.version, isActive: false });
    await deleteMetric(db, userId, { id: gone.id, baseVersion: gone.version });

    const to = addDays(D, 1);
    const active = await loadDailySeries(db, userId, { to });
    expect(active.series.map((series) => series.metric.name)).toEqual(['Mood', 'Run']);
    expect(seriesOf(active, mood.id)).toEqual({ start: D, values: [4, null] });
    expect(seriesOf(active, yes.id)).toEqual({ start: D, values: [1, 0] });
    const withArchived = await loadDailySeries(db, userId, { to, includeArchived: true });
    expect(withArchived.series.map((series) => series.metric.name)).toEqual(['Mood', 'Run', 'Old']);
    expect(seriesOf(withArchived, old.id)).toEqual({ start: D, values: [70, null] });
    // Asking for a text metric by id still gives nothing; so does another user's metric.
    const other = await newUser(db);
    expect((await loadDailySeries(db, userId, { to, metricIds: [note.id] })).series).toEqual([]);
    expect((await loadDailySeries(db, other, { to, metricIds: [mood.id] })).series).toEqual([]);
    const one = await loadDailySeries(db, userId, { to, metricIds: [yes.id] });
    expect(one.series.map((series) => series.metric.id)).toEqual([yes.id]);
  });

  it('uses the local dates as logged, around midnight, in any time zone', async () => {
    const { db } = ctx();
    for (const timezone of ['Pacific/Auckland', 'America/Los_Angeles']) {
      const userId = await newUser(db, timezone);
      const sum = await metric(db, userId, { name: 'Water', type: 'number', config: { aggregation: 'sum' } });
      await log(db, userId, [
        { metricId: sum.id, value: 1, date: D, time: '00:01' },
        { metricId: sum.id, value: 2, date: D, time: '23:59' },
        { metricId: sum.id, value: 4, date: addDays(D, 1), time: '00:01' },
        { metricId: sum.id, value: 8, date: addDays(D, 1), time: '23:59' },
      ]);
      const result = await loadDailySeries(db, userId, { to: addDays(D, 1) });
      expect(result.timezone).toBe(timezone);
      expect(seriesOf(result, sum.id)).toEqual({ start: D, values: [3, 12] });
    }
  });

  it("ends by default on the user's local today, not UTC's", async () => {
    const { db } = ctx();
    const now = new Date();
    // Kiritimati (UTC+14) is a day ahead of UTC from 10:00 UTC, Pago Pago (UTC−11) a day behind
    // until 11:00 UTC: whatever the hour, at least one of them is on another date than UTC.
    const zones = ['Pacific/Auckland', 'America/Los_Angeles', 'Pacific/Kiritimati', 'Pacific/Pago_Pago'];
    expect(zones.some((zone) => localToday(zone, now) !== localToday('UTC', now))).toBe(true);
    for (const timezone of zones) {
      const userId = await newUser(db, timezone);
      const today = localToday(timezone);
      const m = await metric(db, userId, { name: 'Walk', type: 'number' });
      // Today's entry is in; tomorrow's (allowed: a day ahead for travel) is not yet.
      await log(db, userId, [
        { metricId: m.id, value: 1, date: addDays(today, -1), time: '23:59' },
        { metricId: m.id, value: 2, date: today, time: '00:01' },
        { metricId: m.id, value: 3, date: addDays(today, 1), time: '00:01' },
      ]);
      const result = await loadDailySeries(db, userId);
      // (Around a local midnight the test and the function could see different days: allow that.)
      const todayNow = localToday(timezone);
      expect(result.to).toBe(todayNow);
      expect(result.from).toBeNull();
      if (todayNow === today) {
        expect(seriesOf(result, m.id)).toEqual({ start: addDays(today, -1), values: [1, 2] });
      }
    }
  });

  it('with dayStartsAtHour, entries before that hour count for the day before', async () => {
    const { db } = ctx();
    const userId = await newUser(db, 'Europe/Berlin');
    await updatePreferences(db, userId, { preferences: { dayStartsAtHour: 4 } });
    const sum = await metric(db, userId, { name: 'Sum', type: 'number', config: { aggregation: 'sum' } });
    const last = await metric(db, userId, { name: 'Last', type: 'number', config: { aggregation: 'last' } });
    const next = addDays(D, 1);
    // Powers of two, so that every day's sum says exactly which entries it took.
    const items: [number, string, string | undefined][] = [
      [1, D, '01:30'], // → D − 1
      [2, D, '03:59'], // → D − 1
      [4, D, '04:00'], // → D
      [8, D, undefined], // no time: its own date, D
      [16, D, '23:59'], // → D
      [32, next, '00:01'], // → D (the night goes on)
      [64, next, '04:00'], // → D + 1
    ];
    for (const id of [sum.id, last.id]) {
      await log(
        db,
        userId,
        items.map(([value, date, time]) => ({ metricId: id, value, date, ...(time ? { time } : {}) })),
      );
    }
    const result = await loadDailySeries(db, userId, { to: next });
    expect(seriesOf(result, sum.id)).toEqual({ start: addDays(D, -1), values: [3, 60, 64] });
    // 'last' follows the clock: D's 03:59 is the last moment of D − 1, the next day's 00:01 of D.
    expect(seriesOf(result, last.id)).toEqual({ start: addDays(D, -1), values: [2, 32, 64] });
    // `from` applies to the shifted day: D's 01:30 belongs to D − 1 and is left out.
    const fromD = await loadDailySeries(db, userId, { from: D, to: next });
    expect(seriesOf(fromD, sum.id)).toEqual({ start: D, values: [60, 64] });
    // Without the preference, the calendar date decides.
    await updatePreferences(db, userId, { preferences: { dayStartsAtHour: null } });
    const plain = await loadDailySeries(db, userId, { to: next });
    expect(seriesOf(plain, sum.id)).toEqual({ start: D, values: [31, 96] });
  });

  it("with a step, runs the metric list and each metric's query inside it, one at a time, same series", async () => {
    const { db } = ctx();
    const userId = await newUser(db);
    const mood = await metric(db, userId, { name: 'Mood', type: 'rating' });
    const steps = await metric(db, userId, { name: 'Steps', type: 'number', config: { aggregation: 'sum' } });
    const empty = await metric(db, userId, { name: 'Empty', type: 'number' });
    await metric(db, userId, { name: 'Note', type: 'text' });
    await log(db, userId, [
      { metricId: mood.id, value: 4, date: D },
      { metricId: steps.id, value: 5000, date: D },
      { metricId: steps.id, value: 2000, date: addDays(D, 1) },
    ]);
    const to = addDays(D, 1);
    let running = 0;
    let most = 0;
    let count = 0;
    const paced = await loadDailySeries(db, userId, {
      to,
      async step(work) {
        count += 1;
        running += 1;
        most = Math.max(most, running);
        try {
          return await work();
        } finally {
          running -= 1;
        }
      },
    });
    // The metric list, then one step per numeric metric (the empty one too; the text one is not read).
    expect(count).toBe(1 + 3);
    expect(most).toBe(1);
    const plain = await loadDailySeries(db, userId, { to });
    expect(paced).toEqual(plain);
    expect(seriesOf(paced, steps.id)).toEqual({ start: D, values: [5000, 2000] });
    expect(seriesOf(paced, empty.id)).toBeUndefined();
    // A failing step fails the load.
    await expect(
      loadDailySeries(db, userId, {
        to,
        step: async () => {
          throw new Error('stopped');
        },
      }),
    ).rejects.toThrow('stopped');
  });
});
