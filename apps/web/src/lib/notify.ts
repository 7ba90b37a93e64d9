import { defaultChannels, type NotificationSettings, type ReminderSetting } from '@lifexp/contracts';
import type { ApiErrorData } from './format';

// Pure helpers of the notification screens: no React, no I/O (unit-tested on their own).

/** A node of zod's treeified error, as the API sends it in `data.zodError`. */
interface IssueTree {
  errors?: string[];
  properties?: Record<string, IssueTree>;
  items?: (IssueTree | null | undefined)[];
}

/**
 * The messages of the schema error at exactly this input path (e.g.
 * `['preferences', 'notifications', 'reminders', 0, 'time']`), joined; undefined when there is none.
 */
export function issueAt(
  error: { data?: ApiErrorData | null } | null | undefined,
  path: readonly (string | number)[],
): string | undefined {
  let node = error?.data?.zodError as IssueTree | null | undefined;
  for (const step of path) {
    if (!node) return undefined;
    node = typeof step === 'number' ? node.items?.[step] : node.properties?.[step];
  }
  return node?.errors?.length ? node.errors.join('; ') : undefined;
}

/** Every path in the error tree that carries messages (to tell whether a form shows them all). */
export function issuePaths(error: { data?: ApiErrorData | null } | null | undefined): string[] {
  const paths: string[] = [];
  const walk = (node: IssueTree | null | undefined, path: string) => {
    if (!node) return;
    if (node.errors?.length) paths.push(path);
    for (const [key, child] of Object.entries(node.properties ?? {})) walk(child, `${path}/${key}`);
    for (const [index, child] of (node.items ?? []).entries()) walk(child, `${path}/${index}`);
  };
  walk(error?.data?.zodError as IssueTree | null | undefined, '');
  return paths;
}

export const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'] as const;
export const WEEKDAY_NAMES = [
  'Sunday',
  'Monday',
  'Tuesday',
  'Wednesday',
  'Thursday',
  'Friday',
  'Saturday',
] as const;

/** The days of the week in the order the person's week runs (0 = Sunday … 6 = Saturday). */
export function weekOrder(weekStartsOn: number): number[] {
  return Array.from({ length: 7 }, (_, index) => (weekStartsOn + index) % 7);
}

/** The settings form: every part present, so each control has a value. */
export interface SettingsForm {
  reminders: { time: string; days: number[]; metricIds: string[] }[];
  streakAtRisk: { enabled: boolean; time: string };
  newInsights: boolean;
  weeklySummary: { enabled: boolean; day: number; time: string };
  quietHours: { enabled: boolean; start: string; end: string };
  channels: { inApp: boolean; push: boolean; webhook: boolean; email: boolean };
}

const ALL_DAYS = [0, 1, 2, 3, 4, 5, 6];

/** The stored settings (or none) as the form shows them, with the server's defaults filled in. */
export function settingsToForm(settings: NotificationSettings | null | undefined): SettingsForm {
  return {
    reminders: (settings?.reminders ?? []).map((reminder) => ({
      time: reminder.time,
      days: reminder.days ? [...reminder.days].sort((a, b) => a - b) : [...ALL_DAYS],
      metricIds: reminder.metricIds ?? [],
    })),
    streakAtRisk: settings?.streakAtRisk ?? { enabled: false, time: '20:00' },
    newInsights: settings?.newInsights ?? false,
    weeklySummary: settings?.weeklySummary ?? { enabled: false, day: 0, time: '18:00' },
    quietHours: settings?.quietHours
      ? { enabled: true, ...settings.quietHours }
      : { enabled: false, start: '22:00', end: '07:00' },
    channels: { ...defaultChannels, ...settings?.channels },
  };
}

/**
 * The form as the settings object `users.updatePreferences` stores (the whole key). A reminder on
 * every day leaves `days` out, one without metrics leaves `metricIds` out, quiet hours turned off
 * are left out. Nothing is checked here: the server's schema is the one rule, and its errors come
 * back with their paths.
 */
export function formToSettings(form: SettingsForm): NotificationSettings {
  const reminders: ReminderSetting[] = form.reminders.map((reminder) => {
    const days = [...reminder.days].sort((a, b) => a - b);
    return {
      time: reminder.time,
      ...(days.length === 7 && days.every((day, index) => day === index) ? {} : { days }),
      ...(reminder.metricIds.length > 0 ? { metricIds: reminder.metricIds } : {}),
    };
  });
  return {
    reminders,
    streakAtRisk: { ...form.streakAtRisk },
    newInsights: form.newInsights,
    weeklySummary: { ...form.weeklySummary },
    ...(form.quietHours.enabled
      ? { quietHours: { start: form.quietHours.start, end: form.quietHours.end } }
      : {}),
    channels: { ...form.channels },
  };
}

/** A new reminder's time: the hour after the latest one, so two never start out on the same time. */
export function nextReminderTime(existing: readonly { time: string }[]): string {
  if (existing.length === 0) return '20:00';
  const latest =
    existing
      .map((reminder) => reminder.time)
      .sort()
      .at(-1) ?? '20:00';
  const hour = (Number(latest.slice(0, 2)) + 1) % 24;
  return `${String(hour).padStart(2, '0')}:${latest.slice(3, 5) || '00'}`;
}

/**
 * A notice's link as a path of this dashboard, or null when it is not one (an absolute URL of
 * another site, a protocol-relative `//host`, a `javascript:` URL): the feed follows app paths only.
 */
export function appPath(link: string): string | null {
  if (!link.startsWith('/') || link.startsWith('//') || link.startsWith('/\\')) return null;
  try {
    const url = new URL(link, 'http://app.invalid');
    return url.origin === 'http://app.invalid' ? `${url.pathname}${url.search}${url.hash}` : null;
  } catch {
    return null;
  }
}

/** "3 min ago", "2 h ago", "yesterday", else the date: when a notice arrived, as a person says it. */
export function timeAgo(iso: string, now: number, locale?: string): string {
  const then = Date.parse(iso);
  if (!Number.isFinite(then)) return '';
  const minutes = Math.round((now - then) / 60_000);
  if (minutes < 1) return 'just now';
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.round(minutes / 60);
  if (hours < 24) return `${hours} h ago`;
  if (hours < 48) return 'yesterday';
  return new Date(then).toLocaleDateString(locale, { day: 'numeric', month: 'short', year: 'numeric' });
}

/** The VAPID key (base64url) as the bytes `pushManager.subscribe` takes for applicationServerKey. */
export function base64UrlToBytes(text: string): Uint8Array<ArrayBuffer> {
  const base64 = text.replace(/-/g, '+').replace(/_/g, '/').replace(/=+$/, '');
  const padded = base64 + '='.repeat((4 - (base64.length % 4)) % 4);
  const binary = atob(padded);
  const bytes = new Uint8Array(new ArrayBuffer(binary.length));
  for (let index = 0; index < binary.length; index += 1) bytes[index] = binary.charCodeAt(index);
  return bytes;
}

/** What this browser offers for Web Push, from the features it has (pure: the caller looks them up). */
export type PushSupport =
  | { ok: true }
  | { ok: false; reason: 'insecure' | 'no-service-worker' | 'no-push' | 'no-notifications' | 'denied' };

export function pushSupport(features: {
  secureContext: boolean;
  serviceWorker: boolean;
  pushManager: boolean;
  notification: boolean;
  permission: NotificationPermission | undefined;
}): PushSupport {
  if (!features.secureContext) return { ok: false, reason: 'insecure' };
  if (!features.serviceWorker) return { ok: false, reason: 'no-service-worker' };
  if (!features.pushManager) return { ok: false, reason: 'no-push' };
  if (!features.notification) return { ok: false, reason: 'no-notifications' };
  if (features.permission === 'denied') return { ok: false, reason: 'denied' };
  return { ok: true };
}

/** Why push cannot be turned on here, in plain words. */
export const PUSH_UNAVAILABLE: Record<Exclude<PushSupport, { ok: true }>['reason'], string> = {
  insecure: 'Push notifications need a secure (HTTPS) connection to this site.',
  'no-service-worker': 'This browser cannot run the background worker push notifications need.',
  'no-push': 'This browser does not support push notifications.',
  'no-notifications': 'This browser cannot show notifications.',
  denied:
    'Notifications are blocked for this site. Allow them in your browser’s site settings, then try again.',
};
