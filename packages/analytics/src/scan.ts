// All-pairs, all-lags correlation scan over daily series, with autocorrelation-aware p-values and
// Benjamini–Hochberg q-values over the whole scan.
import { effectiveSampleSize } from './autocorrelation';
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
}

export interface ScanFinding {
  x: string;
  y: string;
  /** y is taken `lag` days after x. */
  lag: number;
  method: ScanMethod;
  /** Pairwise-complete days. */
  n: number;
  /** Effective sample size after the autocorrelation correction (Bretherton et al. 1999). */
  nEff: number;
  /** Pearson r or Spearman ρ. */
  effect: number;
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
  /** 'too-short': fewer than minN present days; 'constant': every present value is the same. */
  reason: 'too-short' | 'constant';
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
}

/**
 * Correlates every pair of series at lags 0..L over their common days.
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
  const chosen = options.method ?? 'pearson';
  const methodOf = typeof chosen === 'function' ? chosen : (): ScanMethod => chosen;

  const aligned = alignSeries(series);
  const T = aligned.days;
  const skipped: (SkippedSeries | SkippedPair)[] = [];
  const usable: Prepared[] = [];
  for (let s = 0; s < series.length; s++) {
    const prepared = prepareSeries(series[s]!.id, aligned.values[s]!, minN);
    if ('kind' in prepared) skipped.push(prepared);
    else usable.push(prepared);
  }

  // Per-test results go into typed columns; the finding objects are built once, already sorted.
  const U = usable.length;
  const cap = ((U * (U - 1)) / 2) * (1 + 2 * lags);
  const xOf = new Int32Array(cap);
  const yOf = new Int32Array(cap);
  const lagOf = new Int32Array(cap);
  const nOf = new Int32Array(cap);
  const spearmanOf = new Uint8Array(cap);
  const effect = new Float64Array(cap);
  const nEffOf = new Float64Array(cap);
  const p = new Float64Array(cap);
  let count = 0;
  const scratch = spearmanScratch(T);
  for (let i = 0; i < U; i++) {
    for (let j = i + 1; j < U; j++) {
      const useSpearman = methodOf(usable[i]!.id, usable[j]!.id) === 'spearman';
      for (let t = 0; t <= 2 * lags; t++) {
        // Lag 0 once, then each lag with x = i, y = j and with x = j, y = i.
        const lag = (t + 1) >> 1;
        const [ix, iy] = t % 2 === 0 && t > 0 ? [j, i] : [i, j];
        const a = usable[ix]!;
        const b = usable[iy]!;
        const res = useSpearman ? spearmanPair(a, b, lag, minN, scratch) : pearsonPair(a, b, lag, minN);
        if (res.kind === 'skip') {
          skipped.push({ kind: 'pair', x: a.id, y: b.id, lag, reason: res.reason, n: res.n });
          continue;
        }
        xOf[count] = ix;
        yOf[count] = iy;
        lagOf[count] = lag;
        nOf[count] = res.n;
        spearmanOf[count] = useSpearman ? 1 : 0;
        effect[count] = res.r;
        nEffOf[count] = effectiveSampleSize(res.n, a.r1, b.r1);
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
      p: p[k]!,
      pNaive: correlationPValue(r, n - 2),
      q: q[rank]!,
      ci95: fisherInterval(r, se),
    };
  }
  return { start: aligned.start, days: T, testsRun: count, findings, skipped };
}
