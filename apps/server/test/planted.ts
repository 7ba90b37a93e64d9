// A seeded generator of realistic users with known ("planted") effects, created through the API.
import { addDays, localToday, prng } from '@lifexp/analytics';
import type { signUp } from './support';

type Client = Awaited<ReturnType<typeof signUp>>['client'];

export interface PlantOptions {
  seed: number;
  /** Days of history, ending on `to` (default 200). */
  days?: number;
  /** Pure-noise number metrics (default 12). */
  noiseMetrics?: number;
  /** Create Sleep, Mood, Weight and Coffee with their planted effects (default true). */
  planted?: boolean;
  /** The last day (default the user's today in UTC, the sign-up default time zone). */
  to?: string;
  /** Metric name prefix, so that one user may get several generated sets. */
  prefix?: string;
}

export interface PlantedUser {
  from: string;
  to: string;
  days: number;
  entries: number;
  metrics: {
    sleep?: string;
    mood?: string;
    weight?: string;
    coffee?: string;
    noise: string[];
  };
  /** The known truths, and exact counts derived from what was logged. */
  truths: {
    /** Sleep (hours) on day d raises Mood on day d + 1 (Spearman, positive). */
    sleepMood?: {
      a: string;
      b: string;
      lag: 1;
      sign: 1;
      pairedDays: number;
      /** The Mood dates whose day before has Sleep: the pairs a lag-1 test can use. */
      pairedDates: string[];
    };
    /** Mood is higher on Saturdays and Sundays. */
    weekend?: { metric: string; highest: ['Sat', 'Sun']; moodDays: number };
    /** Weight rises by this many kg a week (plus noise). */
    weightTrend?: { metric: string; slopePerWeek: number; noiseSd: number; days: number };
    /** Metrics with no effect on anything. */
    nulls: string[];
  };
}

/** Planted effect sizes, in one place so the tests can reason about them. */
export const PLANTED = {
  sleepMeanHours: 7.2,
  sleepSdHours: 0.9,
  /** Mood latent = 3.1 + 0.7·z(sleep yesterday) + 0.9·weekend + N(0, 0.7), rounded and clamped to 1..5. */
  moodPerSleepSd: 0.7,
  weekendBoost: 0.9,
  moodNoiseSd: 0.7,
  weightStartKg: 78,
  weightSlopePerWeek: 0.1,
  weightNoiseSd: 0.35,
  /** Share of days on which each metric is logged. */
  logged: { sleep: 0.95, mood: 0.95, weight: 0.8, noise: 0.9 },
} as const;

const BATCH = 1000;

type EntryInput = Parameters<Client['entries']['createMany']['mutate']>[0]['entries'][number];

function isWeekend(date: string): boolean {
  const day = new Date(`${date}T00:00:00Z`).getUTCDay();
  return day === 0 || day === 6;
}

/**
 * Creates metrics and ~`days` days of entries for the signed-in user behind `client`:
 * Sleep (duration, shown in hours) → next-day Mood (rating 1..5) positive; Mood higher at weekends;
 * Weight (kg) rising 0.1 kg a week; Coffee (yes/no) with no effect; K pure-noise numbers.
 */
export async function plantUser(client: Client, options: PlantOptions): Promise<PlantedUser> {
  const random = prng(options.seed);
  const days = options.days ?? 200;
  const to = options.to ?? localToday('UTC');
  const from = addDays(to, -(days - 1));
  const planted = options.planted ?? true;
  const prefix = options.prefix ?? '';
  const noiseCount = options.noiseMetrics ?? 12;

  const metrics: PlantedUser['metrics'] = { noise: [] };
  if (planted) {
    metrics.sleep = (
      await client.metrics.create.mutate({
        name: `${prefix}Sleep`,
        type: 'duration',
        category: 'sleep',
        config: { displayUnit: 'hours', aggregation: 'sum', missing: 'unknown' },
      })
    ).id;
    metrics.mood = (
      await client.metrics.create.mutate({ name: `${prefix}Mood`, type: 'rating', category: 'mood' })
    ).id;
    metrics.weight = (
      await client.metrics.create.mutate({
        name: `${prefix}Weight`,
        type: 'number',
        category: 'health',
        config: { unit: 'kg', decimals: 1, min: 20, max: 400 },
      })
    ).id;
    metrics.coffee = (
      await client.metrics.create.mutate({ name: `${prefix}Coffee`, type: 'binary', category: 'habits' })
    ).id;
  }
  for (let k = 0; k < noiseCount; k++) {
    const metric = await client.metrics.create.mutate({
      name: `${prefix}Noise ${k + 1}`,
      type: 'number',
      category: 'custom',
    });
    metrics.noise.push(metric.id);
  }

  const entries: EntryInput[] = [];
  let sleepYesterday: number | null = null;
  const pairedDates: string[] = [];
  let moodDays = 0;
  let weightDays = 0;
  for (let d = 0; d < days; d++) {
    const date = addDays(from, d);
    if (planted) {
      // Sleep logged on day d − 1 moves Mood on day d (lag 1); Sleep itself is independent from day to day.
      const sleepHours = Math.min(
        11,
        Math.max(3.5, random.normal(PLANTED.sleepMeanHours, PLANTED.sleepSdHours)),
      );
      const sleepLogged = random.chance(PLANTED.logged.sleep);
      const z =
        sleepYesterday === null ? 0 : (sleepYesterday - PLANTED.sleepMeanHours) / PLANTED.sleepSdHours;
      const latent =
        3.1 +
        PLANTED.moodPerSleepSd * z +
        (isWeekend(date) ? PLANTED.weekendBoost : 0) +
        random.normal(0, PLANTED.moodNoiseSd);
      const mood = Math.min(5, Math.max(1, Math.round(latent)));
      const moodLogged = random.chance(PLANTED.logged.mood);
      const weight =
        Math.round(
          (PLANTED.weightStartKg +
            (PLANTED.weightSlopePerWeek / 7) * d +
            random.normal(0, PLANTED.weightNoiseSd)) *
            10,
        ) / 10;
      const weightLogged = random.chance(PLANTED.logged.weight);
      const coffee = random.chance(0.6);
      if (moodLogged) {
        moodDays += 1;
        if (sleepYesterday !== null) pairedDates.push(date);
        entries.push({ metricId: metrics.mood!, value: mood, date, time: '20:30' });
      }
      if (sleepLogged) {
        entries.push({ metricId: metrics.sleep!, value: Math.round(sleepHours * 3600), date, time: '07:15' });
      }
      if (weightLogged) {
        weightDays += 1;
        entries.push({ metricId: metrics.weight!, value: weight, date, time: '07:30' });
      }
      entries.push({ metricId: metrics.coffee!, value: coffee, date, time: '09:00' });
      sleepYesterday = sleepLogged ? sleepHours : null;
    }
    for (const metricId of metrics.noise) {
      if (!random.chance(PLANTED.logged.noise)) continue;
      entries.push({ metricId, value: Math.round(random.normal(50, 10) * 100) / 100, date });
    }
  }
  for (let i = 0; i < entries.length; i += BATCH) {
    await client.entries.createMany.mutate({ entries: entries.slice(i, i + BATCH) });
  }

  const truths: PlantedUser['truths'] = {
    nulls: [...(metrics.coffee ? [metrics.coffee] : []), ...metrics.noise],
  };
  if (planted) {
    truths.sleepMood = {
      a: metrics.sleep!,
      b: metrics.mood!,
      lag: 1,
      sign: 1,
      pairedDays: pairedDates.length,
      pairedDates,
    };
    truths.weekend = { metric: metrics.mood!, highest: ['Sat', 'Sun'], moodDays };
    truths.weightTrend = {
      metric: metrics.weight!,
      slopePerWeek: PLANTED.weightSlopePerWeek,
      noiseSd: PLANTED.weightNoiseSd,
      days: weightDays,
    };
  }
  return { from, to, days, entries: entries.length, metrics, truths };
}
