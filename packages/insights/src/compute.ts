// The pure part of the analytics service: daily series in, findings with plain sentences out.
// Runs inside the worker threads (no I/O, no database).
import {
  addDays,
  benjaminiHochberg,
  correlationScan,
  type DailySeries,
  daysBetween,
  pointBiserial,
  type ScanMethod,
  streaks,
  trendReport,
  type WEEKDAY_NAMES,
  weekdayPattern,
} from '@lifexp/analytics';
import type {
  CorrelationFinding,
  CorrelationsInput,
  InsightDraft,
  MetricRef,
  Strength,
  TrendFinding,
} from '@lifexp/contracts';

export interface MetricMeta {
  id: string;
  name: string;
  type: 'rating' | 'duration' | 'binary' | 'number';
  /** The unit a person reads: kg, hours, points. */
  unit: string | null;
}

export interface SeriesInput {
  metric: MetricMeta;
  start: string;
  values: Float64Array;
}

/** A limit met inside a worker: it crosses the thread boundary with its code (a 4xx, not a 500). */
export class LimitError extends Error {
  override name = 'LimitError';
  readonly code = 'BAD_REQUEST' as const;
}

/** Correlation parameters; without `limit` every finding is returned (the insights set). */
export type CorrelationParams = Omit<CorrelationsInput, 'limit' | 'cursor'> & {
  limit?: number | undefined;
  cursor?: number | undefined;
};

/** Findings from fewer paired days than this are tentative. */
export const TENTATIVE_BELOW = 60;

export function strengthOf(effect: number): Strength {
  const size = Math.abs(effect);
  if (size < 0.1) return 'negligible';
  if (size < 0.3) return 'weak';
  if (size < 0.5) return 'moderate';
  return 'strong';
}

/** Auto: Spearman when a rating is involved, Pearson (point-biserial with a yes/no side) otherwise. */
function methodFor(a: MetricMeta, b: MetricMeta, method: CorrelationsInput['method']): ScanMethod {
  if (method !== 'auto') return method;
  if (a.type === 'binary' || b.type === 'binary') return 'pearson';
  return a.type === 'rating' || b.type === 'rating' ? 'spearman' : 'pearson';
}

function round(value: number, digits = 2): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

function formatP(value: number): string {
  return value < 0.001 ? value.toExponential(1) : String(round(value, 3));
}

type Tested = CorrelationFinding['tested'];

/**
 * The sentence says what was tested: a deviation from the usual level for the period ("higher than
 * usual"), or a day-to-day change ("rises"); never a bare "higher" that two drifting series would share.
 */
function correlationSentence(
  a: MetricMeta,
  b: MetricMeta,
  lag: number,
  effect: number,
  tested: Tested,
  means?: { with: number; without: number },
): string {
  const up = effect > 0;
  const usual = tested === 'deviations' ? ' than usual for that period' : '';
  if (a.type === 'binary') {
    const prefix =
      lag === 0
        ? `On days with ${a.name}`
        : lag === 1
          ? `The day after ${a.name}`
          : `${lag} days after ${a.name}`;
    if (b.type === 'binary') {
      const share = (value: number) => `${Math.round(value * 100)}%`;
      return means
        ? `${prefix}, you log ${b.name} on ${share(means.with)} of days (${share(means.without)} otherwise)`
        : `${prefix}, you log ${b.name} ${up ? 'more' : 'less'} often`;
    }
    if (tested === 'changes')
      return `${prefix}, your ${b.name} ${up ? 'rises' : 'falls'} from the day before`;
    // The means are of the values as recorded: quoted only where they agree in sign with what was tested.
    const difference = means ? means.with - means.without : 0;
    const amount = `${significant3(Math.abs(difference))}${b.unit ? ` ${b.unit}` : ''} ${up ? 'higher' : 'lower'}`;
    if (!means || Math.sign(difference) !== Math.sign(effect))
      return `${prefix}, your ${b.name} is ${up ? 'higher' : 'lower'}${usual}`;
    return tested === 'values'
      ? `${prefix}, your ${b.name} is ${amount}`
      : `${prefix}, your ${b.name} is ${up ? 'higher' : 'lower'}${usual} (${amount} than on days without)`;
  }
  const when = lag === 0 ? 'On days when' : lag === 1 ? 'On days after' : `${lag} days after`;
  const first =
    tested === 'changes' ? `your ${a.name} rises from the day before` : `your ${a.name} is higher${usual}`;
  if (b.type === 'binary') return `${when} ${first}, you are ${up ? 'more' : 'less'} likely to log ${b.name}`;
  if (tested === 'changes') return `${when} ${first}, your ${b.name} ${up ? 'rises' : 'falls'} too`;
  if (tested === 'deviations') return `${when} ${first}, your ${b.name} is ${up ? 'higher too' : 'lower'}`;
  return `${when} ${first}, your ${b.name} is ${up ? 'higher' : 'lower'}`;
}

function testedOf(finding: { detrended: boolean; differenced: boolean }): Tested {
  return finding.differenced ? 'changes' : finding.detrended ? 'deviations' : 'values';
}

/** Three significant digits: what a sentence can honestly claim. */
function significant3(value: number): number {
  return value === 0 ? 0 : Number(value.toPrecision(3));
}

type ScanFinding = ReturnType<typeof correlationScan>['findings'][number];

/**
 * One question's scan, its findings kept by `q` (or `all`) and ranked strongest first — smallest q,
 * then p, then the largest |effect|, then a fixed order: every page of the question is cut from it.
 */
export interface RankedCorrelations {
  kept: ScanFinding[];
  testsRun: number;
  skipped: number;
}

/** The scan behind a question of correlations, ranked (the costly part: it runs in a worker). */
export function rankCorrelations(inputs: SeriesInput[], params: CorrelationParams): RankedCorrelations {
  const byId = new Map(inputs.map((input) => [input.metric.id, input]));
  const daily: DailySeries[] = inputs.map((input) => ({
    id: input.metric.id,
    start: input.start,
    values: input.values,
  }));
  const scan = correlationScan(daily, {
    lags: params.maxLag,
    minN: params.minN,
    method: (x, y) => methodFor(byId.get(x)!.metric, byId.get(y)!.metric, params.method),
  });
  const kept = scan.findings.filter((finding) => params.all || finding.q <= params.q);
  kept.sort(
    (x, y) =>
      x.q - y.q ||
      x.p - y.p ||
      Math.abs(y.effect) - Math.abs(x.effect) ||
      (x.x < y.x ? -1 : x.x > y.x ? 1 : 0) ||
      (x.y < y.y ? -1 : x.y > y.y ? 1 : 0) ||
      x.lag - y.lag,
  );
  return { kept, testsRun: scan.testsRun, skipped: scan.skipped.length };
}

export function computeCorrelations(inputs: SeriesInput[], params: CorrelationParams) {
  return correlationPage(inputs, rankCorrelations(inputs, params), params);
}

/**
 * The asked page of a ranked question, turned into findings with sentences: the answer's size is the
 * page's. Light (a page's findings only), so it may run where the ranking was cached.
 */
export function correlationPage(
  inputs: SeriesInput[],
  ranked: RankedCorrelations,
  params: CorrelationParams,
) {
  const byId = new Map(inputs.map((input) => [input.metric.id, input]));
  const { kept } = ranked;
  const offset = params.cursor ?? 0;
  const end = params.limit === undefined ? kept.length : Math.min(kept.length, offset + params.limit);
  const findings: CorrelationFinding[] = [];
  for (const finding of kept.slice(offset, end)) {
    const significant = finding.q <= params.q;
    let a = byId.get(finding.x)!;
    let b = byId.get(finding.y)!;
    // Same-day correlation is symmetric: put a yes/no metric first, it reads as the cause to try.
    if (finding.lag === 0 && b.metric.type === 'binary' && a.metric.type !== 'binary') [a, b] = [b, a];
    let meanWith: number | undefined;
    let meanWithout: number | undefined;
    let method: CorrelationFinding['method'] = finding.method;
    if (a.metric.type === 'binary') {
      method = 'point-biserial';
      const [x, y] = lagged(a, b, finding.lag);
      const pb = pointBiserial(x, y);
      if (pb.ok) {
        meanWith = round(pb.meanWith, 3);
        meanWithout = round(pb.meanWithout, 3);
      }
    } else if (b.metric.type === 'binary') {
      method = 'point-biserial';
    }
    const tested = testedOf(finding);
    findings.push({
      a: ref(a.metric),
      b: ref(b.metric),
      lag: finding.lag,
      method,
      effect: round(finding.effect, 4),
      tested,
      rawR: finding.rawR === null ? null : round(finding.rawR, 4),
      n: finding.n,
      nEff: round(finding.nEff, 1),
      p: finding.p,
      q: finding.q,
      ci95: [round(finding.ci95[0], 4), round(finding.ci95[1], 4)],
      strength: strengthOf(finding.effect),
      tentative: finding.n < TENTATIVE_BELOW,
      significant,
      ...(meanWith === undefined ? {} : { meanWith, meanWithout }),
      sentence: correlationSentence(
        a.metric,
        b.metric,
        finding.lag,
        finding.effect,
        tested,
        meanWith !== undefined && meanWithout !== undefined
          ? { with: meanWith, without: meanWithout }
          : undefined,
      ),
    });
  }
  return {
    findings,
    total: kept.length,
    nextCursor: end < kept.length ? end : null,
    testsRun: ranked.testsRun,
    skipped: ranked.skipped,
  };
}

/** a on day d and b on day d + lag, on a's calendar (b realigned to it). */
function lagged(a: SeriesInput, b: SeriesInput, lag: number): [Float64Array, Float64Array] {
  const offset = daysBetween(a.start, b.start);
  const y = new Float64Array(a.values.length);
  for (let i = 0; i < a.values.length; i++) {
    const j = i + lag - offset;
    y[i] = j >= 0 && j < b.values.length ? b.values[j]! : Number.NaN;
  }
  return [a.values, y];
}

function ref(metric: MetricMeta): MetricRef {
  return { id: metric.id, name: metric.name };
}

export function computeTrends(inputs: SeriesInput[]): TrendFinding[] {
  return inputs.flatMap((input) => {
    const report = trendReport({ id: input.metric.id, start: input.start, values: input.values });
    if (!report.ok) return [];
    const { metric } = input;
    const perWeek = round(report.slopePerWeek, 3);
    const unit = metric.unit ? ` ${metric.unit}` : '';
    const sentence =
      report.direction === 'flat'
        ? `No clear trend in your ${metric.name}`
        : `Your ${metric.name} has been ${report.direction === 'up' ? 'rising' : 'falling'} by about ${significant3(Math.abs(report.slopePerWeek))}${unit} a week`;
    return [
      {
        metric: ref(metric),
        direction: report.direction,
        slopePerWeek: perWeek,
        unit: metric.unit,
        p: report.mannKendall.p,
        tau: round(report.tau, 4),
        strength: strengthOf(report.tau),
        n: report.n,
        tentative: report.n < TENTATIVE_BELOW,
        sentence,
      },
    ];
  });
}

/** The whole precomputed set: significant correlations and trends, weekday patterns, streaks, recommendations. */
export function computeInsights(
  inputs: SeriesInput[],
  params: { q: number; minN: number; to: string },
): InsightDraft[] {
  const drafts: InsightDraft[] = [];
  const range = (input: SeriesInput) => ({ dateFrom: input.start, dateTo: params.to });
  const correlations = computeCorrelations(inputs, {
    method: 'auto',
    maxLag: 1,
    minN: params.minN,
    q: params.q,
    all: false,
  });
  for (const finding of correlations.findings) {
    drafts.push({
      type: 'correlation',
      confidence: round(1 - finding.q, 4),
      dateFrom: null,
      dateTo: params.to,
      data: { ...finding, testsRun: correlations.testsRun },
    });
  }
  // Trends and weekday patterns are one test per metric: each family gets its own
  // Benjamini–Hochberg adjustment, so many metrics do not breed false insights.
  const trends = computeTrends(inputs);
  const trendQ = benjaminiHochberg(trends.map((trend) => trend.p));
  trends.forEach((trend, index) => {
    const q = trendQ[index]!;
    if (trend.direction === 'flat' || !(q <= params.q)) return;
    const input = inputs.find((candidate) => candidate.metric.id === trend.metric.id)!;
    drafts.push({ type: 'trend', confidence: round(1 - q, 4), ...range(input), data: { ...trend, q } });
  });
  const patterns = inputs.flatMap((input) => {
    const pattern = weekdayPattern({ id: input.metric.id, start: input.start, values: input.values });
    return pattern.ok && pattern.test.ok ? [{ input, pattern, p: pattern.test.p }] : [];
  });
  const patternQ = benjaminiHochberg(patterns.map((candidate) => candidate.p));
  patterns.forEach(({ input, pattern, p }, index) => {
    const q = patternQ[index]!;
    if (!(q <= params.q)) return;
    const withMeans = pattern.days.filter((day) => day.mean !== null);
    const best = withMeans.reduce((top, day) => (day.mean! > top.mean! ? day : top));
    const worst = withMeans.reduce((low, day) => (day.mean! < low.mean! ? day : low));
    drafts.push({
      type: 'pattern',
      confidence: round(1 - q, 4),
      ...range(input),
      data: {
        metric: ref(input.metric),
        days: pattern.days,
        p,
        q,
        n: pattern.n,
        highest: best.name,
        lowest: worst.name,
        sentence: `Your ${input.metric.name} is highest on ${fullDay(best.name)} and lowest on ${fullDay(worst.name)} (q = ${formatP(q)}, n = ${pattern.n})`,
      },
    });
  });
  for (const input of inputs) {
    const series = { id: input.metric.id, start: input.start, values: input.values };
    const qualifies = (value: number) => (input.metric.type === 'binary' ? value === 1 : true);
    // Today may not be logged yet: a run that ended yesterday is still current (as in progress()).
    const endingToday = streaks(series, qualifies, { today: params.to });
    const logged = endingToday.current
      ? endingToday
      : streaks(series, qualifies, { today: addDays(params.to, -1) });
    if (!logged.longest || logged.longest.length < 3) continue;
    const current = logged.current?.length ?? 0;
    const what = input.metric.type === 'binary' ? input.metric.name : `logging ${input.metric.name}`;
    drafts.push({
      type: 'streak',
      confidence: 1,
      ...range(input),
      data: {
        metric: ref(input.metric),
        current: logged.current,
        longest: logged.longest,
        sentence:
          current > 0 && current === logged.longest.length
            ? `${capitalize(what)}: ${days(current)} in a row, your best run yet`
            : `${capitalize(what)}: current run ${days(current)}, best ${days(logged.longest.length)}`,
      },
    });
  }
  // Recommendations rest only on significant, non-tentative findings whose first side is something
  // a person can choose (a habit, a duration, a number) and whose outcome is a rating, and they say
  // what they rest on.
  for (const finding of correlations.findings) {
    if (finding.tentative || finding.strength === 'negligible') continue;
    const a = inputs.find((input) => input.metric.id === finding.a.id)!.metric;
    const b = inputs.find((input) => input.metric.id === finding.b.id)!.metric;
    // "Higher is better" is only safe to assume for a rating (mood, energy); a is what one can change.
    if (a.type === 'rating' || b.type !== 'rating') continue;
    const more = finding.effect > 0;
    const action =
      a.type === 'binary'
        ? more
          ? `Keep up ${a.name}`
          : `Try days without ${a.name}`
        : `Try ${more ? 'more' : 'less'} ${a.name}`;
    drafts.push({
      type: 'recommendation',
      confidence: round(1 - finding.q, 4),
      dateFrom: null,
      dateTo: params.to,
      data: {
        basedOn: {
          a: finding.a,
          b: finding.b,
          lag: finding.lag,
          n: finding.n,
          q: finding.q,
          effect: finding.effect,
        },
        sentence: `${action}: ${finding.sentence.charAt(0).toLowerCase()}${finding.sentence.slice(1)} (based on ${finding.n} days, q = ${formatP(finding.q)})`,
      },
    });
  }
  return drafts;
}

function fullDay(short: (typeof WEEKDAY_NAMES)[number]): string {
  return {
    Mon: 'Mondays',
    Tue: 'Tuesdays',
    Wed: 'Wednesdays',
    Thu: 'Thursdays',
    Fri: 'Fridays',
    Sat: 'Saturdays',
    Sun: 'Sundays',
  }[short];
}

function days(count: number): string {
  return count === 1 ? '1 day' : `${count} days`;
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
