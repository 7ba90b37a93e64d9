// Benchmark of @lifexp/analytics: the all-pairs correlation scan and trend reports over a heavy user's
// three years of daily metrics, against simple-statistics (same run) and numpy (where present).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { DailySeries } from '@lifexp/analytics';
import { alignSeries, correlationScan, dot, seededRandom, trendReport } from '@lifexp/analytics';
import { sampleCorrelation, sampleRankCorrelation } from 'simple-statistics';

const METRICS = 60;
const DAYS = 1095;
const LAGS = 2;
const MIN_N = 14;
const WARMUP = 3;
const RUNS = 15;
const SLOW_RUNS = 5;

/** 60 AR(1) series, some integer-valued (ties), ~3% missing days, a few later starts and planted links. */
export function syntheticSeries(seed = 42): DailySeries[] {
  const rand = seededRandom(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(rand() + 1e-300)) * Math.cos(2 * Math.PI * rand());
  const raw: number[][] = [];
  for (let s = 0; s < METRICS; s++) {
    const phi = 0.6 * rand();
    const out: number[] = [];
    let v = 0;
    for (let d = 0; d < DAYS; d++) {
      v = phi * v + gauss();
      out.push(v);
    }
    raw.push(out);
  }
  // Planted relations: same-day (1 ~ 0), next-day (3 follows 2), two days later (5 follows 4), and a trend.
  for (let d = 0; d < DAYS; d++) {
    raw[1]![d] = 0.6 * raw[0]![d]! + 0.8 * raw[1]![d]!;
    if (d >= 1) raw[3]![d] = 0.5 * raw[2]![d - 1]! + raw[3]![d]!;
    if (d >= 2) raw[5]![d] = -0.4 * raw[4]![d - 2]! + raw[5]![d]!;
    raw[6]![d] = raw[6]![d]! + 0.002 * d;
  }
  return raw.map((values, s) => {
    const late = s % 10 === 9 ? 120 : 0; // a few metrics tracked from later on
    const vals: (number | null)[] = values.slice(late).map((v) => {
      if (rand() < 0.03) return null;
      return s % 4 === 3 ? Math.round(v * 2) : v; // every fourth metric is integer-valued (ties)
    });
    return { id: `m${String(s).padStart(2, '0')}`, start: dayString(late), values: vals };
  });
}

function dayString(offset: number): string {
  const d = new Date(Date.UTC(2022, 0, 1 + offset));
  return d.toISOString().slice(0, 10);
}

/**
 * The same pairs and lags as correlationScan, done simply with simple-statistics: `sampleCorrelation`
 * (Pearson), or `sampleRankCorrelation` (Spearman on mid-ranks, re-ranked per pair as the scan does).
 */
function simpleStatisticsScan(
  grid: Float64Array[],
  days: number,
  correlate: (x: number[], y: number[]) => number = sampleCorrelation,
): number {
  let tests = 0;
  const run = (a: Float64Array, b: Float64Array, lag: number) => {
    const x: number[] = [];
    const y: number[] = [];
    for (let d = 0; d + lag < days; d++) {
      const u = a[d]!;
      const v = b[d + lag]!;
      if (!Number.isNaN(u) && !Number.isNaN(v)) {
        x.push(u);
        y.push(v);
      }
    }
    if (x.length >= MIN_N && correlate(x, y) <= 1) tests++;
  };
  for (let i = 0; i < grid.length; i++) {
    for (let j = i + 1; j < grid.length; j++) {
      run(grid[i]!, grid[j]!, 0);
      for (let lag = 1; lag <= LAGS; lag++) {
        run(grid[i]!, grid[j]!, lag);
        run(grid[j]!, grid[i]!, lag);
      }
    }
  }
  return tests;
}

function time(fn: () => unknown, runs = RUNS): { median: number; p90: number } {
  for (let i = 0; i < WARMUP; i++) fn();
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn();
    ms.push(performance.now() - t0);
  }
  return summarise(ms);
}

/** WARMUP rounds, then RUNS rounds in which every function runs once, in turn; a timing per function. */
function timeInTurns(fns: (() => unknown)[]): Timing[] {
  for (let i = 0; i < WARMUP; i++) for (const fn of fns) fn();
  const ms: number[][] = fns.map(() => []);
  for (let i = 0; i < RUNS; i++) {
    for (let k = 0; k < fns.length; k++) {
      const t0 = performance.now();
      fns[k]!();
      ms[k]!.push(performance.now() - t0);
    }
  }
  return ms.map(summarise);
}

function summarise(ms: number[]): { median: number; p90: number } {
  const s = [...ms].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)]!;
  const mid = s.length >> 1;
  return { median: s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2, p90: q(0.9) };
}

// The same scan in numpy: the direct per-pair translation for Pearson (mask, corrcoef) and for Spearman
// (mask, mid-ranks of each side's paired days, corrcoef), and a vectorised Pearson (masked matrix
// products per lag; re-ranking per pair does not vectorise). Only the computation is timed, in Python,
// on one thread.
const NUMPY_SCRIPT = `
import json, sys, time
import numpy as np
grid = np.array(json.load(open(sys.argv[1])), dtype=float)  # metrics x days, NaN = missing
lags, min_n, warmup, runs, slow_runs = (int(v) for v in sys.argv[2:7])
S, T = grid.shape
ok = ~np.isnan(grid)

def midranks(v):
    order = np.argsort(v, kind='mergesort')
    sv = v[order]
    starts = np.r_[0, np.flatnonzero(np.diff(sv)) + 1]
    ends = np.r_[starts[1:], len(v)]
    ranks = np.empty(len(v))
    ranks[order] = np.repeat((starts + ends - 1) / 2, ends - starts)
    return ranks

def per_pair(rank):
    out = []
    for i in range(S):
        for j in range(i + 1, S):
            combos = [(i, j, 0)] + [c for L in range(1, lags + 1) for c in ((i, j, L), (j, i, L))]
            for a, b, L in combos:
                x = grid[a, :T - L]; y = grid[b, L:]
                m = ok[a, :T - L] & ok[b, L:]
                if m.sum() >= min_n:
                    u, v = x[m], y[m]
                    if rank:
                        u, v = midranks(u), midranks(v)
                    out.append(np.corrcoef(u, v)[0, 1])
    return out

def vectorised():
    out = []
    z = np.where(ok, grid - np.nanmean(grid, axis=1, keepdims=True), 0.0)
    w = ok.astype(float)
    for L in range(lags + 1):
        X, Y = z[:, :T - L], z[:, L:]
        MX, MY = w[:, :T - L], w[:, L:]
        n = MX @ MY.T
        sx = X @ MY.T; sy = MX @ Y.T
        sxx = (X * X) @ MY.T; syy = MX @ (Y * Y).T; sxy = X @ Y.T
        with np.errstate(invalid='ignore', divide='ignore'):
            r = (sxy - sx * sy / n) / np.sqrt((sxx - sx * sx / n) * (syy - sy * sy / n))
        keep = np.triu(np.ones((S, S), bool), 1) if L == 0 else ~np.eye(S, dtype=bool)
        out.append(r[keep & (n >= min_n)])
    return out

res = {}
cases = (("perPair", lambda: per_pair(False), runs), ("perPairSpearman", lambda: per_pair(True), slow_runs), ("vectorised", vectorised, runs))
for name, fn, runs in cases:
    for _ in range(warmup):
        fn()
    ms = []
    for _ in range(runs):
        t0 = time.perf_counter(); fn(); ms.append((time.perf_counter() - t0) * 1000)
    ms.sort()
    res[name] = {"median": float(np.median(ms)), "p90": ms[min(len(ms) - 1, int(np.ceil(0.9 * len(ms))) - 1)]}
print(json.dumps(res))
`;

type NumpyTimings = { perPair: Timing; perPairSpearman: Timing; vectorised: Timing };

function numpyTimings(grid: Float64Array[]): NumpyTimings | null {
  if (spawnSync('python3', ['-c', 'import numpy'], { stdio: 'ignore' }).status !== 0) return null;
  const dir = mkdtempSync(join(tmpdir(), 'lifexp-bench-'));
  try {
    const data = join(dir, 'grid.json');
    const script = join(dir, 'scan.py');
    writeFileSync(
      data,
      JSON.stringify(grid.map((row) => Array.from(row, (v) => (Number.isNaN(v) ? null : v)))),
    );
    writeFileSync(script, NUMPY_SCRIPT);
    const args = [script, data, String(LAGS), String(MIN_N), String(WARMUP), String(RUNS), String(SLOW_RUNS)];
    // One BLAS thread: the comparison is one core against one core.
    const env = { ...process.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1', MKL_NUM_THREADS: '1' };
    const run = spawnSync('python3', args, { encoding: 'utf8', maxBuffer: 1 << 20, env });
    if (run.status !== 0) {
      console.warn(`numpy benchmark failed: ${run.stderr}`);
      return null;
    }
    return JSON.parse(run.stdout) as NumpyTimings;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

type Timing = { median: number; p90: number };

/** Each series centred on its mean, missing days as 0: what the scan's Σxy products read. */
function centredGrid(grid: Float64Array[]): Float64Array[] {
  return grid.map((values) => {
    let sum = 0;
    let n = 0;
    for (const v of values) {
      if (Number.isNaN(v)) continue;
      sum += v;
      n++;
    }
    const m = sum / n;
    return Float64Array.from(values, (v) => (Number.isNaN(v) ? 0 : v - m));
  });
}

/**
 * The floor of any exact Pearson scan in JavaScript: the Σxy dot product of every test, with the
 * scan's own four-accumulator kernel, and nothing else — no sums of squares, p-values, nEff,
 * q-values or findings. Returns the number of products.
 */
function dotProductFloor(centred: Float64Array[], days: number): number {
  let products = 0;
  let sink = 0;
  for (let i = 0; i < centred.length; i++) {
    for (let j = i + 1; j < centred.length; j++) {
      sink += dot(centred[i]!, 0, centred[j]!, 0, days);
      for (let lag = 1; lag <= LAGS; lag++) {
        sink += dot(centred[i]!, 0, centred[j]!, lag, days - lag);
        sink += dot(centred[j]!, 0, centred[i]!, lag, days - lag);
      }
      products += 1 + 2 * LAGS;
    }
  }
  return Number.isNaN(sink) ? -1 : products;
}

export async function runAnalyticsBench(): Promise<void> {
  const series = syntheticSeries();
  const aligned = alignSeries(series);
  const options = { lags: LAGS, minN: MIN_N };

  const pearsonScan = correlationScan(series, { ...options, method: 'pearson', detrend: 'none' });
  const baselineTests = simpleStatisticsScan(aligned.values, aligned.days);
  if (baselineTests !== pearsonScan.testsRun) {
    throw new Error(`baseline ran ${baselineTests} tests, the scan ${pearsonScan.testsRun}`);
  }

  const rankBaselineTests = simpleStatisticsScan(aligned.values, aligned.days, sampleRankCorrelation);
  if (rankBaselineTests !== pearsonScan.testsRun) {
    throw new Error(`rank baseline ran ${rankBaselineTests} tests, the scan ${pearsonScan.testsRun}`);
  }

  // The fast runs take turns, round by round, so that a slower spell of the machine (or of the garbage
  // collector) weighs on all of them alike.
  // The scan as the server calls it (each series' trend and weekday means out, raw r beside) and on
  // the values as they are (detrend 'none', the same tests as the baselines).
  const centred = centredGrid(aligned.values);
  if (dotProductFloor(centred, aligned.days) !== pearsonScan.testsRun) {
    throw new Error('the dot-product floor does not run one product per test');
  }
  const [pearson, spearman, pearsonRaw, spearmanRaw, trends, baseline, floor] = timeInTurns([
    () => correlationScan(series, { ...options, method: 'pearson' }),
    () => correlationScan(series, { ...options, method: 'spearman' }),
    () => correlationScan(series, { ...options, method: 'pearson', detrend: 'none' }),
    () => correlationScan(series, { ...options, method: 'spearman', detrend: 'none' }),
    () => series.map((s) => trendReport(s)),
    () => simpleStatisticsScan(aligned.values, aligned.days),
    () => dotProductFloor(centred, aligned.days),
  ]) as [Timing, Timing, Timing, Timing, Timing, Timing, Timing];
  // Seconds per run: fewer runs.
  const rankBaseline = time(
    () => simpleStatisticsScan(aligned.values, aligned.days, sampleRankCorrelation),
    SLOW_RUNS,
  );
  const numpy = numpyTimings(aligned.values);

  const ratio = (base: Timing | undefined, t: Timing) => (base ? `${round(base.median / t.median)}×` : '');
  const row = (name: string, t: Timing, method?: 'pearson' | 'spearman') => ({
    name,
    'median ms': round(t.median),
    'p90 ms': round(t.p90),
    'vs simple-statistics sampleCorrelation scan': method ? ratio(baseline, t) : '',
    'vs simple-statistics, same method': method
      ? ratio(method === 'pearson' ? baseline : rankBaseline, t)
      : '',
    'vs numpy per-pair, same method':
      method && numpy ? ratio(method === 'pearson' ? numpy.perPair : numpy.perPairSpearman, t) : '',
    'vs numpy vectorised Pearson': method === 'pearson' && numpy ? ratio(numpy.vectorised, t) : '',
    'vs JS dot-product floor': method === 'pearson' ? ratio(floor, t) : '',
  });
  console.log(
    `${METRICS} metrics × ${DAYS} days, lags 0..${LAGS}: ${pearsonScan.testsRun} tests per scan ` +
      `(${pearsonScan.skipped.length} skipped); ${RUNS} timed rounds after ${WARMUP} warm-ups, taking turns ` +
      `(${SLOW_RUNS} for the per-pair Spearman baselines)`,
  );
  const rows = [
    row('correlationScan pearson (detrend auto)', pearson, 'pearson'),
    row('correlationScan spearman (detrend auto)', spearman, 'spearman'),
    row('correlationScan pearson, detrend none', pearsonRaw, 'pearson'),
    row('correlationScan spearman, detrend none', spearmanRaw, 'spearman'),
    row(`trendReport × ${METRICS}`, trends),
    row('simple-statistics sampleCorrelation scan', baseline, 'pearson'),
    row('simple-statistics sampleRankCorrelation scan', rankBaseline, 'spearman'),
    row('floor: the Pearson dot products alone (JS)', floor, 'pearson'),
  ];
  if (numpy) {
    rows.push(row('numpy per-pair corrcoef scan', numpy.perPair, 'pearson'));
    rows.push(row('numpy per-pair mid-rank Spearman scan', numpy.perPairSpearman, 'spearman'));
    rows.push(row('numpy vectorised Pearson scan (r only)', numpy.vectorised, 'pearson'));
  } else {
    console.log('python3 with numpy not found: numpy lines skipped');
  }
  console.table(rows);
}

function round(v: number): number {
  return Math.round(v * 100) / 100;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await runAnalyticsBench();
