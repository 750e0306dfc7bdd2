// Runs in main, the host, the CLI and tests. The model card (models/<id>.json) schema of
// DESIGN.md, validated with precise errors: which field, and why.
import { z } from 'zod';
import { ResightError } from '../../preload/api';

const Triple = z.array(z.number()).min(1).max(4);

export const ModelCard = z.looseObject({
  schema: z.literal('resight.model-card/1'),
  id: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,127}$/, 'use lower-case letters, digits, dot, dash or underscore'),
  version: z.string().min(1).max(64),
  file: z.string().min(1).max(255),
  task: z.enum(['multilabel', 'multiclass']),
  labels: z
    .array(
      z.looseObject({
        id: z.string().min(1).max(128),
        name: z.string().min(1).max(256),
        threshold: z.number().min(0).max(1).optional(),
      }),
    )
    .min(1),
  input: z.looseObject({
    name: z.string().min(1),
    height: z.number().int().min(8).max(4096),
    width: z.number().int().min(8).max(4096),
    channels: z.union([z.literal(1), z.literal(3)]),
    normalize: z.object({ mean: Triple, std: Triple.refine((s) => s.every((v) => v > 0), 'std values must be positive') }),
    resize: z.enum(['stretch', 'letterbox']).default('stretch'),
  }),
  outputs: z.object({ logits: z.string().min(1), features: z.string().min(1) }),
  cam: z.object({ weight: z.string().min(1), bias: z.string().min(1).optional() }),
  sha256: z.string().regex(/^[0-9a-f]{64}$/).optional(),
  intendedUse: z.string().optional(),
  /** Weights not trained: the UI and CLI must say so plainly. */
  placeholder: z.boolean().default(false),
  /** One line the UI shows beside the findings. */
  notice: z.string().optional(),
});
export type ModelCard = z.infer<typeof ModelCard>;

export function parseModelCard(raw: unknown, fileName: string): ModelCard {
  const parsed = ModelCard.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.path.length ? issue.path.join('.') : '(the whole card)';
    throw new ResightError('MODEL_CARD_INVALID', `Model card ${fileName}: field "${field}" is not valid: ${issue.message}.`);
  }
  const card = parsed.data;
  const ids = new Set(card.labels.map((l) => l.id));
  if (ids.size !== card.labels.length) throw new ResightError('MODEL_CARD_INVALID', `Model card ${fileName}: label ids must be unique.`);
  for (const key of ['mean', 'std'] as const) {
    const n = card.input.normalize[key].length;
    if (n !== 1 && n !== card.input.channels) {
      throw new ResightError('MODEL_CARD_INVALID', `Model card ${fileName}: field "input.normalize.${key}" needs 1 or ${card.input.channels} values.`);
    }
  }
  return card;
}

export function cardNotice(card: ModelCard): string {
  if (card.placeholder) return 'Untrained placeholder model (random weights): its findings mean nothing.';
  return card.notice ?? 'Decision support only — not a diagnosis.';
}
