// Runs in tests. Kappa against worked textbook examples, computed by hand here.
import { describe, expect, it } from 'vitest';
import { cohenKappa, fleissKappa, pairAgreement, unanimity } from './agreement';

const repeat = <T>(pair: readonly [T, T], times: number): Array<readonly [T, T]> => Array.from({ length: times }, () => pair);

describe('agreement', () => {
  it("Cohen's kappa: 50 proposals, two readers (yes/yes 20, yes/no 5, no/yes 10, no/no 15)", () => {
    // pₒ = 35/50 = 0.7; reader A says yes 25/50, reader B 30/50: pₑ = 0.5·0.6 + 0.5·0.4 = 0.5; κ = 0.2/0.5 = 0.4.
    const pairs = [...repeat(['yes', 'yes'], 20), ...repeat(['yes', 'no'], 5), ...repeat(['no', 'yes'], 10), ...repeat(['no', 'no'], 15)] as const;
    expect(pairAgreement(pairs)).toBeCloseTo(0.7, 12);
    expect(cohenKappa(pairs)).toBeCloseTo(0.4, 12);
  });

  it("Cohen's kappa: 100 cases (45 / 15 / 25 / 15), κ = 0.1304", () => {
    // pₒ = 0.60; A yes 0.60, B yes 0.70: pₑ = 0.42 + 0.12 = 0.54; κ = 0.06 / 0.46 = 0.130434…
    const pairs = [...repeat([true, true], 45), ...repeat([true, false], 15), ...repeat([false, true], 25), ...repeat([false, false], 15)] as const;
    expect(cohenKappa(pairs)).toBeCloseTo(0.06 / 0.46, 12);
  });

  it("Cohen's kappa is 1 for perfect agreement, negative below chance, null when undefined", () => {
    expect(cohenKappa([[true, true], [false, false]])).toBe(1);
    expect(cohenKappa([[true, false], [false, true]])).toBe(-1);
    expect(cohenKappa([[true, true], [true, true]])).toBeNull();
    expect(cohenKappa([])).toBeNull();
  });

  it("Fleiss' kappa: 10 subjects, 14 raters, 5 categories (Fleiss 1971 worked example), κ ≈ 0.210", () => {
    const table = [
      [0, 0, 0, 0, 14],
      [0, 2, 6, 4, 2],
      [0, 0, 3, 5, 6],
      [0, 3, 9, 2, 0],
      [2, 2, 8, 1, 1],
      [7, 7, 0, 0, 0],
      [3, 2, 6, 3, 0],
      [2, 5, 3, 2, 2],
      [6, 5, 2, 1, 0],
      [0, 2, 2, 3, 7],
    ];
    // P̄ = Σ Pᵢ / 10 = 3.7802 / 10; pⱼ = 20, 28, 39, 21, 32 over 140: P̄ₑ = 0.21295; κ = 0.20993.
    const pBar = table.reduce((s, row) => s + (row.reduce((t, v) => t + v * v, 0) - 14) / (14 * 13), 0) / 10;
    const pe = [20, 28, 39, 21, 32].reduce((s, c) => s + (c / 140) ** 2, 0);
    expect(pBar).toBeCloseTo(0.378, 3);
    expect(pe).toBeCloseTo(0.213, 3);
    expect(fleissKappa(table)).toBeCloseTo((pBar - pe) / (1 - pe), 12);
    expect(fleissKappa(table)).toBeCloseTo(0.21, 2);
  });

  it("Fleiss' kappa with two raters on a binary label, and its refusals", () => {
    // Three raters, four cases: rows of (absent, present) counts.
    // Pᵢ = 1, 1/3, 1/3, 1 → P̄ = 2/3; p = (6/12, 6/12): P̄ₑ = 1/2; κ = (2/3 − 1/2)/(1/2) = 1/3.
    expect(fleissKappa([[3, 0], [1, 2], [2, 1], [0, 3]])).toBeCloseTo(1 / 3, 12);
    expect(fleissKappa([[3, 0], [3, 0]])).toBeNull();
    expect(() => fleissKappa([[3, 0], [1, 1]])).toThrow(RangeError);
  });

  it('unanimity skips cases with fewer than two calls', () => {
    expect(unanimity([[true, true], [true, false, true], [false]])).toEqual({ cases: 2, rate: 0.5 });
    expect(unanimity([])).toEqual({ cases: 0, rate: null });
  });
});
