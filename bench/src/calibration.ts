// Calibration of the correlation scan on simulated users: false-discovery rate, share of no-effect users
// with any finding, and power, for each way of reducing a series to its deviations (DetrendMethod),
// beside the naive scan (the values as they are) and, on stationary numeric data, beside an ideal
// correction that knows each series' true lag-1 autocorrelation.
//
// `pnpm bench calibration`: 1000 users per scenario, the naive scan beside the default; `--compare` adds
// every other way of detrending (about 3 minutes on 2 cores); `--users=N` for more users, `--seed=S` for
// other data, `--scenarios=drift,walk` for some scenarios only.
import type { DailySeries, DetrendMethod, ScanMethod, ScanResult } from '@lifexp/analytics';
import { benjaminiHochberg, correlationPValue, correlationScan, seededRandom } from '@lifexp/analytics';
import { numberFlag } from './support.ts';

const DAYS = 365;
const METRICS = 6;
const LAGS = 1; // the server's default maxLag
const MIN_N = 14;
const Q = 0.05;
const MISSING = 0.1;
const EFFECTS = [0.2, 0.3, 0.45];

type Kind = 'number' | 'rating' | 'binary';
type Scenario =
  | 'stationary'
  | 'stationary-numeric'
  | 'drift'
  | 'walk'
  | 'walk-strong'
  | 'walk-strong-numeric'
  | 'weekly';
const SCENARIOS: { name: Scenario; label: string }[] = [
  { name: 'stationary', label: 'stationary AR(1), φ ∈ {0, 0.3, 0.6, 0.9}' },
  { name: 'stationary-numeric', label: 'the same, numbers only (with the ideal correction)' },
  { name: 'drift', label: 'independent linear drifts (±1–3 sd over the year) + AR(1) φ ∈ {0.3, 0.6}' },
  { name: 'walk', label: 'random walks (step sd 0.1: sd ≈ 1.9 after a year) + AR(1) φ = 0.3' },
  {
    name: 'walk-strong',
    label: 'random walks (step sd 0.3: sd ≈ 5.7, ratings and yes/no pinned for months)',
  },
  { name: 'walk-strong-numeric', label: 'the same, numbers only' },
  { name: 'weekly', label: 'weekly rhythms (weekday sd 0.7) + AR(1) φ ∈ {0.3, 0.6}' },
];

interface Variant {
  name: string;
  detrend: DetrendMethod;
  weekday: boolean;
  /** Lags in the effective-n correction (1: Bretherton's lag-1 formula). */
  acf: number;
  /** Run without --compare. */
  always?: boolean;
}
const VARIANTS: Variant[] = [
  { name: 'naive (none)', detrend: 'none', weekday: false, acf: 1, always: true },
  { name: 'linear Theil–Sen', detrend: 'theil-sen', weekday: false, acf: 1 },
  { name: 'linear OLS + weekday', detrend: 'linear', weekday: true, acf: 1 },
  { name: 'local 29-day mean + weekday', detrend: 'local', weekday: true, acf: 1 },
  { name: 'difference + weekday', detrend: 'difference', weekday: true, acf: 1 },
  { name: 'prewhiten AR(1)', detrend: 'prewhiten', weekday: false, acf: 1 },
  { name: 'prewhiten AR(1) + weekday', detrend: 'prewhiten', weekday: true, acf: 1 },
  { name: 'difference + weekday, nEff 28 lags', detrend: 'difference', weekday: true, acf: 28 },
  { name: 'linear OLS + weekday, nEff 28 lags', detrend: 'linear', weekday: true, acf: 28 },
  { name: 'prewhiten AR(1) + weekday, nEff 28 lags', detrend: 'prewhiten', weekday: true, acf: 28 },
  {
    name: 'auto (linear, or changes when wandering by KPSS) + weekday, nEff 28 lags ÷ variance concentration',
    detrend: 'auto',
    weekday: true,
    acf: 28,
    always: true,
  },
];

interface Planted {
  x: string;
  y: string;
  lag: number;
  beta: number;
}

interface User {
  series: DailySeries[];
  kinds: Map<string, Kind>;
  planted: Planted[];
  /** True lag-1 autocorrelation of each series' stationary part (stationary scenarios). */
  rho: Map<string, number>;
}

function simulateUser(scenario: Scenario, withEffects: boolean, rand: () => number): User {
  const gauss = () => Math.sqrt(-2 * Math.log(rand() + 1e-300)) * Math.cos(2 * Math.PI * rand());
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const phis =
    scenario === 'stationary' || scenario === 'stationary-numeric'
      ? [0, 0.3, 0.6, 0.9]
      : scenario.startsWith('walk')
        ? [0.3]
        : [0.3, 0.6];
  // Stationary parts, unit variance.
  const phi: number[] = [];
  const s: Float64Array[] = [];
  for (let m = 0; m < METRICS; m++) {
    const f = pick(phis);
    phi.push(f);
    const out = new Float64Array(DAYS);
    let v = gauss();
    const k = Math.sqrt(1 - f * f);
    for (let d = 0; d < DAYS; d++) {
      if (d > 0) v = f * v + k * gauss();
      out[d] = v;
    }
    s.push(out);
  }
  const ids = Array.from({ length: METRICS }, (_, m) => `m${m}`);
  const rho = new Map<string, number>(ids.map((id, m) => [id, phi[m]!]));
  // Planted effects on disjoint pairs: y's stationary part ← √(1 − β²)·y + β·x(d − lag).
  const planted: Planted[] = [];
  if (withEffects) {
    for (const [a, b] of [
      [0, 1],
      [2, 3],
    ] as const) {
      const beta = pick(EFFECTS) * (rand() < 0.5 ? -1 : 1);
      const lag = pick([0, 1]);
      const y = s[b]!;
      const x = s[a]!;
      const k = Math.sqrt(1 - beta * beta);
      for (let d = DAYS - 1; d >= 0; d--)
        y[d] = k * y[d]! + (d - lag >= 0 ? beta * x[d - lag]! : beta * gauss());
      rho.set(ids[b]!, k * k * phi[b]! + beta * beta * phi[a]!);
      planted.push({ x: ids[a]!, y: ids[b]!, lag, beta });
    }
  }
  const kinds = new Map<string, Kind>();
  const series: DailySeries[] = [];
  for (let m = 0; m < METRICS; m++) {
    const latent = s[m]!;
    if (scenario === 'drift') {
      const change = (1 + 2 * rand()) * (rand() < 0.5 ? -1 : 1);
      for (let d = 0; d < DAYS; d++) latent[d] = latent[d]! + (change * d) / (DAYS - 1);
    } else if (scenario.startsWith('walk')) {
      const step = scenario === 'walk' ? 0.1 : 0.3;
      let w = 0;
      for (let d = 0; d < DAYS; d++) {
        w += step * gauss();
        latent[d] = latent[d]! + w;
      }
    } else if (scenario === 'weekly') {
      const profile = Array.from({ length: 7 }, () => 0.7 * gauss());
      for (let d = 0; d < DAYS; d++) latent[d] = latent[d]! + profile[d % 7]!;
    }
    const u = rand();
    const kind: Kind =
      scenario === 'stationary-numeric' || scenario === 'walk-strong-numeric' || u < 0.5
        ? 'number'
        : u < 0.8
          ? 'rating'
          : 'binary';
    kinds.set(ids[m]!, kind);
    const values: (number | null)[] = new Array(DAYS);
    for (let d = 0; d < DAYS; d++) {
      const z = latent[d]!;
      values[d] =
        rand() < MISSING
          ? null
          : kind === 'number'
            ? 50 + 10 * z
            : kind === 'rating'
              ? Math.min(5, Math.max(1, Math.round(3 + 1.1 * z)))
              : z > 0.3
                ? 1
                : 0;
    }
    series.push({ id: ids[m]!, start: '2025-01-01', values });
  }
  return { series, kinds, planted, rho };
}

/** The server's 'auto' method: Pearson with a yes/no side, Spearman with a rating, Pearson otherwise. */
function methodOf(kinds: Map<string, Kind>) {
  return (x: string, y: string): ScanMethod => {
    const a = kinds.get(x);
    const b = kinds.get(y);
    if (a === 'binary' || b === 'binary') return 'pearson';
    return a === 'rating' || b === 'rating' ? 'spearman' : 'pearson';
  };
}

interface Tally {
  users: number;
  nullUsers: number;
  nullUsersWithFinding: number;
  fdpSum: number;
  discoveries: number;
  falseDiscoveries: number;
  planted: number[];
  found: number[];
  /** Discoveries on planted pairs, and those whose sign is opposite to the planted effect's. */
  related: number;
  wrongSign: number;
  ms: number;
}

const newTally = (): Tally => ({
  users: 0,
  nullUsers: 0,
  nullUsersWithFinding: 0,
  fdpSum: 0,
  discoveries: 0,
  falseDiscoveries: 0,
  planted: EFFECTS.map(() => 0),
  found: EFFECTS.map(() => 0),
  related: 0,
  wrongSign: 0,
  ms: 0,
});

const pairKey = (a: string, b: string) => (a < b ? `${a}|${b}` : `${b}|${a}`);

/** Discoveries are findings with q ≤ Q; a discovery is false when its (unordered) pair has no planted effect. */
function score(
  t: Tally,
  user: User,
  findings: { x: string; y: string; lag: number; q: number; effect: number }[],
): void {
  const related = new Set(user.planted.map((p) => pairKey(p.x, p.y)));
  let r = 0;
  let v = 0;
  for (const f of findings) {
    if (!(f.q <= Q)) continue;
    r++;
    if (!related.has(pairKey(f.x, f.y))) v++;
  }
  t.users++;
  t.discoveries += r;
  t.falseDiscoveries += v;
  t.fdpSum += r > 0 ? v / r : 0;
  if (user.planted.length === 0) {
    t.nullUsers++;
    if (r > 0) t.nullUsersWithFinding++;
  }
  for (const p of user.planted) {
    for (const f of findings) {
      if (!(f.q <= Q) || pairKey(f.x, f.y) !== pairKey(p.x, p.y)) continue;
      t.related++;
      if (Math.sign(f.effect) !== Math.sign(p.beta)) t.wrongSign++;
    }
    const e = EFFECTS.indexOf(Math.abs(p.beta));
    t.planted[e]!++;
    const hit = findings.some(
      (f) =>
        f.q <= Q &&
        f.lag === p.lag &&
        ((f.x === p.x && f.y === p.y) || (p.lag === 0 && f.x === p.y && f.y === p.x)),
    );
    if (hit) t.found[e]!++;
  }
}

/** The ideal correction: the naive scan's raw r with nEff from the true lag-1 autocorrelations, then BH. */
function idealFindings(user: User, naive: ScanResult) {
  const p = naive.findings.map((f) => {
    const prod = user.rho.get(f.x)! * user.rho.get(f.y)!;
    const nEff = Math.min(f.n, Math.max(3, (f.n * (1 - prod)) / (1 + prod)));
    return correlationPValue(f.effect, nEff - 2);
  });
  const q = benjaminiHochberg(p);
  return naive.findings.map((f, i) => ({ x: f.x, y: f.y, lag: f.lag, q: q[i]!, effect: f.effect }));
}

const pct = (a: number, b: number) => (b > 0 ? `${((100 * a) / b).toFixed(1)}%` : '');

export async function runCalibrationBench(): Promise<void> {
  const usersPerScenario = numberFlag('users', 1000, 10, 1_000_000);
  const seed = numberFlag('seed', 20250101, 0, 2 ** 32);
  console.log(
    `${usersPerScenario} simulated users per scenario (half with two planted effects, |β| ∈ {${EFFECTS.join(', ')}}, ` +
      `lag 0 or 1), ${METRICS} metrics × ${DAYS} days (number 50%, rating 1..5 30%, yes/no 20%; ` +
      `${MISSING * 100}% days missing), lags 0..${LAGS}, minN ${MIN_N}, discoveries at q ≤ ${Q}; seed ${seed}`,
  );
  const defaults = correlationScan([]);
  const variants = process.argv.includes('--compare') ? VARIANTS : VARIANTS.filter((v) => v.always);
  const rows: Record<string, string | number>[] = [];
  const t0 = performance.now();
  const onlyArg = process.argv.find((a) => a.startsWith('--scenarios='));
  const only = onlyArg ? new Set(onlyArg.slice('--scenarios='.length).split(',')) : null;
  for (const scenario of SCENARIOS) {
    if (only && !only.has(scenario.name)) continue;
    const rand = seededRandom(seed + SCENARIOS.indexOf(scenario) * 7919);
    const tallies = variants.map(newTally);
    const ideal = newTally();
    for (let u = 0; u < usersPerScenario; u++) {
      const user = simulateUser(scenario.name, u % 2 === 1, rand);
      const method = methodOf(user.kinds);
      for (let v = 0; v < variants.length; v++) {
        const variant = variants[v]!;
        const start = performance.now();
        const res = correlationScan(user.series, {
          lags: LAGS,
          minN: MIN_N,
          method,
          detrend: variant.detrend,
          weekday: variant.weekday,
          autocorrelationLags: variant.acf,
        });
        tallies[v]!.ms += performance.now() - start;
        score(tallies[v]!, user, res.findings);
        if (v === 0 && scenario.name === 'stationary-numeric') score(ideal, user, idealFindings(user, res));
      }
    }
    const emit = (name: string, t: Tally) => {
      const row: Record<string, string | number> = {
        scenario: scenario.name,
        method: name,
        FDR: (t.fdpSum / t.users).toFixed(3),
        'no-effect users with a finding': pct(t.nullUsersWithFinding, t.nullUsers),
        power: pct(
          t.found.reduce((a, b) => a + b, 0),
          t.planted.reduce((a, b) => a + b, 0),
        ),
      };
      EFFECTS.forEach((e, i) => {
        row[`power |β|=${e}`] = pct(t.found[i]!, t.planted[i]!);
      });
      row['wrong sign'] = pct(t.wrongSign, t.related);
      row['ms/scan'] = t.ms > 0 ? (t.ms / t.users).toFixed(2) : '';
      rows.push(row);
    };
    variants.forEach((variant, v) => {
      const isDefault =
        variant.detrend === defaults.detrend && variant.weekday === defaults.weekday && variant.acf === 28;
      emit(`${variant.name}${isDefault ? ' (default)' : ''}`, tallies[v]!);
    });
    if (scenario.name === 'stationary-numeric') emit('ideal (true ρ₁, raw r)', ideal);
  }
  for (const s of SCENARIOS) console.log(`  ${s.name}: ${s.label}`);
  console.log(
    "'wrong sign': share of discoveries on planted pairs (any lag, either order) whose sign is opposite to the planted effect's",
  );
  console.table(rows);
  console.log(`${((performance.now() - t0) / 1000).toFixed(1)} s`);
}
