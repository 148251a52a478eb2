import erfc from '@stdlib/math-base-special-erfc';
import erfcinv from '@stdlib/math-base-special-erfcinv';

/*
 * The two-sample Mann-Whitney U (Wilcoxon rank sum) test with its confidence interval for the location shift, computed
 * as R's `wilcox.test(x, y, conf.int = TRUE, exact = FALSE, correct = TRUE, conf.level, mu)` computes it: average
 * ranks for ties, the normal approximation with the tie correction in its variance and the continuity correction in
 * its statistic, and the interval and the Hodges-Lehmann estimate as the roots of that statistic taken as a function
 * of the shift, found with the same Brent root finder (R's zeroin) and the same tolerance (1e-4). Following R's steps
 * one for one is what makes the answers agree with R to the last digits: the statistic is a step function of the
 * shift, so where inside a step the root finder stops depends on the path it took. test/fixtures/mann-whitney holds
 * R's answers and the script that made them.
 *
 * The ranks are not sorted again for every shift the root finder tries: x and y are sorted once, x - d keeps x's
 * order, and one merge of the two sorted lists gives the rank sum and the ties in linear time. That keeps a judgement
 * over 2 x 600 samples well under a millisecond.
 */

export interface MannWhitneyOptions {
  /** The confidence level of the interval, in (0, 1); R's default 0.95. */
  confLevel?: number;
  /** The location shift under the null hypothesis; 0 by default. */
  mu?: number;
}

export interface MannWhitneyResult {
  /** Two-sided p-value of "x - y is shifted by mu". NaN when every observation is tied (R gives NaN too). */
  pValue: number;
  /** The confidence interval for the shift of x against y. */
  lower: number;
  upper: number;
  /** The Hodges-Lehmann estimate of the shift (R's "difference in location"). */
  estimate: number;
}

/** R's uniroot tolerance in wilcox.test (`tol.root`). */
const ROOT_TOLERANCE = 1e-4;
/** R's uniroot default `maxiter`. */
const ROOT_MAX_ITERATIONS = 1000;

/**
 * Compares x with y. NaN values are dropped, as R drops missing values. Infinite values are refused: R's interval
 * search starts at min(x) - max(y), which an infinity makes meaningless.
 *
 * Where R stops with an error instead of answering (both samples constant, so every observation ties at the one
 * possible shift), the interval and the estimate are that shift, the only difference the samples show.
 */
export function mannWhitney(x: readonly number[], y: readonly number[], options: MannWhitneyOptions = {}): MannWhitneyResult {
  const confLevel = options.confLevel ?? 0.95;
  const mu = options.mu ?? 0;
  if (!(confLevel > 0 && confLevel < 1)) throw new RangeError(`confLevel must be a number between 0 and 1 (exclusive), got ${confLevel}`);
  if (!Number.isFinite(mu)) throw new RangeError(`mu must be a finite number, got ${mu}`);
  const xs = present(x, 'x');
  const ys = present(y, 'y');
  const nx = xs.length;
  const ny = ys.length;

  // The test itself: ranks of c(x - mu, y).
  const atMu = rankSum(xs, mu, ys);
  const z0 = atMu.sum - (nx * (nx + 1)) / 2 - (nx * ny) / 2;
  const z = (z0 - Math.sign(z0) * 0.5) / sigma(nx, ny, atMu.ties);
  const pValue = twoSidedP(z);

  // The interval: the shifts d at which the statistic of (x - d, y) crosses the normal quantiles.
  const mumin = xs[0]! - ys[ny - 1]!;
  const mumax = xs[nx - 1]! - ys[0]!;
  if (mumin === mumax) return { pValue, lower: mumin, upper: mumin, estimate: mumin };

  const W = (d: number, correct: boolean): number => {
    const ranked = rankSum(xs, d, ys);
    const dz = ranked.sum - (nx * (nx + 1)) / 2 - (nx * ny) / 2;
    const correction = correct ? Math.sign(dz) * 0.5 : 0;
    return (dz - correction) / sigma(nx, ny, ranked.ties);
  };
  const wMin = W(mumin, true);
  const wMax = W(mumax, true);
  const root = (zq: number): number => {
    const fLower = wMin - zq;
    if (fLower <= 0) return mumin;
    const fUpper = wMax - zq;
    if (fUpper >= 0) return mumax;
    return zeroin((d) => W(d, true) - zq, mumin, mumax, fLower, fUpper);
  };
  const alpha = 1 - confLevel;
  const lower = root(-qnorm(alpha / 2));
  const upper = root(qnorm(alpha / 2));

  // The estimate: where the statistic without the continuity correction is zero.
  const fLower = W(mumin, false);
  const fUpper = W(mumax, false);
  // Cannot happen for finite samples that are not both constant (W(mumin) >= 0 >= W(mumax)); R would stop here.
  if (Math.sign(fLower) * Math.sign(fUpper) > 0) throw new Error(`mannWhitney: the statistic does not change sign between ${mumin} and ${mumax}`);
  const estimate = zeroin((d) => W(d, false), mumin, mumax, fLower, fUpper);
  return { pValue, lower, upper, estimate };
}

/**
 * Whether samples of these sizes can show a shift at `confLevel` at all: the p-value of two samples that do not overlap
 * (the smallest this test gives, counted without ties) is below 1 - confLevel. When it is not, R's interval is the
 * whole range of differences between the samples (the root search stops at the ends), which excludes zero whenever
 * the samples do not overlap but carries no confidence: one baseline sample under five canary ones gives p = 0.24.
 * At 0.98, five and four samples are the fewest that can; at 0.95, four a side.
 */
export function levelReachable(nx: number, ny: number, confLevel: number): boolean {
  if (nx === 0 || ny === 0) return false;
  const z = ((nx * ny) / 2 - 0.5) / sigma(nx, ny, 0);
  return twoSidedP(z) < 1 - confLevel;
}

/** The sample without NaN, sorted ascending; refuses an empty sample and infinities. */
function present(values: readonly number[], name: string): Float64Array {
  const kept = values.filter((v) => !Number.isNaN(v));
  if (kept.length === 0) throw new RangeError(`mannWhitney needs at least one number in ${name} (got ${values.length} values, none a number)`);
  if (kept.some((v) => !Number.isFinite(v))) throw new RangeError(`mannWhitney cannot compare infinite values (found one in ${name})`);
  return Float64Array.from(kept).sort();
}

/**
 * The sum of the average ranks of x - d within c(x - d, y), and the tie term sum(t^3 - t) over groups of equal values,
 * by one merge of the sorted x - d (subtracting a constant keeps the order) and the sorted y.
 */
function rankSum(xs: Float64Array, d: number, ys: Float64Array): { sum: number; ties: number } {
  const nx = xs.length;
  const ny = ys.length;
  let i = 0;
  let j = 0;
  let below = 0;
  let sum = 0;
  let ties = 0;
  while (i < nx || j < ny) {
    const xv = i < nx ? xs[i]! - d : Infinity;
    const yv = j < ny ? ys[j]! : Infinity;
    const value = i < nx && (j >= ny || xv <= yv) ? xv : yv;
    let fromX = 0;
    while (i < nx && xs[i]! - d === value) {
      fromX++;
      i++;
    }
    let fromY = 0;
    while (j < ny && ys[j] === value) {
      fromY++;
      j++;
    }
    const t = fromX + fromY;
    sum += fromX * (below + (t + 1) / 2);
    ties += t * t * t - t;
    below += t;
  }
  return { sum, ties };
}

/** The statistic's standard deviation with the tie correction, in R's order of operations. */
function sigma(nx: number, ny: number, ties: number): number {
  return Math.sqrt(((nx * ny) / 12) * (nx + ny + 1 - ties / ((nx + ny) * (nx + ny - 1))));
}

/** 2 * min(pnorm(z), 1 - pnorm(z)). */
function twoSidedP(z: number): number {
  if (Number.isNaN(z)) return NaN;
  return erfc(Math.abs(z) / Math.SQRT2);
}

/** The standard normal quantile, for probabilities in (0, 1). */
function qnorm(p: number): number {
  return -Math.SQRT2 * erfcinv(2 * p);
}

/**
 * Brent's root finder as R's C function R_zeroin2 runs it (Forsythe, Malcolm and Moler's zeroin), given f at both ends
 * with opposite signs. The same steps in the same order, so that on a step function it stops where R stops.
 */
function zeroin(f: (x: number) => number, ax: number, bx: number, fax: number, fbx: number): number {
  let a = ax;
  let b = bx;
  let fa = fax;
  let fb = fbx;
  let c = a;
  let fc = fa;
  if (fa === 0) return a;
  if (fb === 0) return b;
  for (let left = ROOT_MAX_ITERATIONS + 1; left > 0; left--) {
    const prevStep = b - a;
    if (Math.abs(fc) < Math.abs(fb)) {
      // Make b the best approximation so far.
      a = b;
      b = c;
      c = a;
      fa = fb;
      fb = fc;
      fc = fa;
    }
    const tolAct = 2 * Number.EPSILON * Math.abs(b) + ROOT_TOLERANCE / 2;
    let newStep = (c - b) / 2;
    if (Math.abs(newStep) <= tolAct || fb === 0) return b;

    // Interpolate when the previous step was large enough and went the right way; otherwise bisect.
    if (Math.abs(prevStep) >= tolAct && Math.abs(fa) > Math.abs(fb)) {
      let p: number;
      let q: number;
      const cb = c - b;
      if (a === c) {
        // Only two distinct points: linear interpolation.
        const t1 = fb / fa;
        p = cb * t1;
        q = 1 - t1;
      } else {
        // Inverse quadratic interpolation.
        const qa = fa / fc;
        const t1 = fb / fc;
        const t2 = fb / fa;
        p = t2 * (cb * qa * (qa - t1) - (b - a) * (t1 - 1));
        q = (qa - 1) * (t1 - 1) * (t2 - 1);
      }
      if (p > 0) q = -q;
      else p = -p;
      if (p < 0.75 * cb * q - Math.abs(tolAct * q) / 2 && p < Math.abs((prevStep * q) / 2)) newStep = p / q;
    }
    if (Math.abs(newStep) < tolAct) newStep = newStep > 0 ? tolAct : -tolAct;
    a = b;
    fa = fb;
    b += newStep;
    fb = f(b);
    if ((fb > 0 && fc > 0) || (fb < 0 && fc < 0)) {
      c = a;
      fc = fa;
    }
  }
  // R warns that it did not converge and returns the last approximation; a step function converges long before.
  return b;
}
