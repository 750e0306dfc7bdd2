// Runs in main, the CLI and tests. The case-review bundle's manifest.json: a versioned schema that
// the exporter validates before writing and a reader of the bundle can validate after unzipping.
// A new field that old readers can ignore keeps "/1"; anything that changes a meaning bumps it.
import { z } from 'zod';
import { Region, type Review } from '../../preload/api';

export const MANIFEST_SCHEMA = 'resight.case-review/1';

const Probability = z.number().min(0).max(1);
const Rate = Probability.nullable();
const Iso = z.string().min(1);
/**
 * When a result was made, a review saved or a label adjudicated: only in identified exports. These
 * times follow the imaging closely, so they would date the study that de-identification's date
 * shift hides.
 */
const WorkflowTime = Iso.optional();

export const ManifestModel = z.object({
  id: z.string(),
  version: z.string(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  /** The execution provider that ran it (cpu, webgpu, …). */
  provider: z.string(),
});
export type ManifestModel = z.infer<typeof ManifestModel>;

export const ReaderCall = z.enum(['present', 'absent', 'uncertain']);
export type ReaderCall = z.infer<typeof ReaderCall>;

/** A reader's call on one label of a review; null where they made none. */
export const readerCall = (l: Review['labels'][number]): ReaderCall | null =>
  l.present === true ? 'present' : l.present === false ? 'absent' : l.verdict === 'uncertain' ? 'uncertain' : null;

export const ReferenceSource = z.enum(['adjudicated', 'unanimous', 'majority']);
export type ReferenceSource = z.infer<typeof ReferenceSource>;

export const ManifestCase = z.object({
  /** case-0001, …: the only name a case has in a de-identified bundle. */
  case: z.string().regex(/^case-\d{4,}$/),
  format: z.enum(['dicom', 'png', 'jpeg']),
  /** Path inside the zip; null where the format carries no image (COCO-only or SR bundles name theirs). */
  image: z.string().nullable(),
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  /** Only in identified exports: the store's image id and the original file name. */
  source: z.object({ imageId: z.string(), fileName: z.string() }).optional(),
  result: z
    .object({
      model: ManifestModel,
      providerRequested: z.string(),
      frame: z.number().int().nonnegative(),
      createdAt: WorkflowTime,
      findings: z.array(z.object({ labelId: z.string(), name: z.string(), probability: Probability, threshold: z.number(), positive: z.boolean() })),
    })
    .nullable(),
  overlays: z.array(z.object({ labelId: z.string(), file: z.string(), camMethod: z.string() })),
  feedback: z.array(
    z.object({ reader: z.string(), labelId: z.string().nullable(), verdict: z.enum(['agree', 'disagree', 'uncertain']), version: z.number().int(), savedAt: WorkflowTime, note: z.string().optional() }),
  ),
  reviews: z.array(
    z.object({
      reader: z.string(),
      version: z.number().int().positive(),
      signed: z.boolean(),
      confidence: z.number().int().nullable(),
      timeSpentMs: z.number().nonnegative(),
      savedAt: WorkflowTime,
      labels: z.array(z.object({ labelId: z.string(), call: ReaderCall.nullable(), verdict: z.enum(['agree', 'disagree', 'uncertain']).nullable() })),
      /** In image pixels, as drawn. */
      regions: z.array(Region),
      /** Free text: only in identified exports (a note may name the patient). */
      note: z.string().optional(),
    }),
  ),
  adjudications: z.array(z.object({ labelId: z.string(), present: z.boolean(), reader: z.string(), decidedAt: WorkflowTime, note: z.string().optional() })),
  /** The reference standard per label, and where it came from; null present = no reference (no calls, or a tie). */
  reference: z.array(z.object({ labelId: z.string(), present: z.boolean().nullable(), source: ReferenceSource.nullable() })),
  /** Pointing game and IoU of the stored Grad-CAM against each region a reader drew for a positive label. */
  camOverlap: z.array(z.object({ reader: z.string(), labelId: z.string(), regionKind: z.enum(['box', 'polygon']), hit: z.boolean(), iou: z.number().min(0).max(1) })),
  warnings: z.array(z.string()),
});
export type ManifestCase = z.infer<typeof ManifestCase>;

export const LabelMetrics = z.object({
  labelId: z.string(),
  name: z.string(),
  /** Cases with both a model probability and a reference. */
  cases: z.number().int().nonnegative(),
  positives: z.number().int().nonnegative(),
  reference: z.object({ adjudicated: z.number().int(), unanimous: z.number().int(), majority: z.number().int(), undetermined: z.number().int() }),
  auroc: Rate,
  sensitivity: Rate,
  specificity: Rate,
});
export type LabelMetrics = z.infer<typeof LabelMetrics>;

export const LabelAgreementStats = z.object({
  labelId: z.string(),
  raters: z.array(z.string()),
  /** Cases with at least two readers' calls. */
  cases: z.number().int().nonnegative(),
  rawAgreement: Rate,
  method: z.enum(['cohen', 'fleiss']).nullable(),
  kappa: z.number().nullable(),
  kappaCases: z.number().int().nonnegative(),
  modelVsReader: z.array(z.object({ reader: z.string(), cases: z.number().int(), agreement: Rate, kappa: z.number().nullable() })),
});
export type LabelAgreementStats = z.infer<typeof LabelAgreementStats>;

export const Manifest = z.object({
  schema: z.literal(MANIFEST_SCHEMA),
  app: z.object({ name: z.literal('Resight'), version: z.string() }),
  exportedAt: Iso,
  format: z.enum(['bundle', 'coco', 'sr']),
  identified: z.boolean(),
  deidentification: z.object({
    /** The Deidentifier's description; null for an identified export. */
    method: z.string().nullable(),
    codes: z.array(z.object({ value: z.string(), scheme: z.string(), meaning: z.string() })),
    notes: z.array(z.string()),
  }),
  notice: z.string(),
  models: z.array(ManifestModel),
  labels: z.array(z.object({ id: z.string(), name: z.string() })),
  readers: z.array(z.string()),
  cases: z.array(ManifestCase),
  excluded: z.array(z.object({ case: z.string(), reason: z.string() })),
  agreement: z.array(LabelAgreementStats),
  metrics: z.array(LabelMetrics),
});
export type Manifest = z.infer<typeof Manifest>;
