import { z } from 'zod';
import { id, text } from './primitives';

// Notification settings (preferences.notifications), the in-app list, Web Push subscriptions and
// webhook endpoints. Times are the user's local wall-clock times in their own time zone.

/** A local time of day as `HH:MM` (24-hour). */
export const clockTime = z
  .string()
  .regex(/^([01]\d|2[0-3]):[0-5]\d$/, { error: 'must be a local time as HH:MM (00:00 to 23:59)' });

/** 0 = Sunday … 6 = Saturday, as `weekStartsOn`. */
export const weekday = z.number().int().min(0).max(6);

export const MAX_REMINDERS = 10;
export const MAX_REMINDER_METRICS = 20;

export const reminderSetting = z.strictObject({
  time: clockTime,
  /** The days it fires on; every day when left out. */
  days: z
    .array(weekday)
    .min(1, { error: 'give at least one day' })
    .max(7)
    .refine((days) => new Set(days).size === days.length, { error: 'must not repeat a day' })
    .optional(),
  /** It fires only if one of these metrics has no entry today; without any, only if nothing is logged today. */
  metricIds: z
    .array(id)
    .max(MAX_REMINDER_METRICS)
    .refine((ids) => new Set(ids).size === ids.length, { error: 'must not repeat a metric' })
    .optional(),
});
export type ReminderSetting = z.infer<typeof reminderSetting>;

export const notificationChannels = ['inApp', 'push', 'webhook', 'email'] as const;
export type NotificationChannel = (typeof notificationChannels)[number];

export const notificationSettings = z.strictObject({
  reminders: z
    .array(reminderSetting)
    .max(MAX_REMINDERS, { error: `at most ${MAX_REMINDERS} reminders` })
    .refine((list) => new Set(list.map((reminder) => reminder.time)).size === list.length, {
      error: 'two reminders must not share a time: put their metrics in one',
    })
    .optional(),
  /** A streak of at least 3 days with nothing logged today, at this time. */
  streakAtRisk: z.strictObject({ enabled: z.boolean(), time: clockTime }).optional(),
  /** A new significant, non-tentative finding after the insights are recomputed. */
  newInsights: z.boolean().optional(),
  weeklySummary: z.strictObject({ enabled: z.boolean(), day: weekday, time: clockTime }).optional(),
  /** Notices due from `start` until `end` (wrapping past midnight when end < start) wait until `end`. */
  quietHours: z
    .strictObject({ start: clockTime, end: clockTime })
    .refine((quiet) => quiet.start !== quiet.end, { error: 'start and end must differ' })
    .optional(),
  /** Each channel on or off; left out: in-app, Web Push and webhooks on, email off. */
  channels: z
    .strictObject({
      inApp: z.boolean().optional(),
      push: z.boolean().optional(),
      webhook: z.boolean().optional(),
      email: z.boolean().optional(),
    })
    .optional(),
});
export type NotificationSettings = z.infer<typeof notificationSettings>;

export const defaultChannels: Record<NotificationChannel, boolean> = {
  inApp: true,
  push: true,
  webhook: true,
  email: false,
};

export const noticeKinds = ['reminder', 'streak', 'insight', 'weekly', 'webhook-disabled', 'test'] as const;
export type NoticeKind = (typeof noticeKinds)[number];

/** One notice as the in-app list and the `notification` sync event carry it. */
export const notification = z
  .object({
    id: z.string(),
    kind: z.enum(noticeKinds),
    /** The user's local date it belongs to. */
    localDate: z.string(),
    title: z.string(),
    body: z.string(),
    /** A path of the dashboard (e.g. `/log?date=2026-11-30`). */
    link: z.string(),
    data: z.record(z.string(), z.unknown()),
    readAt: z.string().nullable(),
    createdAt: z.string(),
    deliveredAt: z.string().nullable(),
  })
  .meta({ id: 'Notification' });
export type Notification = z.infer<typeof notification>;

/** A page of delivered in-app notices, newest first, with the count of unread ones. */
export const notificationPage = z
  .object({ items: z.array(notification), nextCursor: z.string().nullable(), unread: z.number().int() })
  .meta({ id: 'NotificationPage' });

/** How many notices a read mark changed. */
export const notificationsUpdated = z
  .object({ updated: z.number().int() })
  .meta({ id: 'NotificationsUpdated' });

/** The VAPID public key for `pushManager.subscribe()` (`applicationServerKey`). */
export const pushPublicKey = z.object({ publicKey: z.string() }).meta({ id: 'PushPublicKey' });

/** The stored push subscription (one per endpoint: subscribing again refreshes its keys). */
export const pushSubscribed = z.object({ id: z.string() }).meta({ id: 'PushSubscribed' });

/** How many subscriptions an unsubscribe removed (0 when the endpoint was not the caller's). */
export const pushRemoved = z.object({ removed: z.number().int() }).meta({ id: 'PushRemoved' });

export const NOTIFICATIONS_PAGE_MAX = 100;

export const listNotificationsInput = z
  .strictObject({
    limit: z.number().int().min(1).max(NOTIFICATIONS_PAGE_MAX).default(20),
    /** The `nextCursor` of the previous page. */
    cursor: text().max(100).optional(),
    unreadOnly: z.boolean().default(false),
  })
  .default({ limit: 20, unreadOnly: false });

export const markReadInput = z.strictObject({
  ids: z
    .array(id)
    .min(1)
    .max(NOTIFICATIONS_PAGE_MAX, { error: `at most ${NOTIFICATIONS_PAGE_MAX} ids at once` }),
});

/** A URL a user gives the server to call: http(s), no credentials, bounded. */
const outboundUrl = (protocols: string[]) =>
  text()
    .max(2048)
    .refine(
      (value) => {
        if (!URL.canParse(value)) return false;
        const url = new URL(value);
        return protocols.includes(url.protocol) && !url.username && !url.password && url.hostname !== '';
      },
      { error: `must be an ${protocols.map((p) => p.slice(0, -1)).join(' or ')} URL without credentials` },
    );

const base64url = (min: number, max: number) =>
  z
    .string()
    .min(min)
    .max(max)
    .regex(/^[A-Za-z0-9_-]+={0,2}$/, { error: 'must be base64url' });

/** A browser's PushSubscription as `toJSON()` gives it. */
export const pushSubscribeInput = z.object({
  endpoint: outboundUrl(['https:']),
  expirationTime: z.number().nullable().optional(),
  keys: z.strictObject({ p256dh: base64url(80, 100), auth: base64url(16, 32) }),
});

export const pushUnsubscribeInput = z.strictObject({ endpoint: text().max(2048) });

export const createWebhookInput = z.strictObject({
  url: outboundUrl(['https:', 'http:']),
  description: text().trim().max(200).optional(),
});

export const webhookIdInput = z.strictObject({ id });

export const webhookEndpoint = z
  .object({
    id: z.string(),
    url: z.string(),
    description: z.string().nullable(),
    enabled: z.boolean(),
    consecutiveFailures: z.number().int(),
    disabledAt: z.string().nullable(),
    lastError: z.string().nullable(),
    createdAt: z.string(),
  })
  .meta({ id: 'Webhook' });
export type WebhookEndpoint = z.infer<typeof webhookEndpoint>;

export const webhookList = z.array(webhookEndpoint).meta({ id: 'WebhookList' });

/** A new endpoint with its signing secret: this answer is the only place the secret is shown. */
export const webhookCreated = webhookEndpoint.extend({ secret: z.string() }).meta({ id: 'WebhookCreated' });

/** The answer of a signed test message: the receiver's status, or what went wrong. */
export const webhookTestResult = z
  .object({ ok: z.boolean(), status: z.number().int().nullable(), error: z.string().nullable() })
  .meta({ id: 'WebhookTestResult' });
