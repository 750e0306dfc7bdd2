// Runs in main, the host, the CLI and tests. The model card (models/<id>.json) schema of
// DESIGN.md, validated with precise errors: which field, and why.
import { z } from 'zod';
import { ResightError } from '../../preload/api';

const Triple = z.array(z.number()).min(1).max(4);

export const ModelCard = z.looseObject({
  schema: z.literal('resight.model-card/1'),
  id: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,127}$/, 'use lower-case letters, digits, dot, dash or underscore'),
  // Part of the user models folder's name on import: no separators, no dot segments.
  version: z.string().regex(/^[0-9A-Za-z][0-9A-Za-z.+_-]{0,63}$/, 'use letters, digits, dot, plus, dash or underscore, starting with a letter or digit'),
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
  intendedUse: z.string().max(2000).optional(),
  /** The training scripts write snake_case; both spellings mean the same field. */
  intended_use: z.string().max(2000).optional(),
  /** Weights not trained: the UI and CLI must say so plainly. */
  placeholder: z.boolean().default(false),
  /** One line the UI shows beside the findings. */
  notice: z.string().optional(),
});
export type ModelCard = z.infer<typeof ModelCard>;

/** A card is a handful of levels deep; far deeper JSON is an attack on whoever walks it next. */
const MAX_CARD_DEPTH = 32;

/** Nesting depth of a parsed JSON value, walked without recursion. */
function jsonDepth(value: unknown): number {
  let deepest = 0;
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length) {
    const [v, depth] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    deepest = Math.max(deepest, depth);
    if (deepest > MAX_CARD_DEPTH) return deepest;
    for (const child of Object.values(v)) stack.push([child, depth + 1]);
  }
  return deepest;
}

export function parseModelCard(raw: unknown, fileName: string): ModelCard {
  if (jsonDepth(raw) > MAX_CARD_DEPTH) throw new ResightError('MODEL_CARD_INVALID', `Model card ${fileName} is nested more than ${MAX_CARD_DEPTH} levels deep; it is not a model card.`);
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
  if (card.notice) return card.notice;
  const use = intendedUse(card);
  return use ? use.charAt(0).toUpperCase() + use.slice(1) : 'Decision support only — not a diagnosis.';
}

export function intendedUse(card: ModelCard): string | undefined {
  return card.intendedUse ?? card.intended_use;
}
