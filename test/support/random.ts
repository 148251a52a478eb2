/*
 * Seeded random numbers for statistical tests and benchmarks, so that a run can be repeated exactly.
 * mulberry32: a small 32-bit generator, plenty for drawing samples.
 */

export interface Random {
  /** Uniform in [0, 1). */
  next(): number;
  /** Normal with this mean and standard deviation (Box-Muller). */
  normal(mean: number, sd: number): number;
  /** Log-normal: exp of a normal with this log-mean and log-sd, the usual shape of latencies. */
  lognormal(logMean: number, logSd: number): number;
  /** n draws of `draw`. */
  many(n: number, draw: () => number): number[];
}

export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const normal = (mean: number, sd: number): number => {
    const u = 1 - next(); // (0, 1]: log(0) would be -Infinity
    return mean + sd * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * next());
  };
  return {
    next,
    normal,
    lognormal: (logMean, logSd) => Math.exp(normal(logMean, logSd)),
    many: (n, draw) => Array.from({ length: n }, draw),
  };
}
