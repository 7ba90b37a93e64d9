import { randomBytes } from 'node:crypto';
import type { NoticeKind, Notification, NotificationSettings, WebhookEndpoint } from '@lifexp/contracts';
import { and, desc, eq, gt, inArray, isNotNull, isNull, lt, lte, ne, or, sql } from 'drizzle-orm';
import { toPublicUser } from './accounts';
import { mutate } from './changes';
import { type Db, type Executor, rowsOf } from './client';
import { DomainError } from './errors';
import {
  entries,
  insights,
  metrics,
  notifications,
  pushSubscriptions,
  serverSecrets,
  users,
  webhooks,
} from './schema';

type NotificationRow = typeof notifications.$inferSelect;
type WebhookRow = typeof webhooks.$inferSelect;

export function toNotification(row: NotificationRow): Notification {
  return {
    id: row.id,
    kind: row.kind as NoticeKind,
    localDate: row.localDate,
    title: row.title,
    body: row.body,
    link: row.link,
    data: row.data,
    readAt: row.readAt?.toISOString() ?? null,
    createdAt: row.createdAt.toISOString(),
    deliveredAt: row.deliveredAt?.toISOString() ?? null,
  };
}

export interface DueUser {
  id: string;
  timezone: string;
  settings: NotificationSettings | null;
}

/**
 * Users whose next scheduled moment has come by `now` (what the scheduler tick reads), in pages of
 * `limit` by id after `afterId`: a tick reads each due user once, even one it could not handle.
 */
export async function usersDueForNotices(
  db: Executor,
  now: Date,
  limit: number,
  afterId?: string,
): Promise<DueUser[]> {
  return db
    .select({
      id: users.id,
      timezone: users.timezone,
      settings: sql<NotificationSettings | null>`${users.preferences}->'notifications'`,
    })
    .from(users)
    .where(and(lte(users.nextNoticeAt, now), afterId ? gt(users.id, afterId) : undefined))
    .orderBy(users.id)
    .limit(limit);
}

/**
 * Stores when the scheduler next has to look at each user (null: never), in one statement, except
 * for users whose settings or time zone changed since they were read: their change's own "at once"
 * stays, and the next tick reads the new settings. Returns the ids stored.
 */
export async function setNextNoticeAt(
  db: Executor,
  items: readonly { user: DueUser; next: Date | null }[],
): Promise<string[]> {
  if (items.length === 0) return [];
  const rows = JSON.stringify(
    items.map(({ user, next }) => ({
      id: user.id,
      timezone: user.timezone,
      settings: user.settings,
      next: next?.toISOString() ?? null,
    })),
  );
  const stored = await db.execute<{ id: string }>(sql`
    update ${users} set next_notice_at = v.next
    from jsonb_to_recordset(${rows}::jsonb) as v(id uuid, timezone text, settings jsonb, next timestamptz)
    where ${users.id} = v.id and ${users.timezone} = v.timezone
      and ${users.preferences} -> 'notifications' is not distinct from v.settings
    returning ${users.id} as id`);
  return rowsOf<{ id: string }>(stored).map((row) => row.id);
}

export interface NewNotice {
  userId: string;
  kind: NoticeKind;
  key: string;
  localDate: string;
  title: string;
  body: string;
  link: string;
  data: Record<string, unknown>;
  inApp: boolean;
  deliverAfter: Date;
}

/**
 * Records a notice unless the same (user, key, local date) exists: the unique index decides, so of
 * several schedulers that find it at once exactly one gets the row back. Returns it, or null.
 */
export async function insertNotice(db: Executor, notice: NewNotice): Promise<NotificationRow | null> {
  const [row] = await db
    .insert(notifications)
    .values({
      userId: notice.userId,
      kind: notice.kind,
      dedupeKey: notice.key,
      localDate: notice.localDate,
      title: notice.title,
      body: notice.body,
      link: notice.link,
      data: notice.data,
      inApp: notice.inApp,
      deliverAfter: notice.deliverAfter,
    })
    .onConflictDoNothing()
    .returning();
  return row ?? null;
}

/** Whether the notice was already recorded (cheap check before composing one). */
export async function noticeExists(db: Executor, userId: string, key: string, localDate: string) {
  const [row] = await db
    .select({ id: notifications.id })
    .from(notifications)
    .where(
      and(
        eq(notifications.userId, userId),
        eq(notifications.dedupeKey, key),
        eq(notifications.localDate, localDate),
      ),
    );
  return row !== undefined;
}

/**
 * Marks the notice delivered, once: of two deliveries of the same job only the first gets the row.
 * An in-app notice becomes a `notification` change on the sync stream in the same transaction.
 */
export async function claimDelivery(db: Db, userId: string, id: string): Promise<NotificationRow | null> {
  const { result } = await mutate(db, userId, async (tx, record) => {
    const [row] = await tx
      .update(notifications)
      .set({ deliveredAt: new Date() })
      .where(
        and(eq(notifications.id, id), eq(notifications.userId, userId), isNull(notifications.deliveredAt)),
      )
      .returning();
    if (row?.inApp)
      record({ entity: 'notification', entityId: row.id, op: 'upsert', data: toNotification(row) });
    return row ?? null;
  });
  return result;
}

/** Notices past their time and still undelivered (a lost job, a restart): the scheduler re-queues them. */
export async function overdueNotices(db: Executor, olderThan: Date, limit: number) {
  return db
    .select({ id: notifications.id, userId: notifications.userId })
    .from(notifications)
    .where(and(isNull(notifications.deliveredAt), lt(notifications.deliverAfter, olderThan)))
    .limit(limit);
}

function encodeCursor(row: NotificationRow): string {
  return `${row.deliveredAt?.toISOString()}_${row.id}`;
}

function decodeCursor(cursor: string): { at: Date; id: string } {
  const match = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)_([0-9a-f-]{36})$/.exec(cursor);
  if (!match?.[1] || !match[2] || Number.isNaN(Date.parse(match[1])))
    throw new DomainError('BAD_REQUEST', 'cursor: not a cursor of this list');
  return { at: new Date(match[1]), id: match[2] };
}

/** The user's delivered in-app notices, newest first, a page at a time; and how many are unread. */
export async function listNotifications(
  db: Executor,
  userId: string,
  input: { limit: number; cursor?: string | undefined; unreadOnly: boolean },
) {
  const after = input.cursor ? decodeCursor(input.cursor) : null;
  const mine = and(
    eq(notifications.userId, userId),
    eq(notifications.inApp, true),
    isNotNull(notifications.deliveredAt),
  );
  const rows = await db
    .select()
    .from(notifications)
    .where(
      and(
        mine,
        input.unreadOnly ? isNull(notifications.readAt) : undefined,
        after
          ? or(
              lt(notifications.deliveredAt, after.at),
              and(eq(notifications.deliveredAt, after.at), lt(notifications.id, after.id)),
            )
          : undefined,
      ),
    )
    .orderBy(desc(notifications.deliveredAt), desc(notifications.id))
    .limit(input.limit + 1);
  const page = rows.slice(0, input.limit);
  const [count] = await db
    .select({ unread: sql<number>`count(*)::int` })
    .from(notifications)
    .where(and(mine, isNull(notifications.readAt)));
  return {
    items: page.map(toNotification),
    nextCursor:
      rows.length > input.limit && page.length > 0 ? encodeCursor(page.at(-1) as NotificationRow) : null,
    unread: count?.unread ?? 0,
  };
}

/** Marks the user's own notices read (others' ids change nothing); other devices hear of it. */
export async function markNotificationsRead(db: Db, userId: string, ids: string[] | 'all') {
  const { result } = await mutate(db, userId, async (tx, record) => {
    const rows = await tx
      .update(notifications)
      .set({ readAt: new Date() })
      .where(
        and(
          eq(notifications.userId, userId),
          isNull(notifications.readAt),
          isNotNull(notifications.deliveredAt),
          ids === 'all' ? undefined : inArray(notifications.id, ids),
        ),
      )
      .returning();
    if (ids === 'all') {
      if (rows.length > 0)
        record({
          entity: 'notifications',
          entityId: userId,
          op: 'upsert',
          data: { allReadAt: new Date().toISOString(), count: rows.length },
        });
    } else {
      for (const row of rows)
        if (row.inApp)
          record({ entity: 'notification', entityId: row.id, op: 'upsert', data: toNotification(row) });
    }
    return rows.length;
  });
  return result;
}

// ---------------------------------------------------------------------------------------------
// What the notices look at

/** Names of the given (live, own) metrics with no entry on the date; all of them when ids are empty. */
export async function metricsWithoutEntry(db: Executor, userId: string, date: string, metricIds: string[]) {
  const rows = await db
    .select({ id: metrics.id, name: metrics.name })
    .from(metrics)
    .where(
      and(
        eq(metrics.userId, userId),
        isNull(metrics.deletedAt),
        inArray(metrics.id, metricIds),
        sql`not exists (select 1 from ${entries} e where e.metric_id = ${metrics.id} and e.user_id = ${userId}
          and e.date = ${date}::date and e.deleted_at is null)`,
      ),
    )
    .orderBy(metrics.name);
  return rows.map((row) => row.name);
}

export async function loggedOn(db: Executor, userId: string, date: string): Promise<boolean> {
  const [row] = await db
    .select({ id: entries.id })
    .from(entries)
    .where(and(eq(entries.userId, userId), eq(entries.date, date), isNull(entries.deletedAt)))
    .limit(1);
  return row !== undefined;
}

/** Consecutive logged days ending the day before `date` (0 if that day has nothing). */
export async function streakBefore(db: Executor, userId: string, date: string): Promise<number> {
  const result = await db.execute(sql`
    with days as (
      select distinct date from ${entries}
      where user_id = ${userId} and deleted_at is null and date < ${date}::date
        and date >= ${date}::date - 400
    ), numbered as (
      select date, (${date}::date - date) - row_number() over (order by date desc) as gap from days
    )
    select count(*)::int as streak from numbered where gap = 0`);
  return rowsOf<{ streak: number }>(result)[0]?.streak ?? 0;
}

/** Correlations and trends of an insight set worth telling: significant where stated, not tentative. */
function findingKey(row: { type: string; data: Record<string, unknown> }): string | null {
  const data = row.data as {
    tentative?: boolean;
    significant?: boolean;
    a?: { id: string };
    b?: { id: string };
    lag?: number;
    metric?: { id: string };
    direction?: string;
  };
  if (data.tentative !== false || data.significant === false) return null;
  if (row.type === 'correlation' && data.a && data.b) return `c:${data.a.id}:${data.b.id}:${data.lag ?? 0}`;
  if (row.type === 'trend' && data.metric && data.direction !== 'flat')
    return `t:${data.metric.id}:${data.direction}`;
  return null;
}

/** The strongest finding of the set that was not in the user's previous set, or null. */
export async function newestFinding(db: Executor, userId: string, setId: string) {
  const current = await db
    .select()
    .from(insights)
    .where(and(eq(insights.userId, userId), eq(insights.setId, setId)))
    .orderBy(desc(insights.confidence), insights.id);
  const [previous] = await db
    .select({ setId: insights.setId })
    .from(insights)
    .where(and(eq(insights.userId, userId), ne(insights.setId, setId)))
    .orderBy(desc(insights.createdAt))
    .limit(1);
  const known = new Set<string>();
  if (previous) {
    const rows = await db
      .select({ type: insights.type, data: insights.data })
      .from(insights)
      .where(and(eq(insights.userId, userId), eq(insights.setId, previous.setId)));
    for (const row of rows) {
      const key = findingKey(row);
      if (key) known.add(key);
    }
  }
  const fresh = current.find((row) => {
    const key = findingKey(row);
    return key !== null && !known.has(key);
  });
  return fresh ? { id: fresh.id, sentence: String(fresh.data.sentence ?? '') } : null;
}

/**
 * For the weekly summary: the strongest active finding, and the trends whose direction differs from
 * the set that was active `since` (a week ago).
 */
export async function weeklyFindings(db: Executor, userId: string, since: Date) {
  const active = await db
    .select()
    .from(insights)
    .where(and(eq(insights.userId, userId), eq(insights.isActive, true)))
    .orderBy(desc(insights.confidence), insights.id);
  const strongest = active.find((row) => findingKey(row)?.startsWith('c:'));
  const [then] = await db
    .select({ setId: insights.setId })
    .from(insights)
    .where(and(eq(insights.userId, userId), lt(insights.createdAt, since)))
    .orderBy(desc(insights.createdAt))
    .limit(1);
  const turned: { metric: string; from: string; to: string }[] = [];
  if (then) {
    const before = new Map<string, string>();
    const rows = await db
      .select({ type: insights.type, data: insights.data })
      .from(insights)
      .where(and(eq(insights.userId, userId), eq(insights.setId, then.setId), eq(insights.type, 'trend')));
    for (const row of rows) {
      const data = row.data as { metric?: { id: string }; direction?: string };
      if (data.metric && data.direction) before.set(data.metric.id, data.direction);
    }
    for (const row of active) {
      if (row.type !== 'trend') continue;
      const data = row.data as { metric?: { id: string; name: string }; direction?: string };
      const was = data.metric ? before.get(data.metric.id) : undefined;
      if (
        data.metric &&
        data.direction &&
        was &&
        was !== 'flat' &&
        data.direction !== 'flat' &&
        was !== data.direction
      )
        turned.push({ metric: data.metric.name, from: was, to: data.direction });
    }
  }
  return { strongest: strongest ? String(strongest.data.sentence ?? '') : null, turned };
}

// ---------------------------------------------------------------------------------------------
// Web Push subscriptions

export async function savePushSubscription(
  db: Db,
  userId: string,
  input: { endpoint: string; p256dh: string; auth: string },
  maxPerUser: number,
) {
  return db.transaction(async (tx) => {
    // Serializes one user's subscribes, so the count below holds.
    await tx.execute(sql`select 1 from ${users} where id = ${userId} for update`);
    const [existing] = await tx
      .select({ id: pushSubscriptions.id, userId: pushSubscriptions.userId })
      .from(pushSubscriptions)
      .where(eq(pushSubscriptions.endpoint, input.endpoint));
    if (!existing || existing.userId !== userId) {
      const [count] = await tx
        .select({ n: sql<number>`count(*)::int` })
        .from(pushSubscriptions)
        .where(eq(pushSubscriptions.userId, userId));
      if ((count?.n ?? 0) >= maxPerUser)
        throw new DomainError('TOO_MANY_REQUESTS', `at most ${maxPerUser} push subscriptions per account`, {
          limit: maxPerUser,
        });
    }
    // The same browser signed in as someone else now: the endpoint moves to the new account.
    const [row] = await tx
      .insert(pushSubscriptions)
      .values({ userId, ...input })
      .onConflictDoUpdate({
        target: pushSubscriptions.endpoint,
        set: { userId, p256dh: input.p256dh, auth: input.auth, createdAt: new Date() },
      })
      .returning({ id: pushSubscriptions.id });
    return { id: (row as { id: string }).id };
  });
}

export async function deletePushSubscription(db: Executor, userId: string, endpoint: string) {
  const rows = await db
    .delete(pushSubscriptions)
    .where(and(eq(pushSubscriptions.userId, userId), eq(pushSubscriptions.endpoint, endpoint)))
    .returning({ id: pushSubscriptions.id });
  return rows.length;
}

export async function pushSubscriptionsOf(db: Executor, userId: string) {
  return db.select().from(pushSubscriptions).where(eq(pushSubscriptions.userId, userId));
}

export async function removePushSubscriptionById(db: Executor, id: string) {
  await db.delete(pushSubscriptions).where(eq(pushSubscriptions.id, id));
}

// ---------------------------------------------------------------------------------------------
// Webhooks

export function toWebhook(row: WebhookRow): WebhookEndpoint {
  return {
    id: row.id,
    url: row.url,
    description: row.description,
    enabled: row.enabled,
    consecutiveFailures: row.consecutiveFailures,
    disabledAt: row.disabledAt?.toISOString() ?? null,
    lastError: row.lastError,
    createdAt: row.createdAt.toISOString(),
  };
}

export async function createWebhook(
  db: Db,
  userId: string,
  input: { url: string; description?: string | undefined; secret: string },
  maxPerUser: number,
) {
  return db.transaction(async (tx) => {
    await tx.execute(sql`select 1 from ${users} where id = ${userId} for update`);
    const [count] = await tx
      .select({ n: sql<number>`count(*)::int` })
      .from(webhooks)
      .where(eq(webhooks.userId, userId));
    if ((count?.n ?? 0) >= maxPerUser)
      throw new DomainError('TOO_MANY_REQUESTS', `at most ${maxPerUser} webhooks per account`, {
        limit: maxPerUser,
      });
    const [row] = await tx
      .insert(webhooks)
      .values({ userId, url: input.url, description: input.description ?? null, secret: input.secret })
      .returning();
    return row as WebhookRow;
  });
}

export async function listWebhooks(db: Executor, userId: string) {
  const rows = await db
    .select()
    .from(webhooks)
    .where(eq(webhooks.userId, userId))
    .orderBy(webhooks.createdAt);
  return rows.map(toWebhook);
}

/** The user's own webhook; another user's is NOT_FOUND, exactly like a missing one. */
export async function getWebhook(db: Executor, userId: string, id: string): Promise<WebhookRow> {
  const [row] = await db
    .select()
    .from(webhooks)
    .where(and(eq(webhooks.id, id), eq(webhooks.userId, userId)));
  if (!row) throw new DomainError('NOT_FOUND', 'webhook not found');
  return row;
}

export async function deleteWebhook(db: Executor, userId: string, id: string) {
  const rows = await db
    .delete(webhooks)
    .where(and(eq(webhooks.id, id), eq(webhooks.userId, userId)))
    .returning({ id: webhooks.id });
  if (rows.length === 0) throw new DomainError('NOT_FOUND', 'webhook not found');
}

export async function enabledWebhooks(db: Executor, userId: string) {
  return db
    .select()
    .from(webhooks)
    .where(and(eq(webhooks.userId, userId), eq(webhooks.enabled, true)));
}

/**
 * Counts a delivery attempt: a success resets the failures (and turns a paused endpoint back on); a
 * failure adds one, and the `disableAfter`-th in a row pauses it. Returns the row when this attempt
 * paused it, so the user can be told once.
 */
export async function recordWebhookAttempt(
  db: Executor,
  id: string,
  outcome: { ok: true } | { ok: false; error: string },
  disableAfter: number,
): Promise<WebhookRow | null> {
  if (outcome.ok) {
    await db
      .update(webhooks)
      .set({
        consecutiveFailures: 0,
        lastError: null,
        enabled: true,
        disabledAt: null,
        updatedAt: new Date(),
      })
      .where(eq(webhooks.id, id));
    return null;
  }
  const [row] = await db
    .update(webhooks)
    .set({
      consecutiveFailures: sql`${webhooks.consecutiveFailures} + 1`,
      lastError: outcome.error.slice(0, 300),
      enabled: sql`${webhooks.consecutiveFailures} + 1 < ${disableAfter}`,
      disabledAt: sql`case when ${webhooks.enabled} and ${webhooks.consecutiveFailures} + 1 >= ${disableAfter} then now() else ${webhooks.disabledAt} end`,
      updatedAt: new Date(),
    })
    .where(eq(webhooks.id, id))
    .returning();
  return row && !row.enabled && row.consecutiveFailures === disableAfter ? row : null;
}

// ---------------------------------------------------------------------------------------------
// Server secrets and the email channel

/**
 * A secret the server makes once and every instance shares: the first instance to start stores its
 * value, the others read it.
 */
export async function serverSecret(
  db: Executor,
  name: string,
  make: () => Record<string, string>,
): Promise<Record<string, string>> {
  await db.insert(serverSecrets).values({ name, value: make() }).onConflictDoNothing();
  const [row] = await db.select().from(serverSecrets).where(eq(serverSecrets.name, name));
  if (!row) throw new Error(`server secret ${name} is missing`);
  return row.value;
}

export function randomKey(): string {
  return randomBytes(32).toString('base64url');
}

/** Turns the email channel off (an unsubscribe link); other devices hear of the changed preferences. */
export async function turnOffEmail(db: Db, userId: string): Promise<boolean> {
  const { result } = await mutate(db, userId, async (tx, record) => {
    const [row] = await tx
      .update(users)
      .set({
        preferences: sql`jsonb_set(
          case when ${users.preferences} ? 'notifications' then ${users.preferences}
            else ${users.preferences} || '{"notifications": {}}'::jsonb end,
          '{notifications,channels}',
          coalesce(${users.preferences} #> '{notifications,channels}', '{}'::jsonb) || '{"email": false}'::jsonb)`,
        updatedAt: new Date(),
      })
      .where(eq(users.id, userId))
      .returning();
    if (!row) return false;
    record({ entity: 'user', entityId: userId, op: 'upsert', data: toPublicUser(row) });
    return true;
  });
  return result;
}
