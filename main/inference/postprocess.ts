// Runs anywhere. Logits → probabilities and findings, per the card's task and thresholds.
import type { Finding } from '../../preload/api';
import type { ModelCard } from './card';

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

export function findingsFromLogits(card: ModelCard, logits: ArrayLike<number>): Finding[] {
  const n = card.labels.length;
  let probs: number[];
  if (card.task === 'multilabel') {
    probs = Array.from({ length: n }, (_, i) => sigmoid(logits[i]!));
  } else {
    const max = Math.max(...Array.from({ length: n }, (_, i) => logits[i]!));
    const exps = Array.from({ length: n }, (_, i) => Math.exp(logits[i]! - max));
    const sum = exps.reduce((a, b) => a + b, 0);
    probs = exps.map((e) => e / sum);
  }
  const findings = card.labels.map((label, i): Finding => {
    const threshold = label.threshold ?? (card.task === 'multilabel' ? 0.5 : 1 / n);
    return { labelId: label.id, name: label.name, probability: probs[i]!, logit: logits[i]!, threshold, positive: probs[i]! >= threshold };
  });
  return findings.sort((a, b) => b.probability - a.probability);
}
