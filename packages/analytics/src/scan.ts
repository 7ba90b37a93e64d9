// All-pairs, all-lags correlation scan over daily series, with autocorrelation-aware p-values and
// Benjamini–Hochberg q-values over the whole scan.
import { effectiveSampleSize } from './autocorrelation';
import { correlationPValue } from './distributions';
import { benjaminiHochberg } from './fdr';
import { fisherInterval } from './fisher';
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
 * Spearman re-ranks each side in O(days) from a presorted order. No per-element allocation.
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

  const scratch = spearmanScratch(T);
  const findings: ScanFinding[] = [];
  const test = (a: Prepared, b: Prepared, lag: number, method: ScanMethod) => {
    const res = method === 'pearson' ? pearsonPair(a, b, lag, minN) : spearmanPair(a, b, lag, minN, scratch);
    if (res.kind === 'skip') {
      skipped.push({ kind: 'pair', x: a.id, y: b.id, lag, reason: res.reason, n: res.n });
      return;
    }
    const { n, r } = res;
    const nEff = effectiveSampleSize(n, a.r1, b.r1);
    const se = method === 'spearman' ? Math.sqrt(1.06 / (nEff - 3)) : 1 / Math.sqrt(nEff - 3);
    findings.push({
      x: a.id,
      y: b.id,
      lag,
      method,
      n,
      nEff,
      effect: r,
      p: correlationPValue(r, nEff - 2),
      pNaive: correlationPValue(r, n - 2),
      q: 1,
      ci95: fisherInterval(r, se),
    });
  };
  for (let i = 0; i < usable.length; i++) {
    for (let j = i + 1; j < usable.length; j++) {
      const a = usable[i]!;
      const b = usable[j]!;
      const method = methodOf(a.id, b.id);
      test(a, b, 0, method);
      for (let lag = 1; lag <= lags; lag++) {
        test(a, b, lag, method);
        test(b, a, lag, method);
      }
    }
  }

  const q = benjaminiHochberg(findings.map((f) => f.p));
  for (let i = 0; i < findings.length; i++) findings[i]!.q = q[i]!;
  findings.sort((f, g) => f.p - g.p || Math.abs(g.effect) - Math.abs(f.effect));
  return { start: aligned.start, days: T, testsRun: findings.length, findings, skipped };
}
