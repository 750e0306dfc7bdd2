// Runs in tests. AUROC, sensitivity and specificity against hand-worked values.
import { describe, expect, it } from 'vitest';
import { auroc, referenceLabel, sensitivity, specificity, type Scored } from './metrics';

const c = (probability: number, truth: boolean, threshold = 0.5): Scored => ({ probability, truth, positive: probability >= threshold });

describe('metrics', () => {
  it('gives 1 for a perfect ranking, 0 for an inverted one and 0.5 for all ties', () => {
    expect(auroc([c(0.9, true), c(0.8, true), c(0.2, false), c(0.1, false)])).toBe(1);
    expect(auroc([c(0.1, true), c(0.9, false)])).toBe(0);
    expect(auroc([c(0.5, true), c(0.5, false), c(0.5, true)])).toBe(0.5);
  });

  it('counts tied pairs as one half (Mann–Whitney)', () => {
    // Positives 0.8, 0.4; negatives 0.4, 0.3, 0.9. Pairs won: 0.8 beats 0.4 and 0.3 (2); 0.4 ties 0.4 (½), beats 0.3 (1). 3.5 / 6.
    expect(auroc([c(0.8, true), c(0.4, true), c(0.4, false), c(0.3, false), c(0.9, false)])).toBeCloseTo(3.5 / 6, 12);
  });

  it('matches a brute-force pair count on random data', () => {
    let seed = 7;
    const rnd = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
    const cases = Array.from({ length: 200 }, () => c(Math.round(rnd() * 20) / 20, rnd() > 0.6));
    let won = 0;
    let pairs = 0;
    for (const p of cases.filter((x) => x.truth))
      for (const n of cases.filter((x) => !x.truth)) {
        pairs++;
        won += p.probability > n.probability ? 1 : p.probability === n.probability ? 0.5 : 0;
      }
    expect(auroc(cases)).toBeCloseTo(won / pairs, 12);
  });

  it('gives sensitivity and specificity from the thresholded calls, null when undefined', () => {
    const cases = [c(0.9, true), c(0.3, true), c(0.7, true), c(0.6, false), c(0.1, false)];
    expect(sensitivity(cases)).toBeCloseTo(2 / 3, 12);
    expect(specificity(cases)).toBe(0.5);
    const onlyPositive = [c(0.9, true)];
    expect(auroc(onlyPositive)).toBeNull();
    expect(specificity(onlyPositive)).toBeNull();
    expect(sensitivity([c(0.1, false)])).toBeNull();
    expect(auroc([])).toBeNull();
  });
});

describe('reference standard', () => {
  it('prefers the adjudicated label, then unanimous calls, then the majority; a tie gives none', () => {
    expect(referenceLabel(false, [true, true])).toEqual({ present: false, source: 'adjudicated' });
    expect(referenceLabel(undefined, [true, true])).toEqual({ present: true, source: 'unanimous' });
    expect(referenceLabel(undefined, [false])).toEqual({ present: false, source: 'unanimous' });
    expect(referenceLabel(undefined, [true, false, true])).toEqual({ present: true, source: 'majority' });
    expect(referenceLabel(undefined, [true, false])).toEqual({ present: null, source: null });
    expect(referenceLabel(undefined, [])).toEqual({ present: null, source: null });
  });
});
