import type { NotificationSettings } from '@lifexp/contracts';
import { describe, expect, it } from 'vitest';
import { dueNotices, nextNoticeAt, releaseTime, wallTime, zonedInstant } from '../src';

const MINUTE = 60_000;
const at = (iso: string) => Date.parse(iso);

/** Every minute from `from` to `to` (UTC instants), as a scheduler ticking once a minute would see them. */
function minutes(from: string, to: string): number[] {
  const out: number[] = [];
  for (let t = at(from); t <= at(to); t += MINUTE) out.push(t);
  return out;
}

/**
 * Runs a once-a-minute scheduler over a span with a store of what fired (the unique key), and
 * returns each firing: when it was found and what it was.
 */
function simulate(
  settings: NotificationSettings,
  zone: string,
  from: string,
  to: string,
  windowMs = 15 * MINUTE,
) {
  const fired = new Map<string, { tick: string; scheduledAt: string; localDate: string }>();
  for (const now of minutes(from, to)) {
    for (const notice of dueNotices(settings, zone, now, windowMs)) {
      const key = `${notice.key}|${notice.localDate}`;
      if (!fired.has(key))
        fired.set(key, {
          tick: new Date(now).toISOString(),
          scheduledAt: new Date(notice.scheduledAt).toISOString(),
          localDate: notice.localDate,
        });
    }
  }
  return [...fired.entries()].map(([key, value]) => ({ key, ...value }));
}

describe('zonedInstant', () => {
  it('resolves ordinary, half-hour and 45-minute zones to the minute', () => {
    expect(new Date(zonedInstant('2026-06-15', '09:30', 'Asia/Kolkata')).toISOString()).toBe(
      '2026-06-15T04:00:00.000Z',
    );
    expect(new Date(zonedInstant('2026-01-15', '08:00', 'Australia/Adelaide')).toISOString()).toBe(
      '2026-01-14T21:30:00.000Z',
    );
    expect(new Date(zonedInstant('2026-07-15', '08:00', 'Australia/Adelaide')).toISOString()).toBe(
      '2026-07-14T22:30:00.000Z',
    );
    expect(new Date(zonedInstant('2026-06-15', '12:00', 'Asia/Kathmandu')).toISOString()).toBe(
      '2026-06-15T06:15:00.000Z',
    );
    expect(new Date(zonedInstant('2026-06-15', '00:00', 'UTC')).toISOString()).toBe(
      '2026-06-15T00:00:00.000Z',
    );
  });

  it('a time skipped by spring-forward is the moment the clocks jump (02:30 → 03:00 in New York)', () => {
    const instant = zonedInstant('2026-03-08', '02:30', 'America/New_York');
    expect(new Date(instant).toISOString()).toBe('2026-03-08T07:00:00.000Z');
    expect(wallTime(instant, 'America/New_York')).toMatchObject({ date: '2026-03-08', time: '03:00' });
  });

  it('a time repeated by fall-back is its first occurrence (01:30 EDT, not EST)', () => {
    expect(new Date(zonedInstant('2026-11-01', '01:30', 'America/New_York')).toISOString()).toBe(
      '2026-11-01T05:30:00.000Z',
    );
  });

  it('Adelaide: 02:30 on its spring-forward day (first Sunday of October) is 03:00', () => {
    const instant = zonedInstant('2026-10-04', '02:30', 'Australia/Adelaide');
    expect(wallTime(instant, 'Australia/Adelaide')).toMatchObject({ date: '2026-10-04', time: '03:00' });
  });
});

describe('dueNotices with a fixed clock, minute by minute', () => {
  const daily = (time: string): NotificationSettings => ({ reminders: [{ time }] });

  it('New York, spring-forward day: a 02:30 reminder fires once, at 03:00 local', () => {
    const fired = simulate(
      daily('02:30'),
      'America/New_York',
      '2026-03-08T05:00:00Z',
      '2026-03-08T09:00:00Z',
    );
    expect(fired).toEqual([
      {
        key: 'reminder:02:30|2026-03-08',
        tick: '2026-03-08T07:00:00.000Z',
        scheduledAt: '2026-03-08T07:00:00.000Z',
        localDate: '2026-03-08',
      },
    ]);
  });

  it('New York, fall-back day: a 01:30 reminder fires once, at the first 01:30', () => {
    const fired = simulate(
      daily('01:30'),
      'America/New_York',
      '2026-11-01T04:00:00Z',
      '2026-11-01T08:00:00Z',
    );
    expect(fired).toEqual([
      {
        key: 'reminder:01:30|2026-11-01',
        tick: '2026-11-01T05:30:00.000Z',
        scheduledAt: '2026-11-01T05:30:00.000Z',
        localDate: '2026-11-01',
      },
    ]);
  });

  it('New York, ordinary days around the change: once a day at the local minute', () => {
    const fired = simulate(
      daily('08:00'),
      'America/New_York',
      '2026-03-07T00:00:00Z',
      '2026-03-10T00:00:00Z',
    );
    expect(fired.map((f) => [f.localDate, f.tick])).toEqual([
      ['2026-03-07', '2026-03-07T13:00:00.000Z'],
      ['2026-03-08', '2026-03-08T12:00:00.000Z'],
      ['2026-03-09', '2026-03-09T12:00:00.000Z'],
    ]);
  });

  it('Asia/Kolkata (+05:30): fires at 21:45 local, the local date even when UTC is a day behind', () => {
    const fired = simulate(daily('21:45'), 'Asia/Kolkata', '2026-06-15T00:00:00Z', '2026-06-16T00:00:00Z');
    expect(fired.map((f) => [f.localDate, f.tick])).toEqual([['2026-06-15', '2026-06-15T16:15:00.000Z']]);
    const early = simulate(daily('00:15'), 'Asia/Kolkata', '2026-06-15T12:00:00Z', '2026-06-16T12:00:00Z');
    expect(early.map((f) => [f.localDate, f.tick])).toEqual([['2026-06-16', '2026-06-15T18:45:00.000Z']]);
  });

  it('Australia/Adelaide (+09:30/+10:30) across its DST change: 07:15 local each day', () => {
    const fired = simulate(
      daily('07:15'),
      'Australia/Adelaide',
      '2026-10-02T12:00:00Z',
      '2026-10-06T12:00:00Z',
    );
    expect(fired.map((f) => [f.localDate, f.tick])).toEqual([
      ['2026-10-03', '2026-10-02T21:45:00.000Z'],
      ['2026-10-04', '2026-10-03T20:45:00.000Z'],
      ['2026-10-05', '2026-10-04T20:45:00.000Z'],
      ['2026-10-06', '2026-10-05T20:45:00.000Z'],
    ]);
  });

  it('only on the chosen weekdays; streak and weekly summary at their own times', () => {
    const settings: NotificationSettings = {
      reminders: [{ time: '20:00', days: [1, 3] }],
      streakAtRisk: { enabled: true, time: '21:00' },
      weeklySummary: { enabled: true, day: 0, time: '18:00' },
    };
    // 2026-11-29 is a Sunday.
    const fired = simulate(settings, 'Europe/Berlin', '2026-11-28T23:00:00Z', '2026-12-03T23:00:00Z');
    expect(fired.map((f) => f.key)).toEqual([
      'weekly|2026-11-29',
      'streak|2026-11-29',
      'reminder:20:00|2026-11-30',
      'streak|2026-11-30',
      'streak|2026-12-01',
      'reminder:20:00|2026-12-02',
      'streak|2026-12-02',
      'streak|2026-12-03',
    ]);
    const disabled = simulate(
      {
        streakAtRisk: { enabled: false, time: '21:00' },
        weeklySummary: { enabled: false, day: 0, time: '18:00' },
      },
      'Europe/Berlin',
      '2026-11-28T23:00:00Z',
      '2026-12-03T23:00:00Z',
    );
    expect(disabled).toEqual([]);
  });

  it('a late tick inside the catch-up window still finds it (for the right local date); later it does not', () => {
    const settings = daily('23:55');
    const late = dueNotices(settings, 'UTC', at('2026-06-16T00:05:00Z'), 15 * MINUTE);
    expect(late).toEqual([
      {
        kind: 'reminder',
        key: 'reminder:23:55',
        localDate: '2026-06-15',
        scheduledAt: at('2026-06-15T23:55:00Z'),
      },
    ]);
    expect(dueNotices(settings, 'UTC', at('2026-06-16T00:11:00Z'), 15 * MINUTE)).toEqual([]);
    expect(dueNotices(settings, 'UTC', at('2026-06-15T23:54:59Z'), 15 * MINUTE)).toEqual([]);
  });

  it('a reminder naming metrics carries them', () => {
    const ids = ['0b7e7f0c-4b1e-4d4b-9b7a-6e1f2b3c4d5e'];
    const [notice] = dueNotices(
      { reminders: [{ time: '10:00', metricIds: ids }] },
      'UTC',
      at('2026-06-15T10:00:00Z'),
      MINUTE,
    );
    expect(notice?.metricIds).toEqual(ids);
  });

  it('no settings, nothing due', () => {
    expect(dueNotices(undefined, 'UTC', Date.now(), CATCH)).toEqual([]);
    expect(dueNotices({}, 'UTC', Date.now(), CATCH)).toEqual([]);
  });
});

const CATCH = 15 * MINUTE;

describe('quiet hours', () => {
  it('hold a notice until they end, past midnight when they wrap', () => {
    const quiet = { start: '22:00', end: '07:00' };
    const zone = 'Asia/Kolkata';
    const evening = zonedInstant('2026-06-15', '23:10', zone);
    expect(wallTime(releaseTime(evening, quiet, zone), zone)).toMatchObject({
      date: '2026-06-16',
      time: '07:00',
    });
    const early = zonedInstant('2026-06-16', '05:00', zone);
    expect(wallTime(releaseTime(early, quiet, zone), zone)).toMatchObject({
      date: '2026-06-16',
      time: '07:00',
    });
    const day = zonedInstant('2026-06-16', '12:00', zone);
    expect(releaseTime(day, quiet, zone)).toBe(day);
    const atEnd = zonedInstant('2026-06-16', '07:00', zone);
    expect(releaseTime(atEnd, quiet, zone)).toBe(atEnd);
  });

  it('same-day quiet hours, and none at all', () => {
    const quiet = { start: '12:00', end: '14:00' };
    const lunch = zonedInstant('2026-06-16', '12:30', 'UTC');
    expect(new Date(releaseTime(lunch, quiet, 'UTC')).toISOString()).toBe('2026-06-16T14:00:00.000Z');
    expect(releaseTime(lunch, undefined, 'UTC')).toBe(lunch);
  });

  it('ending at a time skipped by spring-forward: released when the clocks jump', () => {
    const zone = 'America/New_York';
    const quiet = { start: '22:00', end: '02:30' };
    const night = zonedInstant('2026-03-07', '23:00', zone);
    expect(new Date(releaseTime(night, quiet, zone)).toISOString()).toBe('2026-03-08T07:00:00.000Z');
  });
});

describe('nextNoticeAt: the moment a tick needs to look at a user again', () => {
  /** The distinct instants reached by asking for the next moment again and again from `from`. */
  function chain(settings: NotificationSettings, zone: string, from: string, to: string): string[] {
    const out: string[] = [];
    let t = at(from);
    for (let next = nextNoticeAt(settings, zone, t); next !== null && next <= at(to); ) {
      out.push(new Date(next).toISOString());
      t = next;
      next = nextNoticeAt(settings, zone, t);
    }
    return out;
  }
  /** The distinct instants a once-a-minute scheduler fires at over the span. */
  const firings = (settings: NotificationSettings, zone: string, from: string, to: string) => [
    ...new Set(simulate(settings, zone, from, to).map((f) => f.scheduledAt)),
  ];

  const cases: [string, NotificationSettings, string, string, string][] = [
    [
      'New York across spring-forward (02:30 → 03:00)',
      { reminders: [{ time: '02:30' }, { time: '21:15', days: [0, 6] }] },
      'America/New_York',
      '2026-03-06T00:00:00Z',
      '2026-03-10T00:00:00Z',
    ],
    [
      'New York across fall-back (01:30 once)',
      { reminders: [{ time: '01:30' }], streakAtRisk: { enabled: true, time: '01:30' } },
      'America/New_York',
      '2026-10-30T00:00:00Z',
      '2026-11-03T00:00:00Z',
    ],
    [
      'Berlin: weekdays, streak and weekly summary',
      {
        reminders: [{ time: '20:00', days: [1, 3] }],
        streakAtRisk: { enabled: true, time: '21:00' },
        weeklySummary: { enabled: true, day: 0, time: '18:00' },
      },
      'Europe/Berlin',
      '2026-11-27T00:00:00Z',
      '2026-12-05T00:00:00Z',
    ],
    [
      'Kolkata (+05:30), a weekly summary alone',
      { weeklySummary: { enabled: true, day: 3, time: '07:45' } },
      'Asia/Kolkata',
      '2026-11-20T00:00:00Z',
      '2026-12-06T00:00:00Z',
    ],
  ];
  for (const [name, settings, zone, from, to] of cases) {
    it(`${name}: asking again and again reaches exactly the moments the scheduler fires at`, () => {
      const expected = firings(settings, zone, from, to);
      expect(expected.length).toBeGreaterThan(0);
      expect(chain(settings, zone, from, to)).toEqual(expected);
    });
  }

  it('is strictly after the given instant, and null when nothing is scheduled', () => {
    const settings: NotificationSettings = { reminders: [{ time: '09:00' }] };
    const nine = at('2026-06-15T09:00:00Z');
    expect(nextNoticeAt(settings, 'UTC', nine - 1)).toBe(nine);
    expect(nextNoticeAt(settings, 'UTC', nine)).toBe(nine + 86_400_000);
    expect(nextNoticeAt(undefined, 'UTC', nine)).toBeNull();
    expect(nextNoticeAt(null, 'UTC', nine)).toBeNull();
    const off: NotificationSettings = {
      reminders: [],
      streakAtRisk: { enabled: false, time: '21:00' },
      weeklySummary: { enabled: false, day: 0, time: '18:00' },
      quietHours: { start: '22:00', end: '07:00' },
    };
    expect(nextNoticeAt(off, 'Europe/Berlin', nine)).toBeNull();
  });
});
