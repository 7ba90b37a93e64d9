import type { NotificationSettings } from '@lifexp/contracts';
import { addDays, wallTime, weekdayOf, zonedInstant } from './zoned';

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

/**
 * The scheduled notices whose moment lies in (now − window, now], in the user's own time zone. The
 * scheduler runs this every tick; a window longer than the tick lets a tick that came late (a busy or
 * restarting server) still catch the notice, and the unique key in the database keeps it to one.
 * Pure: same inputs, same answer.
 */
export function dueNotices(
  settings: NotificationSettings | undefined,
  timeZone: string,
  now: number,
  windowMs: number,
): DueNotice[] {
  if (!settings) return [];
  const due: DueNotice[] = [];
  const today = wallTime(now, timeZone).date;
  // The window may reach back over local midnight: look at yesterday too.
  for (const date of [addDays(today, -1), today]) {
    const weekday = weekdayOf(date);
    const inWindow = (time: string) => {
      const at = zonedInstant(date, time, timeZone);
      return at <= now && at > now - windowMs ? at : null;
    };
    for (const reminder of settings.reminders ?? []) {
      if (reminder.days && !reminder.days.includes(weekday)) continue;
      const at = inWindow(reminder.time);
      if (at === null) continue;
      due.push({
        kind: 'reminder',
        key: `reminder:${reminder.time}`,
        localDate: date,
        scheduledAt: at,
        ...(reminder.metricIds?.length ? { metricIds: reminder.metricIds } : {}),
      });
    }
    const streak = settings.streakAtRisk;
    if (streak?.enabled) {
      const at = inWindow(streak.time);
      if (at !== null) due.push({ kind: 'streak', key: 'streak', localDate: date, scheduledAt: at });
    }
    const weekly = settings.weeklySummary;
    if (weekly?.enabled && weekly.day === weekday) {
      const at = inWindow(weekly.time);
      if (at !== null) due.push({ kind: 'weekly', key: 'weekly', localDate: date, scheduledAt: at });
    }
  }
  return due;
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
