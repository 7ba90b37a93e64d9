import type { NotificationSettings } from '@lifexp/contracts';
import { addDays, wallTime, weekdayOf, zonedInstant } from './zoned';

/** How far back a tick looks for scheduled notices: a tick that comes late still finds them. */
export const CATCH_UP_MS = 15 * 60_000;

/** A scheduled notice that is due: what, for which local date, and when it was meant to fire. */
export interface DueNotice {
  kind: 'reminder' | 'streak' | 'weekly';
  /** Unique per user and local date: with the date, the key that makes a notice happen once. */
  key: string;
  localDate: string;
  /** The instant it was scheduled for (ms since the epoch). */
  scheduledAt: number;
  /** A reminder's metrics, if it names any. */
  metricIds?: string[];
}

/** Every notice the settings schedule on one local date, with the instant each is meant to fire. */
function scheduledOn(settings: NotificationSettings, date: string, timeZone: string): DueNotice[] {
  const out: DueNotice[] = [];
  const weekday = weekdayOf(date);
  for (const reminder of settings.reminders ?? []) {
    if (reminder.days && !reminder.days.includes(weekday)) continue;
    out.push({
      kind: 'reminder',
      key: `reminder:${reminder.time}`,
      localDate: date,
      scheduledAt: zonedInstant(date, reminder.time, timeZone),
      ...(reminder.metricIds?.length ? { metricIds: reminder.metricIds } : {}),
    });
  }
  const streak = settings.streakAtRisk;
  if (streak?.enabled)
    out.push({
      kind: 'streak',
      key: 'streak',
      localDate: date,
      scheduledAt: zonedInstant(date, streak.time, timeZone),
    });
  const weekly = settings.weeklySummary;
  if (weekly?.enabled && weekly.day === weekday)
    out.push({
      kind: 'weekly',
      key: 'weekly',
      localDate: date,
      scheduledAt: zonedInstant(date, weekly.time, timeZone),
    });
  return out;
}

/**
 * The scheduled notices whose moment lies in (now − window, now], in the user's own time zone (a
 * window of at most a day). The scheduler runs this for each user whose next notice has come; a
 * window longer than the tick lets a tick that came late (a busy or restarting server) still catch
 * the notice, and the unique key in the database keeps it to one. Pure: same inputs, same answer.
 */
export function dueNotices(
  settings: NotificationSettings | undefined | null,
  timeZone: string,
  now: number,
  windowMs: number,
): DueNotice[] {
  if (!settings) return [];
  const today = wallTime(now, timeZone).date;
  // The window may reach back over local midnight: look at yesterday too.
  return [addDays(today, -1), today].flatMap((date) =>
    scheduledOn(settings, date, timeZone).filter(
      (n) => n.scheduledAt <= now && n.scheduledAt > now - windowMs,
    ),
  );
}

/**
 * The first instant after `after` at which the settings schedule a notice, or null when they schedule
 * none. The scheduler stores it per user, so that a tick reads only the users whose moment has come:
 * every moment dueNotices can find lies at or after it. Looks 8 local days ahead, which covers a
 * weekly summary and reminders on one weekday.
 */
export function nextNoticeAt(
  settings: NotificationSettings | undefined | null,
  timeZone: string,
  after: number,
): number | null {
  if (!settings) return null;
  const today = wallTime(after, timeZone).date;
  let next: number | null = null;
  for (let day = -1; day <= 8; day++) {
    for (const notice of scheduledOn(settings, addDays(today, day), timeZone)) {
      if (notice.scheduledAt > after && (next === null || notice.scheduledAt < next))
        next = notice.scheduledAt;
    }
    // A later date's moments all come after its local midnight (a time's first occurrence grows with
    // the time): once one is found before that midnight, no later date can hold an earlier one.
    if (next !== null && next < zonedInstant(addDays(today, day + 1), '00:00', timeZone)) break;
  }
  return next;
}

/**
 * When a notice due at `instant` may go out: at once, or — inside quiet hours — when they end. Quiet
 * hours from 22:00 to 07:00 wrap past midnight.
 */
export function releaseTime(
  instant: number,
  quiet: NotificationSettings['quietHours'],
  timeZone: string,
): number {
  if (!quiet) return instant;
  const { date, time } = wallTime(instant, timeZone);
  const wraps = quiet.end < quiet.start;
  const inside = wraps ? time >= quiet.start || time < quiet.end : time >= quiet.start && time < quiet.end;
  if (!inside) return instant;
  const endDate = wraps && time >= quiet.start ? addDays(date, 1) : date;
  return Math.max(instant, zonedInstant(endDate, quiet.end, timeZone));
}
