// Runs anywhere (pure). Chance-corrected agreement between readers: Cohen's kappa for two raters,
// Fleiss' kappa for more, and raw agreement. Categories are compared with ===.

/** Share of pairs with the same call; null for no pairs. */
export function pairAgreement<T>(pairs: ReadonlyArray<readonly [T, T]>): number | null {
  if (pairs.length === 0) return null;
  return pairs.filter(([a, b]) => a === b).length / pairs.length;
}

/**
 * Cohen's kappa, κ = (pₒ − pₑ) / (1 − pₑ), with pₑ from each rater's own marginals. Null when it is
 * undefined: no pairs, or both raters used one and the same category throughout (pₑ = 1).
 */
export function cohenKappa<T>(pairs: ReadonlyArray<readonly [T, T]>): number | null {
  const n = pairs.length;
  if (n === 0) return null;
  const a = new Map<T, number>();
  const b = new Map<T, number>();
  for (const [x, y] of pairs) {
    a.set(x, (a.get(x) ?? 0) + 1);
    b.set(y, (b.get(y) ?? 0) + 1);
  }
  let pe = 0;
  for (const [cat, na] of a) pe += (na / n) * ((b.get(cat) ?? 0) / n);
  const po = pairAgreement(pairs)!;
  if (1 - pe < 1e-12) return null;
  return (po - pe) / (1 - pe);
}

/**
 * Fleiss' kappa from a subjects × categories table of counts, every row summing to the same number
 * of raters n ≥ 2. Null when undefined (no subjects, or every rating in one category).
 */
export function fleissKappa(counts: ReadonlyArray<ReadonlyArray<number>>): number | null {
  const N = counts.length;
  if (N === 0) return null;
  const n = counts[0]!.reduce((s, v) => s + v, 0);
  if (n < 2 || counts.some((row) => row.reduce((s, v) => s + v, 0) !== n)) {
    throw new RangeError('Fleiss kappa needs the same number (at least two) of ratings for every subject');
  }
  const k = counts[0]!.length;
  let pBar = 0;
  for (const row of counts) pBar += (row.reduce((s, v) => s + v * v, 0) - n) / (n * (n - 1));
  pBar /= N;
  let pe = 0;
  for (let j = 0; j < k; j++) {
    const pj = counts.reduce((s, row) => s + (row[j] ?? 0), 0) / (N * n);
    pe += pj * pj;
  }
  if (1 - pe < 1e-12) return null;
  return (pBar - pe) / (1 - pe);
}

/** Share of subjects on which every rater made the same call (subjects with fewer than two calls are skipped). */
export function unanimity<T>(subjects: ReadonlyArray<ReadonlyArray<T>>): { cases: number; rate: number | null } {
  const rated = subjects.filter((s) => s.length >= 2);
  if (rated.length === 0) return { cases: 0, rate: null };
  return { cases: rated.length, rate: rated.filter((s) => s.every((v) => v === s[0])).length / rated.length };
}
