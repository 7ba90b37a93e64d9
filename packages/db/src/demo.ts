import { randomUUID } from 'node:crypto';
import { addDays, prng } from '@lifexp/analytics';
import { EXPORT_FORMAT_VERSION } from '@lifexp/contracts';

export interface DemoOptions {
  /** Days of history, ending at `end`. */
  days?: number;
  /** The last day, YYYY-MM-DD. */
  end: string;
  /** Extra metrics of pure noise (to exercise the false-discovery control). */
  noiseMetrics?: number;
  seed?: number;
}

const clamp = (value: number, low: number, high: number) => Math.min(high, Math.max(low, value));

/**
 * A realistic account as an import document, with effects planted for the analytics to find:
 * more sleep → better mood the next day; coffee → more focus the same day; mood higher at weekends;
 * steps trending up; a meditation habit with streaks; a few journal lines; and optional noise metrics.
 */
export function createDemoDocument(options: DemoOptions) {
  const days = options.days ?? 365;
  const { uniform: random, normal } = prng(options.seed ?? 42);
  const metric = (name: string, type: string, category: string, config: Record<string, unknown> = {}) => ({
    id: randomUUID(),
    name,
    type,
    category,
    config,
  });
  const sleep = metric('Sleep', 'duration', 'sleep', { displayUnit: 'hours' });
  const mood = metric('Mood', 'rating', 'mood');
  const coffee = metric('Coffee', 'binary', 'habits', { missing: 'zero' });
  const focus = metric('Focus', 'duration', 'productivity', { displayUnit: 'minutes' });
  const steps = metric('Steps', 'number', 'fitness', { unit: 'steps', min: 0 });
  const meditation = metric('Meditation', 'binary', 'habits', { missing: 'zero' });
  const journal = metric('Journal', 'text', 'custom', { maxLength: 500 });
  const noise = Array.from({ length: options.noiseMetrics ?? 0 }, (_, i) =>
    metric(`Noise ${i + 1}`, 'number', 'custom'),
  );
  const entries: {
    id: string;
    metricId: string;
    value: number | boolean | string;
    date: string;
    time?: string;
    notes?: string;
    tags?: string[];
  }[] = [];
  const add = (
    metricId: string,
    value: number | boolean | string,
    date: string,
    extra: { time?: string; notes?: string; tags?: string[] } = {},
  ) => entries.push({ id: randomUUID(), metricId, value, date, ...extra });

  const start = addDays(options.end, -(days - 1));
  let previousSleep = 7.5;
  let meditating = false;
  for (let day = 0; day < days; day++) {
    const date = addDays(start, day);
    const weekday = new Date(`${date}T00:00:00Z`).getUTCDay();
    const weekend = weekday === 0 || weekday === 6;
    // One day in ten goes unlogged: life happens.
    if (random() < 0.1) continue;
    const hours = clamp(7 + (weekend ? 0.7 : 0) + 0.9 * normal(), 3.5, 10.5);
    add(sleep.id, Math.round(hours * 3600), date, { time: '07:00' });
    const moodScore = 3 + 0.8 * (previousSleep - 7) + (weekend ? 0.6 : 0) + 0.7 * normal();
    add(mood.id, Math.round(clamp(moodScore, 1, 5)), date, { time: '21:00' });
    previousSleep = hours;
    const hadCoffee = random() < 0.6;
    if (hadCoffee) add(coffee.id, true, date, { time: '09:00', tags: ['morning'] });
    if (!weekend) {
      const minutes = clamp(150 + (hadCoffee ? 45 : 0) + 40 * normal(), 0, 480);
      add(focus.id, Math.round(minutes) * 60, date, { time: '18:00' });
    }
    add(steps.id, Math.round(clamp(6000 + (day / days) * 3000 + 1800 * normal(), 0, 40_000)), date);
    meditating = random() < (meditating ? 0.85 : 0.3);
    if (meditating) add(meditation.id, true, date, { time: '07:30' });
    if (random() < 0.15)
      add(journal.id, hours > 8 ? 'Slept well, felt sharp.' : 'Tired today.', date, { time: '22:00' });
    for (const extra of noise) add(extra.id, Math.round(50 + 10 * normal()), date);
  }
  return {
    format: 'lifexp' as const,
    version: EXPORT_FORMAT_VERSION,
    exportedAt: new Date().toISOString(),
    metrics: [sleep, mood, coffee, focus, steps, meditation, journal, ...noise],
    entries,
  };
}
