// Calendar arithmetic on YYYY-MM-DD strings: pure integer day numbers (days since 1970-01-01 in the
// proleptic Gregorian calendar), no Date objects and no time zones.

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

/**
 * Day number of a civil date (H. Hinnant, "chrono-Compatible Low-Level Date Algorithms",
 * days_from_civil). Throws a RangeError for a malformed or impossible date such as 2023-02-29.
 */
export function dayNumber(date: string): number {
  const m = DATE_RE.exec(date);
  if (!m) throw new RangeError(`expected a YYYY-MM-DD date, got ${JSON.stringify(date)}`);
  const day = civilToDays(Number(m[1]), Number(m[2]), Number(m[3]));
  if (dateFromDayNumber(day) !== date) throw new RangeError(`not a calendar date: ${date}`);
  return day;
}

function civilToDays(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** YYYY-MM-DD of a day number (Hinnant, civil_from_days). */
export function dateFromDayNumber(dayNum: number): string {
  const z = dayNum + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  return `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
}

/** ISO weekday, 1 = Monday … 7 = Sunday (1970-01-01, day 0, was a Thursday). */
export function isoWeekday(dayNum: number): number {
  return ((((dayNum + 3) % 7) + 7) % 7) + 1;
}

/** The date `days` days after `date` (negative for before). */
export function addDays(date: string, days: number): string {
  return dateFromDayNumber(dayNumber(date) + days);
}

/** Whole days from `from` to `to` (negative when `to` is earlier). */
export function daysBetween(from: string, to: string): number {
  return dayNumber(to) - dayNumber(from);
}

/** Per time zone: its formatter, and the date it gave for the last minute asked about. */
const zoneDays = new Map<string, { format: Intl.DateTimeFormat; minute: number; date: string }>();

/** The local calendar date today in an IANA time zone (the one use of the clock and Intl here). */
export function localToday(timezone: string, now = new Date()): string {
  let zone = zoneDays.get(timezone);
  if (!zone) {
    // Building a formatter is costly (it loads time-zone data): one per zone, reused. en-CA formats
    // dates as YYYY-MM-DD.
    const format = new Intl.DateTimeFormat('en-CA', {
      timeZone: timezone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
    });
    zone = { format, minute: Number.NaN, date: '' };
    zoneDays.set(timezone, zone);
  }
  // Every zone's offset has been a whole number of minutes since 1972, so a local date changes only
  // on a minute's boundary: the answer for an instant holds for the rest of its minute. Formatting
  // costs tens of microseconds, and every write asks.
  const minute = Math.floor(now.getTime() / 60_000);
  if (minute !== zone.minute) {
    zone.date = zone.format.format(now);
    zone.minute = minute;
  }
  return zone.date;
}
