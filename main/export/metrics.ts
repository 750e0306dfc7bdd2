// Runs anywhere (pure). Diagnostic accuracy of the model's calls against a reference standard:
// AUROC from the probabilities, sensitivity and specificity from the thresholded calls. Each is
// null where it is undefined (no positive or no negative reference cases), never a made-up 0.
import type { ReferenceSource } from './manifest';

export interface Scored {
  probability: number;
  positive: boolean;
  /** The reference standard's call for this case. */
  truth: boolean;
}

/**
 * Area under the ROC curve as the Mann–Whitney U statistic: the share of (positive, negative)
 * pairs the model ranks correctly, ties counting one half.
 */
export function auroc(cases: readonly Scored[]): number | null {
  const pos = cases.filter((c) => c.truth).length;
  const neg = cases.length - pos;
  if (pos === 0 || neg === 0) return null;
  // Rank-sum with mid-ranks for ties: O(n log n) instead of comparing every pair.
  const sorted = [...cases].sort((a, b) => a.probability - b.probability);
  let rankSum = 0;
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1]!.probability === sorted[i]!.probability) j++;
    const midRank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) if (sorted[k]!.truth) rankSum += midRank;
    i = j + 1;
  }
  return (rankSum - (pos * (pos + 1)) / 2) / (pos * neg);
}

export function sensitivity(cases: readonly Scored[]): number | null {
  const truePos = cases.filter((c) => c.truth);
  return truePos.length === 0 ? null : truePos.filter((c) => c.positive).length / truePos.length;
}

export function specificity(cases: readonly Scored[]): number | null {
  const trueNeg = cases.filter((c) => !c.truth);
  return trueNeg.length === 0 ? null : trueNeg.filter((c) => !c.positive).length / trueNeg.length;
}

/**
 * The reference standard for one case and label: the adjudicated label where one was recorded,
 * else the readers' calls when they all agree, else their majority; a tie or no calls gives none.
 */
export function referenceLabel(adjudicated: boolean | undefined, calls: readonly boolean[]): { present: boolean | null; source: ReferenceSource | null } {
  if (adjudicated !== undefined) return { present: adjudicated, source: 'adjudicated' };
  if (calls.length === 0) return { present: null, source: null };
  const yes = calls.filter(Boolean).length;
  if (yes === calls.length || yes === 0) return { present: yes > 0, source: 'unanimous' };
  if (yes * 2 === calls.length) return { present: null, source: null };
  return { present: yes * 2 > calls.length, source: 'majority' };
}
