// Wall-clock arithmetic in IANA time zones with the runtime's Intl data, minute-exact (half-hour and
// 45-minute zones included), DST gaps and overlaps resolved the way a person expects.

const MINUTE = 60_000;
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let format = formatters.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      weekday: 'short',
    });
    formatters.set(timeZone, format);
  }
  return format;
}

export interface WallTime {
  /** YYYY-MM-DD */
  date: string;
  /** HH:MM */
  time: string;
  /** 0 = Sunday … 6 = Saturday */
  weekday: number;
}

const WEEKDAYS: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };

/** The local date, time (to the minute) and weekday of an instant in a time zone. */
export function wallTime(instant: number, timeZone: string): WallTime {
  const parts: Record<string, string> = {};
  for (const part of formatter(timeZone).formatToParts(new Date(instant))) parts[part.type] = part.value;
  return {
    date: `${parts.year}-${parts.month}-${parts.day}`,
    time: `${parts.hour}:${parts.minute}`,
    weekday: WEEKDAYS[parts.weekday as string] ?? 0,
  };
}

/** The zone's offset from UTC at an instant, in ms (local − UTC), to the minute. */
function offsetAt(instant: number, timeZone: string): number {
  const wall = wallTime(instant, timeZone);
  const floored = Math.floor(instant / MINUTE) * MINUTE;
  return naiveUtc(wall.date, wall.time) - floored;
}

function naiveUtc(date: string, time: string): number {
  const [year, month, day] = date.split('-').map(Number) as [number, number, number];
  const [hour, minute] = time.split(':').map(Number) as [number, number];
  return Date.UTC(year, month - 1, day, hour, minute);
}

/**
 * The instant a local date and time happen in a zone. A time that happens twice (the hour repeated
 * when clocks go back) is its first occurrence; a time that does not exist (skipped when clocks go
 * forward) is the moment the clocks jump, which local clocks show as the end of the gap: 02:30 on a
 * spring-forward day in New York is 03:00.
 */
export function zonedInstant(date: string, time: string, timeZone: string): number {
  const naive = naiveUtc(date, time);
  const before = offsetAt(naive - 36 * 3_600_000, timeZone);
  const after = offsetAt(naive + 36 * 3_600_000, timeZone);
  const matches = [...new Set([before, after])]
    .map((offset) => naive - offset)
    .filter((instant) => {
      const wall = wallTime(instant, timeZone);
      return wall.date === date && wall.time === time;
    });
  if (matches.length > 0) return Math.min(...matches);
  // In a gap: the first minute at or after the earliest candidate whose wall time is past `time`.
  let low = naive - Math.max(before, after);
  let high = naive - Math.min(before, after);
  while (high - low > MINUTE) {
    const middle = low + Math.floor((high - low) / 2 / MINUTE) * MINUTE;
    const wall = wallTime(middle, timeZone);
    if (wall.date > date || (wall.date === date && wall.time > time)) high = middle;
    else low = middle;
  }
  return high;
}

/** The calendar date `days` after `date`. */
export function addDays(date: string, days: number): string {
  const [year, month, day] = date.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(year, month - 1, day + days)).toISOString().slice(0, 10);
}

/** 0 = Sunday … 6 = Saturday of a calendar date. */
export function weekdayOf(date: string): number {
  const [year, month, day] = date.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(year, month - 1, day)).getUTCDay();
}
