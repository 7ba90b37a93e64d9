import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Config, Logger } from '@lifexp/config';
import { defaultChannels, type NoticeKind, type NotificationSettings } from '@lifexp/contracts';
import {
  claimDelivery,
  type Database,
  DomainError,
  type DueUser,
  enabledWebhooks,
  getUser,
  getWebhook,
  insertNotice,
  loggedOn,
  metricsWithoutEntry,
  newestFinding,
  noticeExists,
  overdueNotices,
  pushSubscriptionsOf,
  randomKey,
  recordWebhookAttempt,
  removePushSubscriptionById,
  schema,
  serverSecret,
  setNextNoticeAt,
  streakBefore,
  toNotification,
  usersDueForNotices,
  weeklyFindings,
  xpEarnedBetween,
} from '@lifexp/db';
import {
  addDays,
  CATCH_UP_MS,
  composeNotice,
  createMailer,
  createPushSender,
  createWebhookSender,
  type DueNotice,
  dueNotices,
  generateVapidKeys,
  type NoticeContent,
  nextNoticeAt,
  type OutboundNotice,
  releaseTime,
  type WebhookOutcome,
  wallTime,
} from '@lifexp/notifications';
import { and, eq } from 'drizzle-orm';
import { safeError } from './errorLog';
import { type JobQueue, type Jobs, removeUserJobs } from './jobs';

export const NOTIFY_QUEUE = 'notifications';
export const WEBHOOK_QUEUE = 'notifications-webhook';

/** Webhook tests per account and minute (each is one outbound request). */
export const WEBHOOK_TESTS_PER_MINUTE = 5;
/** Undelivered notices re-queued per tick (a job lost between the insert and the queue). */
const REQUEUE_BATCH = 500;
/** Due users read per query by a tick. */
const TICK_PAGE = 500;

export interface NotificationsService {
  /** One scheduler pass: finds what is due for every user and queues it. Returns how many it queued. */
  tick(now?: number): Promise<number>;
  /** After a recompute stored a new insight set: tells the user of a new finding, if there is one. */
  afterRecompute(userId: string, setId: string): Promise<void>;
  /** Sends a test message to one of the user's webhooks now; a success turns a paused one back on. */
  testWebhook(userId: string, webhookId: string): Promise<WebhookOutcome>;
  /** The VAPID public key browsers subscribe with. */
  publicKey: string;
  unsubscribeUrl(userId: string): string;
  /** The user id an unsubscribe token was made for, or null. */
  verifyUnsubscribe(token: string): string | null;
  /** Drops every queued notification job of the user (their account is gone). */
  forgetUser(userId: string): Promise<number>;
  /** The delivery queues, given to Jobs.add (which creates them, and works them where jobs run). */
  queues: JobQueue[];
  stop(): Promise<void>;
}

type DeliverJob = { userId: string; id: string };
type WebhookJob = { userId: string; webhookId: string; notificationId: string };

/**
 * Notifications: the scheduler tick (every NOTIFICATIONS_TICK_SECONDS, on every instance), the
 * `notifications` queue that delivers a notice on its channels, and the webhook queue that retries
 * each endpoint on its own. Exactly once comes from the database: a notice is a row unique per
 * (user, key, local date), and delivery claims it; several instances may tick at once.
 */
export async function startNotifications(
  config: Config,
  database: Database,
  jobs: Jobs,
  log: Logger,
  options: { scheduler?: boolean } = {},
): Promise<NotificationsService> {
  const { db } = database;
  const { boss } = jobs;
  const vapid =
    config.vapidPublicKey && config.vapidPrivateKey
      ? { publicKey: config.vapidPublicKey, privateKey: config.vapidPrivateKey }
      : ((await serverSecret(db, 'vapid', () => ({ ...generateVapidKeys() }))) as {
          publicKey: string;
          privateKey: string;
        });
  const unsubscribeKey = (await serverSecret(db, 'unsubscribe', () => ({ key: randomKey() }))).key as string;
  const outbound = {
    allowPrivate: config.webhooksAllowPrivate,
    ca: config.outboundCaFile ? readFileSync(config.outboundCaFile, 'utf8') : undefined,
    timeoutMs: config.outboundTimeoutMs,
  };
  const push = createPushSender({ ...outbound, vapid, subject: config.vapidSubject });
  const webhooks = createWebhookSender(outbound);
  const mailer = config.smtpUrl
    ? createMailer({ smtpUrl: config.smtpUrl, from: config.smtpFrom, timeoutMs: config.outboundTimeoutMs })
    : null;

  const sign = (userId: string) =>
    createHmac('sha256', unsubscribeKey).update(`unsubscribe:${userId}`).digest('base64url');
  const absolute = (link: string) => new URL(link, config.linkOrigin).toString();

  function outboundNotice(row: typeof schema.notifications.$inferSelect): OutboundNotice {
    return {
      id: row.id,
      kind: row.kind,
      title: row.title,
      body: row.body,
      url: absolute(row.link),
      localDate: row.localDate,
      createdAt: row.createdAt.toISOString(),
      data: row.data,
    };
  }

  /** Records a notice (once) and queues its delivery for when it may go out. */
  async function raise(
    user: DueUser,
    kind: NoticeKind,
    key: string,
    localDate: string,
    content: NoticeContent,
    at: number,
  ): Promise<boolean> {
    const channels = { ...defaultChannels, ...user.settings?.channels };
    const composed = composeNotice(content);
    const deliverAfter = new Date(
      Math.max(Date.now(), releaseTime(at, user.settings?.quietHours, user.timezone)),
    );
    const row = await insertNotice(db, {
      userId: user.id,
      kind,
      key,
      localDate,
      ...composed,
      inApp: channels.inApp,
      deliverAfter,
    });
    if (!row) return false;
    await queueDelivery(row.userId, row.id, deliverAfter);
    return true;
  }

  async function queueDelivery(userId: string, id: string, startAfter: Date) {
    // The notice's id is the job's: queueing it twice (a re-queue after a crash) adds nothing.
    await boss.send(NOTIFY_QUEUE, { userId, id } satisfies DeliverJob, { id, startAfter });
  }

  /** What a scheduled notice says, or null when it has nothing to say (already logged, no streak). */
  async function contentOf(userId: string, due: DueNotice, now: number): Promise<NoticeContent | null> {
    switch (due.kind) {
      case 'reminder': {
        if (due.metricIds) {
          const missing = await metricsWithoutEntry(db, userId, due.localDate, due.metricIds);
          return missing.length > 0 ? { kind: 'reminder', localDate: due.localDate, missing } : null;
        }
        return (await loggedOn(db, userId, due.localDate))
          ? null
          : { kind: 'reminder', localDate: due.localDate, missing: [] };
      }
      case 'streak': {
        if (await loggedOn(db, userId, due.localDate)) return null;
        const streak = await streakBefore(db, userId, due.localDate);
        return streak >= 3 ? { kind: 'streak', localDate: due.localDate, streak } : null;
      }
      case 'weekly': {
        const xpGained = await xpEarnedBetween(db, userId, addDays(due.localDate, -6), due.localDate);
        const findings = await weeklyFindings(db, userId, new Date(now - 7 * 86_400_000));
        return { kind: 'weekly', localDate: due.localDate, xpGained, ...findings };
      }
    }
  }

  let ticking = false;
  async function tick(now = Date.now()): Promise<number> {
    if (ticking) return 0;
    ticking = true;
    let queued = 0;
    try {
      // Only the users whose next scheduled moment has come, a page at a time.
      for (let page: DueUser[] = [], afterId: string | undefined; ; afterId = page.at(-1)?.id) {
        page = await usersDueForNotices(db, new Date(now), TICK_PAGE, afterId);
        const scheduled: { user: DueUser; next: Date | null }[] = [];
        for (const user of page) {
          const done = await scheduleUser(user, now);
          if (!done) continue;
          queued += done.queued;
          scheduled.push({ user, next: done.next });
        }
        await setNextNoticeAt(db, scheduled);
        if (page.length < TICK_PAGE) break;
      }
      for (const notice of await overdueNotices(db, new Date(now - 60_000), REQUEUE_BATCH))
        await queueDelivery(notice.userId, notice.id, new Date());
    } finally {
      ticking = false;
    }
    if (queued > 0) log.info({ queued }, 'queued due notifications');
    return queued;
  }

  /**
   * Raises the user's due notices and says when to look at them next; null when that failed, so that
   * they keep the moment that made them due and the next tick tries again (inside the catch-up window).
   */
  async function scheduleUser(
    user: DueUser,
    now: number,
  ): Promise<{ queued: number; next: Date | null } | null> {
    let queued = 0;
    try {
      for (const due of dueNotices(user.settings, user.timezone, now, CATCH_UP_MS)) {
        if (await noticeExists(db, user.id, due.key, due.localDate)) continue;
        const content = await contentOf(user.id, due, now);
        if (content && (await raise(user, due.kind, due.key, due.localDate, content, due.scheduledAt)))
          queued += 1;
      }
    } catch (error) {
      log.error({ error: safeError(error), userId: user.id }, 'notification scheduling failed for a user');
      return null;
    }
    const next = nextNoticeAt(user.settings, user.timezone, now);
    return { queued, next: next === null ? null : new Date(next) };
  }

  /** Delivers one notice on every channel the user has on; one failing channel never stops another. */
  async function deliver({ userId, id }: DeliverJob): Promise<void> {
    const row = await claimDelivery(db, userId, id);
    if (!row) return; // delivered already, or the account is gone
    const user = await getUser(db, userId).catch(() => null);
    if (!user) return;
    const settings = (user.preferences as { notifications?: NotificationSettings }).notifications;
    const channels = { ...defaultChannels, ...settings?.channels };
    const notice = outboundNotice(row);
    const work: Promise<unknown>[] = [];
    if (channels.push) {
      for (const subscription of await pushSubscriptionsOf(db, userId)) {
        work.push(
          push.send(subscription, notice).then(async (outcome) => {
            if (outcome.ok) return;
            if (outcome.gone) await removePushSubscriptionById(db, subscription.id);
            log.warn({ userId, gone: outcome.gone }, 'a push delivery failed');
          }),
        );
      }
    }
    if (channels.webhook) {
      for (const webhook of await enabledWebhooks(db, userId)) {
        work.push(
          boss.send(WEBHOOK_QUEUE, {
            userId,
            webhookId: webhook.id,
            notificationId: row.id,
          } satisfies WebhookJob),
        );
      }
    }
    if (channels.email && mailer) {
      work.push(mailer.send({ to: user.email, notice, unsubscribeUrl: service.unsubscribeUrl(userId) }));
    }
    const results = await Promise.allSettled(work);
    for (const result of results)
      if (result.status === 'rejected')
        log.error({ error: safeError(result.reason), userId }, 'a notification channel failed');
  }

  /** One webhook attempt; a failure throws so the queue retries it with backoff, until it is paused. */
  async function deliverWebhook({ userId, webhookId, notificationId }: WebhookJob): Promise<void> {
    const webhook = await getWebhook(db, userId, webhookId).catch(() => null);
    if (!webhook?.enabled) return;
    const [row] = await db
      .select()
      .from(schema.notifications)
      .where(and(eq(schema.notifications.id, notificationId), eq(schema.notifications.userId, userId)));
    if (!row) return;
    const outcome = await webhooks.send({
      url: webhook.url,
      secret: webhook.secret,
      messageId: `msg_${row.id}`,
      type: 'notification.created',
      data: { ...toNotification(row), url: absolute(row.link) },
    });
    const paused = await recordWebhookAttempt(db, webhook.id, outcome, config.webhooksDisableAfter);
    if (paused) {
      log.warn({ userId, webhookId }, 'paused a webhook after repeated failures');
      const user = await getUser(db, userId).catch(() => null);
      if (user) {
        const settings = (user.preferences as { notifications?: NotificationSettings }).notifications ?? null;
        const content: NoticeContent = {
          kind: 'webhook-disabled',
          webhookId: webhook.id,
          url: webhook.url,
          failures: paused.consecutiveFailures,
        };
        const today = wallTime(Date.now(), user.timezone).date;
        // In-app whatever the channel settings: it is about a channel failing.
        await raise(
          {
            id: userId,
            timezone: user.timezone,
            settings: { ...settings, channels: { ...settings?.channels, inApp: true } },
          },
          'webhook-disabled',
          `webhook-disabled:${webhook.id}:${randomUUID()}`,
          today,
          content,
          Date.now(),
        );
      }
      return;
    }
    if (!outcome.ok) throw new Error(`webhook delivery failed: ${outcome.error}`);
  }

  const testsByUser = new Map<string, number[]>();

  const service: NotificationsService = {
    tick,
    publicKey: vapid.publicKey,
    async afterRecompute(userId, setId) {
      const user = await getUser(db, userId).catch(() => null);
      const settings = (user?.preferences as { notifications?: NotificationSettings } | undefined)
        ?.notifications;
      if (!user || !settings?.newInsights) return;
      const today = wallTime(Date.now(), user.timezone).date;
      if (await noticeExists(db, userId, 'insight', today)) return;
      const finding = await newestFinding(db, userId, setId);
      if (!finding) return;
      await raise(
        { id: userId, timezone: user.timezone, settings },
        'insight',
        'insight',
        today,
        { kind: 'insight', insightId: finding.id, sentence: finding.sentence },
        Date.now(),
      );
    },
    async testWebhook(userId, webhookId) {
      const webhook = await getWebhook(db, userId, webhookId);
      const now = Date.now();
      const recent = (testsByUser.get(userId) ?? []).filter((at) => now - at < 60_000);
      if (recent.length >= WEBHOOK_TESTS_PER_MINUTE) {
        throw new DomainError(
          'TOO_MANY_REQUESTS',
          `at most ${WEBHOOK_TESTS_PER_MINUTE} webhook tests a minute`,
          {
            retryAfterSeconds: Math.ceil((60_000 - (now - (recent[0] as number))) / 1000),
          },
        );
      }
      recent.push(now);
      testsByUser.set(userId, recent);
      const composed = composeNotice({ kind: 'test' });
      const outcome = await webhooks.send({
        url: webhook.url,
        secret: webhook.secret,
        messageId: `msg_test_${randomUUID()}`,
        type: 'notification.test',
        data: { ...composed, url: absolute(composed.link) },
      });
      await recordWebhookAttempt(db, webhook.id, outcome, config.webhooksDisableAfter);
      return outcome;
    },
    unsubscribeUrl(userId) {
      return `${config.linkOrigin}/api/notifications/unsubscribe?token=${userId}.${sign(userId)}`;
    },
    verifyUnsubscribe(token) {
      const match = /^([0-9a-f-]{36})\.([A-Za-z0-9_-]{43})$/.exec(token);
      if (!match?.[1] || !match[2]) return null;
      const expected = Buffer.from(sign(match[1]));
      const given = Buffer.from(match[2]);
      return expected.length === given.length && timingSafeEqual(expected, given) ? match[1] : null;
    },
    async forgetUser(userId) {
      testsByUser.delete(userId);
      return (
        (await removeUserJobs(boss, NOTIFY_QUEUE, userId)) +
        (await removeUserJobs(boss, WEBHOOK_QUEUE, userId))
      );
    },
    queues: [
      {
        name: NOTIFY_QUEUE,
        options: { retryLimit: 3, retryDelay: 5, retryBackoff: true, expireInSeconds: 300 },
        work: { pollingIntervalSeconds: config.jobsPollSeconds, batchSize: 4 },
        handle: async (jobs) => {
          for (const job of jobs) await deliver(job.data as DeliverJob);
        },
      },
      {
        name: WEBHOOK_QUEUE,
        options: {
          retryLimit: config.webhooksRetryLimit,
          retryDelay: config.webhooksRetryDelaySeconds,
          retryBackoff: true,
          expireInSeconds: 120,
        },
        work: { pollingIntervalSeconds: config.jobsPollSeconds, batchSize: 1 },
        handle: async ([job]) => {
          if (job) await deliverWebhook(job.data as WebhookJob);
        },
      },
    ],
    async stop() {
      if (timer) clearInterval(timer);
      mailer?.close();
    },
  };

  // The queues exist before the first tick can send to them.
  await jobs.add(service.queues);
  let timer: NodeJS.Timeout | undefined;
  if (options.scheduler !== false) {
    timer = setInterval(() => {
      tick().catch((error: unknown) => log.error({ error: safeError(error) }, 'notification tick failed'));
    }, config.notificationsTickSeconds * 1000);
    timer.unref();
  }
  return service;
}
