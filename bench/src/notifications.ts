// Benchmark of the notification scheduler tick with many users who have settings, on PostgreSQL:
// the tick as it runs (only the users whose next moment has come), against the earlier tick's read
// and schedule computation over every user with settings, measured in the same process.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { seededRandom } from '@lifexp/analytics';
import { createLogger, loadConfig } from '@lifexp/config';
import type { NotificationSettings } from '@lifexp/contracts';
import { CATCH_UP_MS, dueNotices } from '@lifexp/notifications';
import { startServer } from '@lifexp/server/runtime';
import postgres from 'postgres';
import {
  machineLine,
  numberFlag,
  percentile,
  ratio,
  round,
  serverEnv,
  withThrowawayDatabase,
} from './support';

const ZONES = [
  'UTC',
  'Europe/Berlin',
  'America/New_York',
  'Asia/Kolkata',
  'Australia/Adelaide',
  'Asia/Tokyo',
];

/** One person's settings: one to three reminders, half with a streak warning, a third with a weekly summary. */
function settingsFor(rand: () => number): NotificationSettings {
  const time = () =>
    `${String(Math.floor(rand() * 24)).padStart(2, '0')}:${String(Math.floor(rand() * 60)).padStart(2, '0')}`;
  const times = [...new Set(Array.from({ length: 1 + Math.floor(rand() * 3) }, time))];
  return {
    reminders: times.map((t) => ({ time: t })),
    streakAtRisk: { enabled: rand() < 0.5, time: time() },
    weeklySummary: { enabled: rand() < 0.33, day: Math.floor(rand() * 7), time: time() },
  };
}

type Stats = { median: number; p99: number; stallMs: number };

/** Runs `fn` once per minute instant, timing each run and the longest event-loop stall over all of them. */
async function perMinute(minutes: number[], fn: (now: number) => Promise<unknown>): Promise<Stats> {
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  const ms: number[] = [];
  for (const now of minutes) {
    const t0 = performance.now();
    await fn(now);
    ms.push(performance.now() - t0);
  }
  loop.disable();
  ms.sort((a, b) => a - b);
  return { median: percentile(ms, 50), p99: percentile(ms, 99), stallMs: loop.max / 1e6 };
}

export async function runNotificationsBench(): Promise<void> {
  const users = numberFlag('users', 20_000, 1, 1_000_000);
  const ticks = numberFlag('ticks', 30, 1, 1440);
  console.log(machineLine());
  await withThrowawayDatabase(async ({ url }) => {
    const config = loadConfig({ ...serverEnv(url, 10), NOTIFICATIONS_TICK_SECONDS: '3600' });
    const server = await startServer(config, { log: createLogger({ logLevel: 'silent' }) });
    const sql = postgres(url, { max: 2, onnotice: () => {} });
    try {
      const rand = seededRandom(7);
      for (let done = 0; done < users; done += 1000) {
        const rows = Array.from({ length: Math.min(1000, users - done) }, (_, i) => ({
          email: `notify-${done + i}@bench.example`,
          password_hash: 'not-a-hash',
          timezone: ZONES[(done + i) % ZONES.length]!,
          preferences: sql.json({ notifications: settingsFor(rand) }),
          next_notice_at: new Date(0),
        }));
        await sql`insert into users ${sql(rows)}`;
      }
      const { tick } = server.deps.notifications;
      const start = Math.ceil(Date.now() / 60_000) * 60_000 + 86_400_000;
      const first = await perMinute([start], tick);
      const minutes = Array.from({ length: ticks }, (_, k) => start + (k + 1) * 60_000);
      // The earlier tick: every user with settings read and their due notices computed, every minute
      // (its raising of the due ones, the same in both, left out: a lower bound of its cost).
      const everyone = await perMinute(minutes, async (now) => {
        const rows = await sql<{ id: string; timezone: string; settings: NotificationSettings }[]>`
          select id, timezone, preferences -> 'notifications' as settings
          from users where preferences -> 'notifications' is not null`;
        let due = 0;
        for (const row of rows) due += dueNotices(row.settings, row.timezone, now, CATCH_UP_MS).length;
        return due;
      });
      const raised: number[] = [];
      const scheduled = await perMinute(minutes, async (now) => raised.push(await tick(now)));
      console.log(
        `${users} users with notification settings (${ZONES.length} zones, 1–3 reminders, streak and weekly ` +
          `summaries); ${ticks} consecutive minutes; ${raised.reduce((a, b) => a + b, 0)} notices raised`,
      );
      const row = (name: string, s: Stats) => ({
        name,
        'median ms': round(s.median),
        'p99 ms': round(s.p99),
        'longest event-loop stall ms': round(s.stallMs),
        'earlier tick ÷ this': ratio(everyone.median, s.median),
      });
      console.table([
        row('tick: users whose moment has come', scheduled),
        row('first tick (every user once, as after the migration)', first),
        row('earlier tick: every user read and computed (lower bound)', everyone),
      ]);
    } finally {
      await sql.end({ timeout: 5 });
      await server.close();
    }
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await runNotificationsBench();
