// Special functions behind every p-value: log-gamma, log-beta and the regularized incomplete beta and
// gamma functions. The small tail is always computed directly (never as 1 − something) and its
// prefactor in log space, so tail probabilities keep full relative precision down to ~1e-300.

const LN_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);
const LN_SQRT_PI = 0.5 * Math.log(Math.PI);
// Convergence tolerance of the continued fractions and series: a few ulps of 1.
const EPS = 1e-15;
// Lentz's guard against a zero denominator.
const TINY = 1e-300;
const MAX_ITER = 100_000;

/**
 * Stirling-series remainder δ(x) = lnΓ(x) − [(x − ½)ln x − x + ½ln 2π] for x ≥ 10:
 * δ(x) = Σ B₂ₖ / (2k(2k − 1) x^(2k−1)), truncated after B₁₆ (error < 3e-17 at x = 10).
 * Source: Abramowitz & Stegun 6.1.40; the same split is used by R's nmath (lgammacor, Loader 2000).
 */
function stirlingRemainder(x: number): number {
  const z = 1 / (x * x);
  return (
    (1 / 12 +
      z *
        (-1 / 360 +
          z *
            (1 / 1260 +
              z *
                (-1 / 1680 + z * (1 / 1188 + z * (-691 / 360360 + z * (1 / 156 + z * (-3617 / 122400)))))))) /
    x
  );
}

/**
 * ln Γ(x) for x > 0. For x ≥ 10 the Stirling series (A&S 6.1.40) with remainder δ(x); below 10 the
 * recurrence Γ(x) = Γ(x + k) / (x(x + 1)…(x + k − 1)) shifts the argument up first.
 * Absolute error ~1e-15, which is what the exp(…) prefactors of the tail functions need.
 */
export function logGamma(x: number): number {
  if (!(x > 0)) return Number.NaN;
  let shift = 1;
  let z = x;
  while (z < 10) {
    shift *= z;
    z += 1;
  }
  return (z - 0.5) * Math.log(z) - z + LN_SQRT_2PI + stirlingRemainder(z) - Math.log(shift);
}

/**
 * ln B(a, b) = lnΓ(a) + lnΓ(b) − lnΓ(a + b), arranged so that the large lnΓ terms cancel analytically
 * rather than numerically (otherwise df ≈ 1e6 would lose ~7 digits).
 * Source: R nmath lbeta.c (after DiDonato & Morris 1992, ACM TOMS 18:360).
 */
export function logBeta(a: number, b: number): number {
  const p = Math.min(a, b);
  const q = Math.max(a, b);
  if (!(p > 0)) return Number.NaN;
  if (p >= 10) {
    const corr = stirlingRemainder(p) + stirlingRemainder(q) - stirlingRemainder(p + q);
    return (
      -0.5 * Math.log(q) +
      LN_SQRT_2PI +
      corr +
      (p - 0.5) * Math.log(p / (p + q)) +
      q * Math.log1p(-p / (p + q))
    );
  }
  if (q >= 10) {
    // p = ½ is the Student t case (b = ½ in every t and correlation p-value): lnΓ(½) = ln √π.
    const corr = stirlingRemainder(q) - stirlingRemainder(p + q);
    return (
      (p === 0.5 ? LN_SQRT_PI : logGamma(p)) +
      corr +
      p -
      p * Math.log(p + q) +
      (q - 0.5) * Math.log1p(-p / (p + q))
    );
  }
  return logGamma(p) + logGamma(q) - logGamma(p + q);
}

/**
 * Continued fraction for I_x(a, b) (Numerical Recipes 3rd ed. §6.4, eq. 6.4.5), evaluated with the
 * modified Lentz method (Lentz 1976; Thompson & Barnett 1986). Converges fast for x < (a+1)/(a+b+2).
 */
function betaContinuedFraction(a: number, b: number, x: number): number {
  const qab = a + b;
  const qap = a + 1;
  const qam = a - 1;
  const lentz: Lentz = { c: 1, d: 1 / awayFromZero(1 - (qab * x) / qap) };
  let h = lentz.d;
  for (let m = 1; m <= MAX_ITER; m++) {
    const m2 = 2 * m;
    h *= lentzStep(lentz, (m * (b - m) * x) / ((qam + m2) * (a + m2)), 1);
    const del = lentzStep(lentz, (-(a + m) * (qab + m) * x) / ((a + m2) * (qap + m2)), 1);
    h *= del;
    if (Math.abs(del - 1) < EPS) break;
  }
  return h;
}

/** The running C and D of the modified Lentz method. */
interface Lentz {
  c: number;
  d: number;
}

/** v, or TINY in its place when it is nearly 0: Lentz's guard against a zero denominator. */
function awayFromZero(v: number): number {
  return Math.abs(v) < TINY ? TINY : v;
}

/**
 * One step of the modified Lentz method (Lentz 1976; Thompson & Barnett 1986) for the next term
 * aₘ/(bₘ + …) of a continued fraction: D ← 1/(bₘ + aₘD), C ← bₘ + aₘ/C; returns the factor C·D that
 * multiplies the running value.
 */
function lentzStep(lentz: Lentz, am: number, bm: number): number {
  lentz.d = 1 / awayFromZero(bm + am * lentz.d);
  lentz.c = awayFromZero(bm + am / lentz.c);
  return lentz.d * lentz.c;
}

/** x^a (1−x)^b / (a B(a,b)) × CF, in log space; valid (fast) when x < (a+1)/(a+b+2). */
function betaTail(a: number, b: number, x: number, y: number): number {
  // Take each logarithm from whichever of x, y = 1 − x is the accurate small number.
  const lnx = x < 0.5 ? Math.log(x) : Math.log1p(-y);
  const lny = y < 0.5 ? Math.log(y) : Math.log1p(-x);
  const logFront = a * lnx + b * lny - logBeta(a, b) - Math.log(a);
  return Math.exp(logFront + Math.log(betaContinuedFraction(a, b, x)));
}

/**
 * Regularized incomplete beta I_x(a, b) = B(x; a, b) / B(a, b).
 * Pass `y = 1 − x` when it is known more accurately than 1 − x (e.g. y = r², x = (1 − r)(1 + r)).
 * Source: Numerical Recipes 3rd ed. §6.4 (symmetry I_x(a,b) = 1 − I_{1−x}(b,a) picks the convergent side).
 */
export function betaIncReg(a: number, b: number, x: number, y: number = 1 - x): number {
  if (Number.isNaN(x) || Number.isNaN(y) || !(a > 0) || !(b > 0)) return Number.NaN;
  if (x <= 0) return 0;
  if (y <= 0) return 1;
  if (x * (a + b + 2) < a + 1) return Math.min(1, betaTail(a, b, x, y));
  return Math.max(0, 1 - betaTail(b, a, y, x));
}

/** Upper regularized incomplete beta 1 − I_x(a, b) = I_{1−x}(b, a), computed without cancellation. */
export function betaIncRegUpper(a: number, b: number, x: number, y: number = 1 - x): number {
  return betaIncReg(b, a, y, x);
}

/** Series Σ xⁿ / (a(a+1)…(a+n)) for P(a, x) without its prefactor (Numerical Recipes 3rd ed. §6.2, gser). */
export function gammaSeries(a: number, x: number): number {
  let ap = a;
  let del = 1 / a;
  let sum = del;
  for (let i = 0; i < MAX_ITER; i++) {
    ap += 1;
    del *= x / ap;
    sum += del;
    if (Math.abs(del) < Math.abs(sum) * EPS) break;
  }
  return sum;
}

/** Continued fraction for Q(a, x) without its prefactor (Numerical Recipes 3rd ed. §6.2, gcf; Lentz). */
export function gammaContinuedFraction(a: number, x: number): number {
  let b = x + 1 - a;
  const lentz: Lentz = { c: 1 / TINY, d: 1 / b };
  let h = lentz.d;
  for (let i = 1; i <= MAX_ITER; i++) {
    b += 2;
    const del = lentzStep(lentz, -i * (i - a), b);
    h *= del;
    if (Math.abs(del - 1) < EPS) break;
  }
  return h;
}

/** ln(e^(−x) x^a / Γ(a)), the common prefactor of P(a, x) and Q(a, x). */
function gammaLogFront(a: number, x: number): number {
  return -x + a * Math.log(x) - logGamma(a);
}

/**
 * Regularized lower incomplete gamma P(a, x) = γ(a, x) / Γ(a): series for x < a + 1, otherwise
 * 1 − Q via the continued fraction (Numerical Recipes 3rd ed. §6.2; A&S 6.5.29 and 6.5.31).
 */
export function gammaIncReg(a: number, x: number): number {
  if (Number.isNaN(x) || !(a > 0)) return Number.NaN;
  if (x <= 0) return 0;
  if (x === Infinity) return 1;
  if (x < a + 1) return Math.min(1, Math.exp(gammaLogFront(a, x) + Math.log(gammaSeries(a, x))));
  return Math.max(0, 1 - Math.exp(gammaLogFront(a, x) + Math.log(gammaContinuedFraction(a, x))));
}

/** Regularized upper incomplete gamma Q(a, x) = 1 − P(a, x), the small tail computed directly. */
export function gammaIncRegUpper(a: number, x: number): number {
  if (Number.isNaN(x) || !(a > 0)) return Number.NaN;
  if (x <= 0) return 1;
  if (x === Infinity) return 0;
  if (x < a + 1) return Math.max(0, 1 - Math.exp(gammaLogFront(a, x) + Math.log(gammaSeries(a, x))));
  return Math.min(1, Math.exp(gammaLogFront(a, x) + Math.log(gammaContinuedFraction(a, x))));
}
