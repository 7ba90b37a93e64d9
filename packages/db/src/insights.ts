import { randomUUID } from 'node:crypto';
import { addDays, localToday } from '@lifexp/analytics';
import type { Insight, InsightDraft, Progress } from '@lifexp/contracts';
import { and, asc, desc, eq, inArray, sql } from 'drizzle-orm';
import { mutate } from './changes';
import { type Db, type Executor, rowsOf } from './client';
import { entries, insights, users } from './schema';

type InsightRow = typeof insights.$inferSelect;

function toInsight(row: InsightRow): Insight {
  return {
    id: row.id,
    type: row.type as Insight['type'],
    confidence: row.confidence,
    dateFrom: row.dateFrom,
    dateTo: row.dateTo,
    data: row.data as Insight['data'],
    createdAt: row.createdAt.toISOString(),
  };
}

/**
 * Stores a freshly computed set of insights as the user's active set; the previous set is
 * deactivated, not deleted. Devices hear of it through one `insights` sync event.
 */
export async function storeInsightSet(db: Db, userId: string, drafts: InsightDraft[]) {
  const setId = randomUUID();
  const { result } = await mutate(db, userId, async (tx, record) => {
    await tx
      .update(insights)
      .set({ isActive: false, updatedAt: new Date() })
      .where(and(eq(insights.userId, userId), eq(insights.isActive, true)));
    if (drafts.length > 0) {
      await tx.insert(insights).values(drafts.map((draft) => ({ ...draft, userId, setId })));
    }
    const summary = { setId, count: drafts.length, generatedAt: new Date().toISOString() };
    record({ entity: 'insights', entityId: setId, op: 'upsert', data: summary });
    return summary;
  });
  return result;
}

/** The newest set only, strongest first. */
export async function listActiveInsights(
  db: Executor,
  userId: string,
  types?: Insight['type'][],
): Promise<Insight[]> {
  const rows = await db
    .select()
    .from(insights)
    .where(
      and(
        eq(insights.userId, userId),
        eq(insights.isActive, true),
        types ? inArray(insights.type, types) : undefined,
      ),
    )
    .orderBy(desc(insights.confidence), asc(insights.type), asc(insights.id));
  return rows.map(toInsight);
}

/** XP rules, documented in docs/design.md: logging consistency earns experience. */
export const XP_PER_DAY = 10;
export const XP_PER_METRIC = 2;
export const XP_METRICS_CAP = 5;
export const XP_STREAK_CAP = 10;

/** Total XP needed to reach `level`: 100 · (level − 1) · level / 2 (100, 300, 600, 1000, …). */
export function xpForLevel(level: number): number {
  return (100 * (level - 1) * level) / 2;
}

/** The logged days of a user, oldest first: date, entries and distinct metrics. */
async function loggedDays(db: Executor, userId: string) {
  const result = await db.execute(sql`
    select to_char(${entries.date}, 'YYYY-MM-DD') as date, count(*)::int as entries,
      count(distinct ${entries.metricId})::int as metrics
    from ${entries}
    where ${entries.userId} = ${userId} and ${entries.deletedAt} is null
    group by ${entries.date} order by ${entries.date}`);
  return rowsOf<{ date: string; entries: number; metrics: number }>(result);
}

/** The XP each logged day earned (a day's XP depends only on it and the days before it). */
function tallyXp(days: { date: string; metrics: number }[]) {
  let run = 0;
  let previous: string | null = null;
  return days.map((day) => {
    run = previous !== null && addDays(previous, 1) === day.date ? run + 1 : 1;
    previous = day.date;
    const xp =
      XP_PER_DAY + XP_PER_METRIC * Math.min(day.metrics, XP_METRICS_CAP) + Math.min(run - 1, XP_STREAK_CAP);
    return { date: day.date, xp, run };
  });
}

/** XP earned by the days from `from` to `to`, inclusive. */
export async function xpEarnedBetween(
  db: Executor,
  userId: string,
  from: string,
  to: string,
): Promise<number> {
  return tallyXp(await loggedDays(db, userId))
    .filter((day) => day.date >= from && day.date <= to)
    .reduce((sum, day) => sum + day.xp, 0);
}

export async function computeProgress(db: Executor, userId: string): Promise<Progress> {
  const [user] = await db.select({ timezone: users.timezone }).from(users).where(eq(users.id, userId));
  const days = await loggedDays(db, userId);
  const tallied = tallyXp(days);
  const xp = tallied.reduce((sum, day) => sum + day.xp, 0);
  const longest = tallied.reduce((most, day) => Math.max(most, day.run), 0);
  const last = tallied.at(-1);
  // A streak is current while its last day is today or yesterday (today may not be logged yet).
  const today = localToday(user?.timezone ?? 'UTC');
  const current = last && (last.date === today || addDays(last.date, 1) === today) ? last.run : 0;
  let level = 1;
  while (xpForLevel(level + 1) <= xp) level += 1;
  return {
    xp,
    level,
    xpIntoLevel: xp - xpForLevel(level),
    xpForNextLevel: xpForLevel(level + 1) - xpForLevel(level),
    daysLogged: days.length,
    entries: days.reduce((sum, day) => sum + day.entries, 0),
    currentStreak: current,
    longestStreak: longest,
  };
}

/** Users whose insights should be recomputed in this hour: it is `localHour` where they live. */
export async function usersAtLocalHour(db: Executor, localHour: number, now = new Date()): Promise<string[]> {
  const rows = await db.select({ id: users.id, timezone: users.timezone }).from(users);
  return rows
    .filter((row) => {
      const hour = Number(
        new Intl.DateTimeFormat('en-GB', {
          timeZone: row.timezone,
          hour: '2-digit',
          hourCycle: 'h23',
        }).format(now),
      );
      return hour === localHour;
    })
    .map((row) => row.id);
}
