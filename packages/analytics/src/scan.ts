// All-pairs, all-lags correlation scan over daily series, with autocorrelation-aware p-values and
// Benjamini–Hochberg q-values over the whole scan.
import {
  autocorrelations,
  effectiveSampleSize,
  effectiveSampleSizeAcf,
  kpssStatistic,
  localMeanSquares,
  longestRunAtBound,
  varianceConcentration,
} from './autocorrelation';
import type { DetrendMethod, SeriesTrend } from './detrend';
import { residualValues, seriesTrend } from './detrend';
import { correlationPValue } from './distributions';
import { benjaminiHochbergSorted } from './fdr';
import { fisherInterval } from './fisher';
import { sortIndicesByValue } from './ranks';
import { pearsonPair } from './scanPearson';
import type { Prepared } from './scanSeries';
import { prepareSeries } from './scanSeries';
import { spearmanPair, spearmanScratch } from './scanSpearman';
import type { DailySeries } from './series';
import { alignSeries } from './series';
import type { Interval } from './types';

export type ScanMethod = 'pearson' | 'spearman';

export interface ScanOptions {
  /** Correlation used for every pair, or a resolver called once per unordered pair (x, y). Default 'pearson'. */
  method?: ScanMethod | ((x: string, y: string) => ScanMethod);
  /** Largest lag in days, 0..7 (default 0). Lag L pairs x on day d with y on day d + L. */
  lags?: number;
  /** Minimum number of present days per series and of paired days per test (default 14, at least 3). */
  minN?: number;
  /**
   * What is correlated: each series' deviations from its own trend. Default 'auto': the residual from a
   * least-squares line fitted with the weekday means, except that a pair with a side whose residual still
   * wanders like a random walk is tested on day-to-day changes (see ScanSeries.wanders, residualValues and
   * docs/calibration.md). 'none' correlates the values as they are, as the scan did before.
   */
  detrend?: DetrendMethod;
  /**
   * Lags of the tested series' autocorrelation used for nEff: 1 is the lag-1 formula of Bretherton et al.
   * (the default with detrend 'none'); K > 1 the Bartlett sum over lags 1..K, which also catches slow
   * movement left over after detrending (default 28 otherwise). At most 60.
   */
  autocorrelationLags?: number;
  /**
   * Compute each finding's rawR (default true). It is a second correlation per test, about doubling the
   * scan's time when something is removed; false leaves rawR null.
   */
  rawR?: boolean;
  /** Also take out each series' weekday means (default true; false with detrend 'none'). */
  weekday?: boolean;
}

export interface ScanFinding {
  x: string;
  y: string;
  /** y is taken `lag` days after x. */
  lag: number;
  method: ScanMethod;
  /** Pairwise-complete days. */
  n: number;
  /**
   * Effective sample size after the autocorrelation correction of the tested series: Bretherton et al.
   * (1999) from lag-1 autocorrelations, or the Bartlett sum over lags 1..autocorrelationLags.
   */
  nEff: number;
  /** Pearson r or Spearman ρ of the deviations tested (see ScanResult.detrend), after the lag. */
  effect: number;
  /**
   * The same correlation of the values as recorded (no detrending), over their own pairwise-complete days:
   * what "they rose together" looks like. Not tested; null when one side is constant over those days,
   * or when the scan ran with rawR: false.
   * Equal to effect when nothing was removed.
   */
  rawR: number | null;
  /** True when effect is a correlation of deviations (detrend other than 'none', or weekday means removed). */
  detrended: boolean;
  /**
   * detrend 'auto' only: true when one side wanders like a random walk (ScanSeries.wanders), so the pair
   * was tested on day-to-day changes ("on days your X rises, your Y rises") rather than on deviations
   * from the trend lines. Changes are always correlated with Pearson (method 'pearson'): the changes of a
   * rating are mostly ties at 0, on which Spearman's ranks were badly miscalibrated.
   */
  differenced: boolean;
  /** Two-sided p-value using nEff: t = r √((nEff − 2)/(1 − r²)) with nEff − 2 df. */
  p: number;
  /** The naive p-value using n, as if days were independent (always ≤ p). */
  pNaive: number;
  /** Benjamini–Hochberg q-value of p over all tests in this scan. */
  q: number;
  /** 95% Fisher z interval using nEff (se 1/√(nEff−3); √(1.06/(nEff−3)) for Spearman, Fieller et al. 1957). */
  ci95: Interval;
}

export interface SkippedSeries {
  kind: 'series';
  id: string;
  /**
   * 'too-short': fewer than minN present days (for the deviations: 'difference' and 'prewhiten' lose the day
   * after each gap); 'constant': every present value is the same; 'trend-only': the series is its trend
   * (and weekday means) exactly, with no deviations left to correlate.
   */
  reason: 'too-short' | 'constant' | 'trend-only';
  n: number;
}

export interface SkippedPair {
  kind: 'pair';
  x: string;
  y: string;
  lag: number;
  /** 'too-few': fewer than minN paired days; 'constant': one side is constant over the paired days. */
  reason: 'too-few' | 'constant';
  n: number;
}

export interface ScanResult {
  /** First day of the common date grid and its length in days. */
  start: string;
  days: number;
  /** Number of hypotheses in the Benjamini–Hochberg family (= findings.length). */
  testsRun: number;
  /** Sorted by p ascending (ties: larger |effect| first). */
  findings: ScanFinding[];
  skipped: (SkippedSeries | SkippedPair)[];
  /** What was correlated (the options in effect). */
  detrend: DetrendMethod;
  weekday: boolean;
  /**
   * Each tested series' own trend, for trend sentences ("both rose over the period") instead of a
   * correlation; in input order, series skipped as too short or constant left out.
   */
  series: ScanSeries[];
}

export interface ScanSeries {
  id: string;
  /** Present days. */
  n: number;
  trend: SeriesTrend;
  /** Lag-1 autocorrelation of the values and of the deviations tested (the latter sets nEff). */
  r1: number;
  r1Tested: number;
  /**
   * detrend 'auto': the deviations from its trend line still wander like a random walk (their mean
   * autocorrelation over lags 1..28 above 0.4, or above 0.1 with their KPSS statistic, long-run variance
   * over 28 lags, above its 5 % point 0.146), so every pair with this series is tested on changes.
   */
  wanders: boolean;
  /**
   * detrend 'auto': the series sits at its smallest or its largest value for at least 100 days on end
   * (a rating or yes/no metric pinned at an end of its scale): its variance is concentrated in the rest
   * of the period, so the nEff of each of its pairs is divided by varianceConcentration.
   */
  pinned: boolean;
}

// 'auto' (see docs/calibration.md for the figures): a series' deviations wander when their mean
// autocorrelation over lags 1..28 is above 0.4 (a strong random walk about 0.7), or when it is above 0.1
// and their KPSS statistic, with the long-run variance over 28 lags, is above its 5 % point for residuals
// of a line (0.146, Kwiatkowski et al. 1992, table 1). An AR(1) with φ = 0.6 averages about 0.05 and a mild
// random walk under noise about 0.2: the 0.1 keeps KPSS's 5 % false alarms on steady series from costing
// them power; the 0.4 alone catches strong walks that a 28-lag KPSS misses.
const WANDER_LAGS = 28;
const KPSS_5_PERCENT = 0.146;
const WANDER_MEAN_ACF = 0.1;
const WANDER_MEAN_ACF_ALONE = 0.4;
// A series at its smallest or largest value for this many days on end is pinned; the variance
// concentration of a differenced or pinned pair uses mean squares over ±14 days.
const PINNED_DAYS = 100;
const LOCAL_HALF_WIDTH = 14;

/**
 * Mean autocorrelation over lags 1..min(28, n/5) above 0.4, or above 0.1 with the deviations' KPSS
 * statistic above 0.146 (false with fewer than 5 lags).
 */
function wandering(deviations: Float64Array, acf: Float64Array, n: number): boolean {
  const K = Math.min(WANDER_LAGS, Math.floor(n / 5), acf.length);
  if (K < 5) return false;
  let s = 0;
  for (let k = 0; k < K; k++) s += acf[k]!;
  const mean = s / K;
  return (
    mean > WANDER_MEAN_ACF_ALONE ||
    (mean > WANDER_MEAN_ACF && kpssStatistic(deviations, acf.subarray(0, K)) > KPSS_5_PERCENT)
  );
}

/**
 * True when a series' deviations are nothing but rounding: every |deviation| below 1e-9 of the
 * values' own spread (largest |value − mean|), as for a perfectly straight line.
 */
function trendOnly(residual: Float64Array, raw: Prepared): boolean {
  let spread = 0;
  for (let d = raw.first; d <= raw.last; d++) spread = Math.max(spread, Math.abs(raw.z[d]!));
  let dev = 0;
  for (let d = 0; d < residual.length; d++) {
    const v = residual[d]!;
    if (!Number.isNaN(v)) dev = Math.max(dev, Math.abs(v));
  }
  return dev <= 1e-9 * spread;
}

/**
 * Correlates every pair of series at lags 0..L over their common days.
 * What is correlated is each series' deviations from its own trend (options.detrend, default 'auto': the
 * least-squares line and the weekday means fitted together and taken out; a pair with a side that still
 * wanders like a random walk is tested on day-to-day changes), computed once per series on the common
 * grid: two metrics that merely drift, wander or keep weekly rhythms of their own are not reported as
 * related. The correlation of the recorded values stays in each finding as rawR,
 * and each series' trend in `series`. The autocorrelation correction uses the autocorrelation of what is
 * actually tested: for deviations, the Bartlett sum over lags 1..28 (autocorrelationLags), which also
 * covers the slow wander a line leaves (random walks); for 'none', the lag-1 formula below.
 * Pairwise-complete: a day counts for a pair only when both values are present.
 * p-values use the effective sample size of Bretherton et al. (1999, J. Climate 12:1990, eq. 31),
 * n_eff = n(1 − r₁ₓr₁ᵧ)/(1 + r₁ₓr₁ᵧ) from each series' lag-1 autocorrelation over its whole span;
 * q-values are Benjamini–Hochberg (1995) over every test run. Series with fewer than minN present
 * days or constant values, and pairs with fewer than minN paired days or a constant side, are
 * reported in `skipped` instead.
 * Cost per test: Pearson is one dot product over the common days plus O(missing days) corrections;
 * Spearman re-ranks both sides exactly in two sequential passes from orders sorted once per scan
 * (see spearmanPair). No per-test allocation beyond the result.
 */
export function correlationScan(series: readonly DailySeries[], options: ScanOptions = {}): ScanResult {
  const lags = options.lags ?? 0;
  const minN = options.minN ?? 14;
  if (!Number.isInteger(lags) || lags < 0 || lags > 7)
    throw new RangeError(`lags must be an integer 0..7, got ${lags}`);
  if (!Number.isInteger(minN) || minN < 3) throw new RangeError(`minN must be an integer ≥ 3, got ${minN}`);
  const ids = new Set<string>();
  for (const s of series) {
    if (ids.has(s.id)) throw new RangeError(`duplicate series id ${s.id}`);
    ids.add(s.id);
  }
  const detrend = options.detrend ?? 'auto';
  const weekday = options.weekday ?? detrend !== 'none';
  const detrended = detrend !== 'none' || weekday;
  const wantRaw = options.rawR ?? true;
  const acfLags = options.autocorrelationLags ?? (detrend === 'none' ? 1 : 28);
  if (!Number.isInteger(acfLags) || acfLags < 1 || acfLags > 60)
    throw new RangeError(`autocorrelationLags must be an integer 1..60, got ${acfLags}`);
  const chosen = options.method ?? 'pearson';
  const methodOf = typeof chosen === 'function' ? chosen : (): ScanMethod => chosen;

  const aligned = alignSeries(series);
  const T = aligned.days;
  const skipped: (SkippedSeries | SkippedPair)[] = [];
  // Tested (deviations) and raw preparation of each series; the same object when nothing is removed.
  const usable: Prepared[] = [];
  const rawOf: Prepared[] = [];
  const info: ScanSeries[] = [];
  const acfOf: Float64Array[] = [];
  const wandersOf: boolean[] = [];
  const pinnedOf: boolean[] = [];
  const valuesOf: Float64Array[] = [];
  const diffOf: ({ prepared: Prepared; acf: Float64Array } | false | null)[] = [];
  for (let s = 0; s < series.length; s++) {
    const id = series[s]!.id;
    const values = aligned.values[s]!;
    const raw = prepareSeries(id, values, minN);
    if ('kind' in raw) {
      skipped.push(raw);
      continue;
    }
    let tested: Prepared | SkippedSeries = raw;
    if (detrended) {
      const residual = residualValues(values, { detrend: detrend === 'auto' ? 'linear' : detrend, weekday });
      tested = trendOnly(residual, raw)
        ? { kind: 'series', id, reason: 'trend-only', n: raw.cnt[T]! }
        : prepareSeries(id, residual, minN);
      if ('kind' in tested) {
        skipped.push(tested.reason === 'constant' ? { ...tested, reason: 'trend-only' } : tested);
        continue;
      }
    }
    usable.push(tested);
    rawOf.push(raw);
    // The wander test reads 28 lags ('auto' only); nEff reads exactly acfLags of them.
    const acf = autocorrelations(tested.raw, detrend === 'auto' ? Math.max(acfLags, WANDER_LAGS) : acfLags);
    acfOf.push(acf.subarray(0, acfLags));
    const n = raw.cnt[T]!;
    const wanders = detrend === 'auto' && wandering(tested.raw, acf, n);
    const pinned = detrend === 'auto' && longestRunAtBound(values) >= PINNED_DAYS;
    wandersOf.push(wanders);
    pinnedOf.push(pinned);
    diffOf.push(null);
    valuesOf.push(values);
    info.push({ id, n, trend: seriesTrend(values), r1: raw.r1, r1Tested: tested.r1, wanders, pinned });
  }
  // 'auto': the day-to-day changes of a series, prepared on first use (a pair with a wandering side).
  const changes = (k: number): Prepared | null => {
    const cached = diffOf[k] ?? null;
    if (cached !== null) return cached === false ? null : cached.prepared;
    const values = valuesOf[k]!;
    const prepared = prepareSeries(
      usable[k]!.id,
      residualValues(values, { detrend: 'difference', weekday }),
      minN,
    );
    diffOf[k] = 'kind' in prepared ? false : { prepared, acf: autocorrelations(prepared.raw, acfLags) };
    return 'kind' in prepared ? null : prepared;
  };

  // 'auto': local mean squares of a tested series (deviations or changes), for varianceConcentration.
  const spreadOf = new Map<Prepared, Float64Array>();
  const spread = (p: Prepared): Float64Array => {
    let v = spreadOf.get(p);
    if (!v) {
      v = localMeanSquares(p.raw, LOCAL_HALF_WIDTH);
      spreadOf.set(p, v);
    }
    return v;
  };

  // Per-test results go into typed columns; the finding objects are built once, already sorted.
  const U = usable.length;
  const cap = ((U * (U - 1)) / 2) * (1 + 2 * lags);
  const xOf = new Int32Array(cap);
  const yOf = new Int32Array(cap);
  const lagOf = new Int32Array(cap);
  const nOf = new Int32Array(cap);
  const spearmanOf = new Uint8Array(cap);
  const effect = new Float64Array(cap);
  const rawR = new Float64Array(cap);
  const differencedOf = new Uint8Array(cap);
  const nEffOf = new Float64Array(cap);
  const p = new Float64Array(cap);
  let count = 0;
  const scratch = spearmanScratch(T);
  for (let i = 0; i < U; i++) {
    for (let j = i + 1; j < U; j++) {
      const pairSpearman = methodOf(usable[i]!.id, usable[j]!.id) === 'spearman';
      for (let t = 0; t <= 2 * lags; t++) {
        // Lag 0 once, then each lag with x = i, y = j and with x = j, y = i.
        const lag = (t + 1) >> 1;
        const [ix, iy] = t % 2 === 0 && t > 0 ? [j, i] : [i, j];
        let a = usable[ix]!;
        let b = usable[iy]!;
        let acfA = acfOf[ix]!;
        let acfB = acfOf[iy]!;
        let differenced = false;
        if (wandersOf[ix] || wandersOf[iy]) {
          const da = changes(ix);
          const db = changes(iy);
          if (da && db) {
            a = da;
            b = db;
            acfA = (diffOf[ix] as { acf: Float64Array }).acf;
            acfB = (diffOf[iy] as { acf: Float64Array }).acf;
            differenced = true;
          }
        }
        const useSpearman = pairSpearman && !differenced;
        const res = useSpearman ? spearmanPair(a, b, lag, minN, scratch) : pearsonPair(a, b, lag, minN);
        if (res.kind === 'skip') {
          skipped.push({ kind: 'pair', x: a.id, y: b.id, lag, reason: res.reason, n: res.n });
          continue;
        }
        if (!wantRaw) rawR[count] = Number.NaN;
        else if (detrended) {
          const ra = rawOf[ix]!;
          const rb = rawOf[iy]!;
          const raw = useSpearman ? spearmanPair(ra, rb, lag, 3, scratch) : pearsonPair(ra, rb, lag, 3);
          rawR[count] = raw.kind === 'ok' ? raw.r : Number.NaN;
        } else rawR[count] = res.r;
        xOf[count] = ix;
        yOf[count] = iy;
        lagOf[count] = lag;
        nOf[count] = res.n;
        spearmanOf[count] = useSpearman ? 1 : 0;
        effect[count] = res.r;
        differencedOf[count] = differenced ? 1 : 0;
        let nEff =
          acfLags > 1 ? effectiveSampleSizeAcf(res.n, acfA, acfB) : effectiveSampleSize(res.n, a.r1, b.r1);
        // Changes of wandering series, and pinned series, move over part of the period only: when both
        // sides move over the same weeks, fewer days carry the correlation than nEff assumes.
        if (differenced || pinnedOf[ix] || pinnedOf[iy])
          nEff = Math.max(3, nEff / varianceConcentration(a.raw, spread(a), b.raw, spread(b), lag));
        nEffOf[count] = nEff;
        p[count] = correlationPValue(res.r, nEffOf[count]! - 2);
        count++;
      }
    }
  }

  // Sorted by p ascending, ties by |effect| descending: a stable sort by −|effect|, then by p.
  const order = new Int32Array(count);
  for (let k = 0; k < count; k++) order[k] = k;
  const key = new Float64Array(count);
  for (let k = 0; k < count; k++) key[k] = -Math.abs(effect[k]!);
  sortIndicesByValue(order, key);
  sortIndicesByValue(order, p);
  const q = benjaminiHochbergSorted(p, order);
  const findings = new Array<ScanFinding>(count);
  for (let rank = 0; rank < count; rank++) {
    const k = order[rank]!;
    const a = usable[xOf[k]!]!;
    const b = usable[yOf[k]!]!;
    const n = nOf[k]!;
    const r = effect[k]!;
    const method: ScanMethod = spearmanOf[k] ? 'spearman' : 'pearson';
    const nEff = nEffOf[k]!;
    const se = method === 'spearman' ? Math.sqrt(1.06 / (nEff - 3)) : 1 / Math.sqrt(nEff - 3);
    findings[rank] = {
      x: a.id,
      y: b.id,
      lag: lagOf[k]!,
      method,
      n,
      nEff,
      effect: r,
      rawR: Number.isNaN(rawR[k]!) ? null : rawR[k]!,
      detrended,
      differenced: differencedOf[k] === 1,
      p: p[k]!,
      pNaive: correlationPValue(r, n - 2),
      q: q[rank]!,
      ci95: fisherInterval(r, se),
    };
  }
  return {
    start: aligned.start,
    days: T,
    testsRun: count,
    findings,
    skipped,
    detrend,
    weekday,
    series: info,
  };
}
