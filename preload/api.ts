// Runs everywhere: main, preload, renderer, CLI, tests. THE contract between the renderer and the
// backend. Every call and event is a zod schema here; types are inferred from them. This file
// imports nothing but zod, so each side can include it without pulling in the other.
import { z } from 'zod';

export const API_VERSION = 1;

export { IPC_EVENT_CHANNEL, IPC_INVOKE_CHANNEL } from './channels';

/** Header carrying the per-run token in browser mode. */
export const TOKEN_HEADER = 'x-resight-token';
/** Header carrying the JSON metadata of a binary response in browser mode. */
export const BINARY_META_HEADER = 'x-resight-meta';

// ───────────────────────────── error codes ─────────────────────────────

export const ErrorCode = z.enum([
  'INVALID_ARGUMENT',
  'UNKNOWN_METHOD',
  'FORBIDDEN',
  'FILE_NOT_FOUND',
  'NOT_FOUND',
  'UNSUPPORTED_FORMAT',
  'UNSUPPORTED_TRANSFER_SYNTAX',
  'TRUNCATED_FILE',
  'INVALID_DICOM',
  'NO_PIXEL_DATA',
  'LENGTH_MISMATCH',
  'IMAGE_TOO_LARGE',
  'DECODE_FAILED',
  'IMAGE_NOT_OPEN',
  'MODEL_NOT_FOUND',
  'MODEL_CARD_INVALID',
  'MODEL_FILE_INVALID',
  'INFERENCE_FAILED',
  'INFERENCE_HOST_CRASHED',
  'INFERENCE_CANCELLED',
  'STORE_FAILED',
  'DATABASE_TOO_NEW',
  /** An encrypted database was opened without a way to get its key (browser mode, CLI, no keyring, key file missing). */
  'DATABASE_ENCRYPTED',
  /** The key file beside the database cannot be unwrapped, is damaged, or does not open the database. */
  'DATABASE_KEY_INVALID',
  /** Another connection (a batch review, an export) is using the database; try again when it finishes. */
  'DATABASE_BUSY',
  /** Database encryption was asked for where there is no secure place for its key. */
  'ENCRYPTION_UNAVAILABLE',
  'INTERNAL',
  'READER_NOT_FOUND',
  'READER_EXISTS',
  'UNKNOWN_LABEL',
  'REGION_OUTSIDE_IMAGE',
  'NOT_ADJUDICATOR',
  'BURNED_IN_ANNOTATION',
  'EXPORT_FAILED',
  'NOTHING_TO_EXPORT',
  'PACS_UNREACHABLE',
  'PACS_TIMEOUT',
  'PACS_HTTP_ERROR',
  'PACS_AUTH_FAILED',
  'PACS_BAD_RESPONSE',
  'PACS_CANCELLED',
  'CREDENTIALS_UNAVAILABLE',
  'REVIEW_FAILED',
]);
export type ErrorCode = z.infer<typeof ErrorCode>;

export const ApiErrorShape = z.object({
  code: ErrorCode,
  /** A sentence a clinician can act on. Never contains patient data. */
  message: z.string(),
});
export type ApiErrorShape = z.infer<typeof ApiErrorShape>;

/** What every call returns over a transport: a value or a typed error. */
export type Envelope<T> = { ok: true; value: T } | { ok: false; error: ApiErrorShape };

// ───────────────────────────── shared shapes ─────────────────────────────

/** Opaque id of an opened image: sha256 of the file's bytes (hex). */
export const ImageId = z.string().regex(/^[0-9a-f]{64}$/, 'an image id is 64 hex characters');

export const FilePath = z
  .string()
  .min(1)
  .max(4096)
  .refine((p) => !p.includes('\0'), 'a path cannot contain NUL');

export const VoiWindow = z.object({
  center: z.number(),
  width: z.number().positive(),
  explanation: z.string().max(256).optional(),
});
export type VoiWindow = z.infer<typeof VoiWindow>;

export const PixelDataType = z.enum(['uint8', 'int8', 'uint16', 'int16', 'uint32', 'int32', 'float32']);
export type PixelDataType = z.infer<typeof PixelDataType>;

export const ImageInfo = z.object({
  imageId: ImageId,
  format: z.enum(['dicom', 'png', 'jpeg']),
  /** File name only (no folders); for DICOM files named by UID this says little, by design. */
  fileName: z.string(),
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  frames: z.number().int().positive(),
  samplesPerPixel: z.number().int().positive(),
  bitsStored: z.number().int().positive(),
  pixelDataType: PixelDataType,
  photometric: z.string(),
  modality: z.string().optional(),
  rescaleSlope: z.number(),
  rescaleIntercept: z.number(),
  /** Windows from the file (DICOM) first; a computed default last when the file has none. */
  windows: z.array(VoiWindow).min(1),
  /** Rows/columns spacing in mm and where it came from. */
  spacing: z
    .object({
      row: z.number(),
      column: z.number(),
      source: z.enum(['PixelSpacing', 'ImagerPixelSpacing']),
      /** Imager spacing divided by this Estimated Radiographic Magnification Factor. */
      magnificationFactor: z.number().optional(),
      /** Pixel Spacing Calibration Type from the file (e.g. GEOMETRY, FIDUCIAL). */
      calibrationType: z.string().optional(),
    })
    .optional(),
  /** VOI LUT Function for the windows (PS3.3 C.11.2.1.3); absent means LINEAR. */
  voiLutFunction: z.enum(['LINEAR', 'LINEAR_EXACT', 'SIGMOID']).optional(),
  /** Presentation LUT Shape from the file; INVERSE shows the image inverted, like MONOCHROME1. */
  presentationLutShape: z.enum(['IDENTITY', 'INVERSE']).optional(),
  /** The file's photometric interpretation when frames were converted for display (YBR, PALETTE COLOR → RGB). */
  storedPhotometric: z.string().optional(),
  /** The file has a Modality LUT Sequence, a VOI LUT Sequence: shown exactly by the backend's renderer. */
  lookupTables: z.object({ modality: z.boolean(), voi: z.number().int().nonnegative() }).optional(),
  sopInstanceUid: z.string().optional(),
  studyInstanceUid: z.string().optional(),
  seriesInstanceUid: z.string().optional(),
  /** Shown to the reader in the viewer; never logged or put in errors. */
  patient: z.object({ name: z.string().optional(), id: z.string().optional() }).optional(),
  studyDate: z.string().optional(),
  studyDescription: z.string().optional(),
});
export type ImageInfo = z.infer<typeof ImageInfo>;

export const SampleEntry = z.object({
  name: z.string(),
  format: z.enum(['dicom', 'png', 'jpeg']),
  /** Human description from the sample's ground-truth sidecar, when present. */
  description: z.string().optional(),
});
export type SampleEntry = z.infer<typeof SampleEntry>;

export const FrameMeta = z.object({
  imageId: ImageId,
  frame: z.number().int().nonnegative(),
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  samplesPerPixel: z.number().int().positive(),
  pixelDataType: PixelDataType,
});
export type FrameMeta = z.infer<typeof FrameMeta>;

/** A frame of stored values (before the modality LUT), row-major, samples interleaved. */
export const FrameData = z.object({
  meta: FrameMeta,
  data: z.instanceof(Uint8Array),
});
export type FrameData = z.infer<typeof FrameData>;

const StudyInstanceEntry = z.object({
  path: z.string(),
  sopInstanceUid: z.string().optional(),
  instanceNumber: z.number().optional(),
  frames: z.number().int().nonnegative(),
});

/** A folder or DICOMDIR grouped patient → study → series → instance (headers only, no pixels). */
export const StudyTree = z.object({
  patients: z.array(
    z.object({
      patientName: z.string().optional(),
      patientId: z.string().optional(),
      studies: z.array(
        z.object({
          studyInstanceUid: z.string(),
          studyDate: z.string().optional(),
          description: z.string().optional(),
          series: z.array(
            z.object({
              seriesInstanceUid: z.string(),
              seriesNumber: z.number().optional(),
              modality: z.string().optional(),
              description: z.string().optional(),
              instances: z.array(StudyInstanceEntry),
            }),
          ),
        }),
      ),
    }),
  ),
  /** PNG and JPEG files found beside the DICOM ones. */
  rasters: z.array(z.string()),
  /** Files that were neither readable DICOM nor PNG/JPEG. */
  skipped: z.number().int().nonnegative(),
});
export type StudyTree = z.infer<typeof StudyTree>;

/** An 8-bit grey preview through the image's own display pipeline (its window, MONOCHROME1 inverted). */
export const Thumbnail = z.object({
  meta: z.object({ width: z.number().int().positive(), height: z.number().int().positive() }),
  data: z.instanceof(Uint8Array),
});
export type Thumbnail = z.infer<typeof Thumbnail>;

export const ModelLabel = z.object({ id: z.string(), name: z.string(), threshold: z.number() });

export const ModelSummary = z.object({
  id: z.string(),
  version: z.string(),
  sha256: z.string(),
  task: z.enum(['multilabel', 'multiclass']),
  labels: z.array(ModelLabel),
  intendedUse: z.string(),
  /** True when the weights are not trained (a stand-in); the UI must say so plainly. */
  placeholder: z.boolean(),
  /** One line for the badge, e.g. "Demo model trained on synthetic phantoms — not for clinical use". */
  notice: z.string(),
  /** Shipped with Resight (read-only) or imported by a user. */
  source: z.enum(['bundled', 'user']).optional(),
  /** The model inference uses now. */
  active: z.boolean().optional(),
});
export type ModelSummary = z.infer<typeof ModelSummary>;

export const ExecutionProvider = z.enum(['auto', 'cpu', 'webgpu', 'cuda', 'dml', 'coreml']);
export type ExecutionProvider = z.infer<typeof ExecutionProvider>;

export const Settings = z.object({
  provider: ExecutionProvider,
  /** CPU threads for inference; null means all cores but one. */
  threads: z.number().int().min(1).max(256).nullable(),
  /** The model to use; null means the first bundled one. */
  activeModel: z.object({ id: z.string(), version: z.string() }).nullable(),
  /** Byte budget of the decoded-frame cache in MiB; null means RESIGHT_FRAME_CACHE_MB or 1024. */
  frameCacheMB: z.number().int().min(64).max(262_144).nullable().default(null),
});
export type Settings = z.infer<typeof Settings>;

/** The feedback database's encryption at rest (main/store/encryption.ts). */
export const DatabaseEncryptionState = z.object({
  encrypted: z.boolean(),
  /** Why encryption cannot be turned on or off here (browser mode, the CLI, no system keychain); null when it can. */
  unavailableReason: z.string().nullable(),
});
export type DatabaseEncryptionState = z.infer<typeof DatabaseEncryptionState>;

export const Finding = z.object({
  labelId: z.string(),
  name: z.string(),
  /** Sigmoid (multilabel) or softmax (multiclass) of the logit. */
  probability: z.number().min(0).max(1),
  logit: z.number(),
  threshold: z.number(),
  positive: z.boolean(),
});
export type Finding = z.infer<typeof Finding>;

export const CamMethod = z.enum(['gradcam', 'gradcampp', 'xgradcam', 'layercam', 'hirescam', 'eigencam', 'occlusion']);
export type CamMethod = z.infer<typeof CamMethod>;

export const CamMap = z.object({
  labelId: z.string(),
  method: CamMethod,
  /** Map resolution: the feature map's (gradient methods) or the occlusion grid's. */
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  /** Row-major, normalised to [0, 1] by the map's maximum (all zeros when the label has no evidence). */
  values: z.array(z.number()),
  /** The maximum before normalisation (logit units per cell; logit drop for occlusion). */
  rawMax: z.number(),
  /**
   * The rectangle, in image pixels, that the map's grid covers: the whole model input. For a
   * stretched input it is the image itself; for a letterboxed one it extends over the padding.
   */
  extent: z.object({ x0: z.number(), y0: z.number(), x1: z.number(), y1: z.number() }),
});
export type CamMap = z.infer<typeof CamMap>;

export const InferenceResult = z.object({
  resultId: z.number().int().positive(),
  imageId: ImageId,
  frame: z.number().int().nonnegative(),
  model: ModelSummary,
  provider: z.object({ requested: ExecutionProvider, used: z.string() }),
  /** Sorted by probability, highest first. */
  findings: z.array(Finding),
  cam: CamMap,
  inferenceMs: z.number(),
  createdAt: z.string(),
});
export type InferenceResult = z.infer<typeof InferenceResult>;

/** One element of a DICOM data set for the tag browser; a sequence has items, each a list of elements. */
export interface TagNode {
  tag: string;
  name: string;
  vr: string;
  value: string;
  items?: TagNode[][];
}
export const TagNode: z.ZodType<TagNode> = z.lazy(() =>
  z.object({ tag: z.string(), name: z.string(), vr: z.string(), value: z.string(), items: z.array(z.array(TagNode)).optional() }),
);

export const Verdict = z.enum(['agree', 'disagree', 'uncertain']);
export type Verdict = z.infer<typeof Verdict>;

export const FeedbackRecord = z.object({
  feedbackId: z.number().int().positive(),
  imageId: ImageId,
  resultId: z.number().int().positive().nullable(),
  labelId: z.string().nullable(),
  verdict: Verdict,
  note: z.string(),
  reader: z.string(),
  /** ISO time of the commit. */
  savedAt: z.string(),
  /** 1 for the first save on this image by this reader; each later save adds a version. */
  version: z.number().int().positive(),
});
export type FeedbackRecord = z.infer<typeof FeedbackRecord>;

// ───────────────────────────── readers, reviews, worklist, agreement ─────────────────────────────

export const ReaderRole = z.enum(['clinician', 'annotator', 'researcher']);
export type ReaderRole = z.infer<typeof ReaderRole>;

/** A local profile every write is attributed to (no passwords: it names, it does not authenticate). */
export const Reader = z.object({
  readerId: z.number().int().positive(),
  name: z.string(),
  role: ReaderRole,
  createdAt: z.string(),
});
export type Reader = z.infer<typeof Reader>;

export const ReaderName = z
  .string()
  .trim()
  .min(1, 'a reader needs a name')
  .max(64)
  .refine((n) => !/[\u0000-\u001f\u007f]/.test(n), 'a name cannot contain control characters');

export const ReadersState = z.object({
  readers: z.array(Reader),
  /** Who writes are attributed to now; null means the operating-system user. */
  current: Reader.nullable(),
  /** The reader who records final labels where readers disagree. */
  adjudicator: Reader.nullable(),
});
export type ReadersState = z.infer<typeof ReadersState>;

export const LabelId = z.string().min(1).max(128);

/** One label of a review: the verdict on the model's call and the reader's own call (corrected label). */
export const LabelReview = z
  .object({
    labelId: LabelId,
    verdict: Verdict.nullable().default(null),
    /** The reader's label: present, absent, or not said. */
    present: z.boolean().nullable().default(null),
  })
  .strict();
export type LabelReview = z.output<typeof LabelReview>;

/** Image pixel coordinates: x to the right, y down, (0, 0) the top-left corner of the first pixel. */
const Coord = z.number().finite().min(-1e6).max(1e6);
const PointShape = z.object({ x: Coord, y: Coord }).strict();

export const Region = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('box'), labelId: LabelId, x0: Coord, y0: Coord, x1: Coord, y1: Coord }).strict(),
  z.object({ kind: z.literal('polygon'), labelId: LabelId, points: z.array(PointShape).min(3).max(1000) }).strict(),
  z.object({ kind: z.literal('point'), labelId: LabelId, x: Coord, y: Coord }).strict(),
]);
export type Region = z.infer<typeof Region>;

export const ReviewInput = z
  .object({
    imageId: ImageId,
    resultId: z.number().int().positive().nullable().default(null),
    labels: z.array(LabelReview).max(64).default([]),
    regions: z.array(Region).max(500).default([]),
    confidence: z.number().int().min(1).max(5).nullable().default(null),
    note: z.string().max(20_000).default(''),
    /** Time spent on this case in this sitting, added to earlier sittings. */
    timeSpentMs: z.number().int().min(0).max(86_400_000).default(0),
    /** Sign: this version is the reader's signed review. Any later save is a new, unsigned version. */
    sign: z.boolean().default(false),
  })
  .strict();
export type ReviewInput = z.input<typeof ReviewInput>;

export const Review = z.object({
  reviewId: z.number().int().positive(),
  imageId: ImageId,
  resultId: z.number().int().positive().nullable(),
  reader: z.string(),
  version: z.number().int().positive(),
  labels: z.array(z.object({ labelId: z.string(), verdict: Verdict.nullable(), present: z.boolean().nullable() })),
  regions: z.array(Region),
  confidence: z.number().int().min(1).max(5).nullable(),
  note: z.string(),
  /** Total over every version by this reader on this case. */
  timeSpentMs: z.number().int().nonnegative(),
  signed: z.boolean(),
  savedAt: z.string(),
});
export type Review = z.infer<typeof Review>;

export const CaseStatus = z.enum(['unread', 'read', 'flagged']);
export type CaseStatus = z.infer<typeof CaseStatus>;

export const WorklistCase = z.object({
  imageId: ImageId,
  fileName: z.string(),
  format: z.enum(['dicom', 'png', 'jpeg']),
  /** For the current reader. */
  status: CaseStatus,
  signed: z.boolean(),
  timeSpentMs: z.number().int().nonnegative(),
  /** Labels the model called positive in its latest result; null when it has not run. */
  modelPositive: z.array(z.string()).nullable(),
  /** Labels the current reader marked present; null when unread. */
  readerPositive: z.array(z.string()).nullable(),
  /** The model and the current reader differ on at least one label both have called. */
  disagreement: z.boolean(),
  /** How many readers have reviewed the case. */
  readers: z.number().int().nonnegative(),
});
export type WorklistCase = z.infer<typeof WorklistCase>;

export const WorklistFilter = z
  .object({
    status: CaseStatus.optional(),
    labelId: LabelId.optional(),
    disagreement: z.boolean().optional(),
  })
  .strict();

export const Worklist = z.object({
  cases: z.array(WorklistCase),
  /** Over the whole worklist, not only the filtered part. */
  progress: z.object({ done: z.number().int().nonnegative(), total: z.number().int().nonnegative() }),
});
export type Worklist = z.infer<typeof Worklist>;

const Rate = z.number().min(0).max(1).nullable();

export const LabelAgreement = z.object({
  labelId: z.string(),
  raters: z.array(z.string()),
  /** Cases with at least two readers' calls on this label. */
  cases: z.number().int().nonnegative(),
  /** Share of those cases where every reader made the same call. */
  rawAgreement: Rate,
  method: z.enum(['cohen', 'fleiss']).nullable(),
  /** Cohen's kappa for two readers, Fleiss' kappa for more (cases every reader called); null when undefined. */
  kappa: z.number().nullable(),
  kappaCases: z.number().int().nonnegative(),
  modelVsReader: z.array(z.object({ reader: z.string(), cases: z.number().int().nonnegative(), agreement: Rate, kappa: z.number().nullable() })),
});
export type LabelAgreement = z.infer<typeof LabelAgreement>;

export const AgreementSummary = z.object({ readers: z.array(z.string()), labels: z.array(LabelAgreement) });
export type AgreementSummary = z.infer<typeof AgreementSummary>;

export const AdjudicationItem = z.object({
  imageId: ImageId,
  fileName: z.string(),
  labelId: z.string(),
  votes: z.array(z.object({ reader: z.string(), present: z.boolean() })),
  final: z.object({ present: z.boolean(), reader: z.string(), note: z.string(), decidedAt: z.string() }).nullable(),
});
export type AdjudicationItem = z.infer<typeof AdjudicationItem>;

export const AdjudicationQueue = z.object({
  adjudicator: Reader.nullable(),
  /** Undecided first. */
  items: z.array(AdjudicationItem),
  pending: z.number().int().nonnegative(),
});
export type AdjudicationQueue = z.infer<typeof AdjudicationQueue>;

export const CamOverlapCase = z.object({
  imageId: ImageId,
  fileName: z.string(),
  reader: z.string(),
  labelId: z.string(),
  regionKind: z.enum(['box', 'polygon']),
  resultId: z.number().int().positive(),
  /** The CAM's peak on the image lies inside the region. */
  hit: z.boolean(),
  /** IoU of the CAM above half its maximum with the region. */
  iou: z.number().min(0).max(1),
});
export type CamOverlapCase = z.infer<typeof CamOverlapCase>;

export const CamOverlapStats = z.object({ regions: z.number().int().nonnegative(), pointingGame: Rate, meanIou: Rate });

export const CamOverlapReport = z.object({
  cases: z.array(CamOverlapCase),
  perLabel: z.array(CamOverlapStats.extend({ labelId: z.string() })),
  overall: CamOverlapStats,
});
export type CamOverlapReport = z.infer<typeof CamOverlapReport>;

export const AppInfo = z.object({
  name: z.literal('Resight'),
  version: z.string(),
  apiVersion: z.number().int(),
  frontDoor: z.enum(['electron', 'browser', 'cli']),
  platform: z.string(),
});
export type AppInfo = z.infer<typeof AppInfo>;

// ───────────────────────────── export, PACS, batch review ─────────────────────────────

export const ExportFormat = z.enum(['bundle', 'coco', 'sr']);
export type ExportFormat = z.infer<typeof ExportFormat>;

export const ExportRequest = z
  .object({
    format: ExportFormat.default('bundle'),
    /** Keep patient data (the default de-identifies per PS3.15 Annex E). */
    identified: z.boolean().default(false),
    /** Include images marked BurnedInAnnotation = YES (excluded by default: text in the pixels cannot be removed). */
    allowBurnedIn: z.boolean().default(false),
    /** The .zip to write (Electron: from the save dialog; browser mode: a local path). */
    outPath: FilePath,
  })
  .strict();

export const ExportSummary = z.object({
  cases: z.number().int().nonnegative(),
  /** Cases left out, by case number (never patient data), with the reason. */
  excluded: z.array(z.object({ case: z.string(), reason: z.string() })),
  out: z.string(),
  format: ExportFormat,
});
export type ExportSummary = z.infer<typeof ExportSummary>;

const DicomUid = z.string().regex(/^[0-9]+(\.[0-9]+)*$/, 'a DICOM UID is digits and dots').max(64);
const DicomDate = z.string().regex(/^\d{8}$/, 'a date is YYYYMMDD');
const ServerId = z.string().regex(/^[a-z0-9][a-z0-9-]{0,39}$/, 'a server id is lower-case letters, digits and dashes');

export const PacsAuth = z.enum(['none', 'basic', 'bearer']);
export type PacsAuth = z.infer<typeof PacsAuth>;

export const PacsServer = z.object({
  id: ServerId,
  name: z.string().min(1).max(100),
  /** The DICOMweb root, e.g. http://pacs.local:8042/dicom-web */
  url: z.string().url().max(2048),
  auth: PacsAuth,
  user: z.string().max(256).optional(),
  /** A password or token is stored (encrypted by the operating system's keychain); never sent back. */
  hasSecret: z.boolean(),
});
export type PacsServer = z.infer<typeof PacsServer>;

export const PacsServerInput = z
  .object({
    /** Absent: a new server. */
    id: ServerId.optional(),
    name: z.string().min(1).max(100),
    url: z.string().url().max(2048).refine((u) => /^https?:\/\//i.test(u), 'the address must start with http:// or https://'),
    auth: PacsAuth.default('none'),
    user: z.string().max(256).optional(),
    /** Password (basic) or token (bearer); absent keeps the stored one. Refused where the OS keychain is unavailable. */
    secret: z.string().min(1).max(8192).optional(),
  })
  .strict();

export const PacsQuery = z
  .object({
    serverId: ServerId,
    patientName: z.string().max(64).optional(),
    patientId: z.string().max(64).optional(),
    dateFrom: DicomDate.optional(),
    dateTo: DicomDate.optional(),
    modality: z.string().regex(/^[A-Z0-9]{1,16}$/, 'a modality is a code such as CR, DX or CT').optional(),
    accession: z.string().max(16).optional(),
    studyInstanceUid: DicomUid.optional(),
    limit: z.number().int().min(1).max(500).default(50),
    offset: z.number().int().min(0).max(1_000_000).default(0),
  })
  .strict();

export const PacsStudy = z.object({
  studyInstanceUid: z.string(),
  patientName: z.string().optional(),
  patientId: z.string().optional(),
  studyDate: z.string().optional(),
  description: z.string().optional(),
  accession: z.string().optional(),
  modalities: z.array(z.string()),
  instances: z.number().int().nonnegative().optional(),
});
export type PacsStudy = z.infer<typeof PacsStudy>;

export const PacsSendOutcome = z.object({
  /** What was stored, e.g. "SR", "overlay effusion". */
  stored: z.array(z.string()),
  failed: z.array(z.object({ what: z.string(), reason: z.string() })),
});
export type PacsSendOutcome = z.infer<typeof PacsSendOutcome>;

export const BatchSource = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('folder'), path: FilePath }).strict(),
  z.object({ kind: z.literal('pacs'), serverId: ServerId, studyInstanceUids: z.array(DicomUid).min(1).max(500) }).strict(),
]);
export type BatchSource = z.infer<typeof BatchSource>;

export const BatchJob = z.object({
  jobId: z.string(),
  /** pausing: the batch in flight finishes first; paused jobs survive a restart and resume. */
  state: z.enum(['running', 'pausing', 'paused', 'finished', 'failed']),
  source: z.enum(['folder', 'pacs']),
  /** The folder reviewed, or how many PACS studies. */
  description: z.string(),
  cam: CamMethod,
  /** The model the job runs; a paused job resumes with the same one. */
  model: z.object({ id: z.string(), version: z.string() }),
  total: z.number().int().nonnegative(),
  done: z.number().int().nonnegative(),
  /** Completed by an earlier run of this job. */
  resumed: z.number().int().nonnegative(),
  failed: z.number().int().nonnegative(),
  etaSeconds: z.number().nonnegative().nullable(),
  /** Folder with results.csv, cams/ and the case-review bundle. */
  outDir: z.string(),
  bundle: z.string().nullable(),
  error: ApiErrorShape.nullable(),
  startedAt: z.string(),
});
export type BatchJob = z.infer<typeof BatchJob>;

// ───────────────────────────── calls ─────────────────────────────

const call = <I extends z.ZodType, O extends z.ZodType>(input: I, output: O, binary = false) => ({
  input,
  output,
  binary,
});

const NoInput = z.object({}).strict();


/** The viewport in device pixels: opening a large image then decodes only what that view shows first. */
const OpenView = z.object({ width: z.number().int().min(1).max(16384), height: z.number().int().min(1).max(16384) }).strict().optional();

/** What an open call answers: the image, and the reduced frame already decoded for its first draw. */
export const OpenedImage = ImageInfo.extend({
  /**
   * Present when the image opened from a reduced decode: studies.getFrame with this target answers
   * at once (the frame is ready), so the viewer draws it before the frame its view needs.
   */
  firstFrame: z.object({ width: z.number().int().positive(), height: z.number().int().positive() }).optional(),
});
export type OpenedImage = z.infer<typeof OpenedImage>;

export const api = {
  'app.info': call(NoInput, AppInfo),
  'studies.listSamples': call(NoInput, z.array(SampleEntry)),
  'studies.openSample': call(z.object({ name: z.string().min(1).max(255), view: OpenView }).strict(), OpenedImage),
  /** Opens a file the user chose (Electron: from the open dialog; browser mode: a local path). */
  'studies.openFile': call(z.object({ path: FilePath, view: OpenView }).strict(), OpenedImage),
  'studies.getFrame': call(
    z
      .object({
        imageId: ImageId,
        frame: z.number().int().nonnegative().default(0),
        /**
         * Decode only what a view this many pixels wide and high needs (a JPEG 2000 resolution level,
         * or an area average of the full frame); the reply's width and height say what came. Absent:
         * every pixel.
         */
        target: z.object({ width: z.number().int().min(1).max(65535), height: z.number().int().min(1).max(65535) }).strict().optional(),
      })
      .strict(),
    FrameData,
    true,
  ),
  /** Reads a folder (recursively) or a DICOMDIR and groups its images for the study browser. */
  'studies.scanFolder': call(z.object({ path: FilePath }).strict(), StudyTree),
  /** A small preview of an image file's first frame, decoded only as far as `size` needs. */
  'studies.thumbnail': call(z.object({ path: FilePath, size: z.number().int().min(16).max(512).default(128) }).strict(), Thumbnail, true),
  /** The open DICOM image's data set without pixel data, for the tag browser (empty for PNG/JPEG). */
  'studies.tags': call(z.object({ imageId: ImageId }).strict(), z.array(TagNode)),
  'models.list': call(NoInput, z.array(ModelSummary)),
  /** Copies a model card and its ONNX file into the user's models folder after checking both. */
  'models.import': call(z.object({ cardPath: FilePath }).strict(), ModelSummary),
  'models.setActive': call(z.object({ id: z.string().min(1).max(128), version: z.string().min(1).max(64) }).strict(), ModelSummary),
  'settings.get': call(NoInput, Settings),
  'settings.set': call(Settings.partial().strict(), Settings),
  'database.encryption': call(NoInput, DatabaseEncryptionState),
  /** Encrypts or decrypts the database in place: backup, convert, check every table, then go on. */
  'database.setEncryption': call(z.object({ enabled: z.boolean() }).strict(), DatabaseEncryptionState),
  'inference.run': call(
    z
      .object({
        imageId: ImageId,
        frame: z.number().int().nonnegative().default(0),
        /** Label to explain; default: the top finding. */
        camLabelId: z.string().max(128).optional(),
      })
      .strict(),
    InferenceResult,
  ),
  'inference.cam': call(
    z
      .object({
        resultId: z.number().int().positive(),
        labelId: z.string().min(1).max(128),
        method: CamMethod.default('gradcam'),
        /** Names the request for progress events and cancellation (occlusion takes many runs). */
        requestId: z.string().min(1).max(64).optional(),
      })
      .strict(),
    CamMap,
  ),
  'inference.cancel': call(z.object({ requestId: z.string().min(1).max(64) }).strict(), z.object({ cancelled: z.boolean() })),
  'feedback.save': call(
    z
      .object({
        imageId: ImageId,
        resultId: z.number().int().positive().nullable().default(null),
        labelId: z.string().max(128).nullable().default(null),
        verdict: Verdict,
        note: z.string().max(20_000).default(''),
      })
      .strict(),
    FeedbackRecord,
  ),
  'feedback.latest': call(z.object({ imageId: ImageId }).strict(), FeedbackRecord.nullable()),
  'readers.list': call(NoInput, ReadersState),
  'readers.create': call(z.object({ name: ReaderName, role: ReaderRole }).strict(), Reader),
  /** Writes from now on are attributed to this reader; remembered across restarts. */
  'readers.setCurrent': call(z.object({ readerId: z.number().int().positive() }).strict(), ReadersState),
  'readers.setAdjudicator': call(z.object({ readerId: z.number().int().positive() }).strict(), ReadersState),
  'review.save': call(ReviewInput, Review),
  /** The current reader's latest version on an image. */
  'review.get': call(z.object({ imageId: ImageId }).strict(), Review.nullable()),
  /** Every version the current reader saved on an image, oldest first: signed versions are never changed. */
  'review.history': call(z.object({ imageId: ImageId }).strict(), z.array(Review)),
  /** Every reader's latest version on an image. */
  'review.all': call(z.object({ imageId: ImageId }).strict(), z.array(Review)),
  'worklist.list': call(WorklistFilter, Worklist),
  /** Adds every bundled sample to the worklist. */
  'worklist.addSamples': call(NoInput, z.object({ added: z.number().int().nonnegative() })),
  /** Opens a case of the worklist by its image id. */
  'worklist.open': call(z.object({ imageId: ImageId, view: OpenView }).strict(), OpenedImage),
  'worklist.setFlag': call(z.object({ imageId: ImageId, flagged: z.boolean() }).strict(), WorklistCase),
  'agreement.summary': call(NoInput, AgreementSummary),
  'adjudication.queue': call(NoInput, AdjudicationQueue),
  'adjudication.decide': call(
    z.object({ imageId: ImageId, labelId: LabelId, present: z.boolean(), note: z.string().max(20_000).default('') }).strict(),
    AdjudicationItem,
  ),
  'research.camOverlap': call(NoInput, CamOverlapReport),
  /** Writes a case-review bundle, COCO JSON or DICOM SRs of the store's cases; never changes the store. */
  'export.run': call(ExportRequest, ExportSummary),
  'pacs.servers': call(NoInput, z.array(PacsServer)),
  'pacs.saveServer': call(PacsServerInput, PacsServer),
  'pacs.removeServer': call(z.object({ id: ServerId }).strict(), z.object({ removed: z.boolean() })),
  'pacs.query': call(PacsQuery, z.object({ studies: z.array(PacsStudy), offset: z.number().int(), limit: z.number().int() })),
  /** Retrieves a study (WADO-RS) into the local cache and opens its images; progress as pacs.progress. */
  'pacs.retrieve': call(
    z.object({ serverId: ServerId, studyInstanceUid: DicomUid, requestId: z.string().min(1).max(64) }).strict(),
    z.object({ images: z.array(ImageInfo), failed: z.number().int().nonnegative() }),
  ),
  'pacs.cancel': call(z.object({ requestId: z.string().min(1).max(64) }).strict(), z.object({ cancelled: z.boolean() })),
  /** Sends a model result back as a DICOM SR (and overlays as Secondary Captures) by STOW-RS. */
  'pacs.sendResult': call(z.object({ serverId: ServerId, resultId: z.number().int().positive(), overlays: z.boolean().default(true) }).strict(), PacsSendOutcome),
  'batch.start': call(z.object({ source: BatchSource, cam: CamMethod.default('gradcam') }).strict(), BatchJob),
  'batch.pause': call(z.object({ jobId: z.string().min(1).max(64) }).strict(), BatchJob),
  'batch.resume': call(z.object({ jobId: z.string().min(1).max(64) }).strict(), BatchJob),
  'batch.list': call(NoInput, z.array(BatchJob)),
} as const;

export type Api = typeof api;
export type MethodName = keyof Api;
export type MethodInput<M extends MethodName> = z.input<Api[M]['input']>;
export type MethodParsedInput<M extends MethodName> = z.output<Api[M]['input']>;
export type MethodOutput<M extends MethodName> = z.output<Api[M]['output']>;

export const methodNames = Object.keys(api) as MethodName[];
export const isMethodName = (name: unknown): name is MethodName =>
  typeof name === 'string' && Object.prototype.hasOwnProperty.call(api, name);

// ───────────────────────────── events ─────────────────────────────

export const events = {
  'inference.hostStatus': z.object({
    state: z.enum(['starting', 'ready', 'crashed', 'restarting']),
    /** Why, in words for the reader (e.g. the host stopped and is restarting). */
    detail: z.string().optional(),
  }),
  'inference.progress': z.object({
    requestId: z.string(),
    done: z.number().int().nonnegative(),
    total: z.number().int().positive(),
  }),
  'pacs.progress': z.object({
    requestId: z.string(),
    done: z.number().int().nonnegative(),
    total: z.number().int().nonnegative(),
  }),
  'batch.progress': BatchJob,
} as const;

export type Events = typeof events;
export type EventName = keyof Events;
export type EventPayload<E extends EventName> = z.infer<Events[E]>;
export const EventMessage = z.object({ name: z.enum(Object.keys(events) as [EventName, ...EventName[]]), payload: z.unknown() });

// ───────────────────────────── the surface the renderer sees ─────────────────────────────

/** window.resight (Electron) and the HTTP client (browser mode) both implement this. */
export interface ResightBridge {
  invoke<M extends MethodName>(method: M, input: MethodInput<M>): Promise<Envelope<MethodOutput<M>>>;
  on<E extends EventName>(name: E, listener: (payload: EventPayload<E>) => void): () => void;
}

// ───────────────────────────── typed errors ─────────────────────────────

/** Thrown by services and handlers; transports turn it into `{ ok: false, error }`. */
export class ResightError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ResightError';
    this.code = code;
  }
}
