// Runs wherever the store runs. Readers, per-label reviews with regions, worklist flags and
// adjudications, and the read models built on them (worklist, agreement, adjudication queue, CAM
// overlap). Every write is one transaction with its audit row; reviews and adjudications are
// append-only, so an edit is a new version and history is never erased.
import { z } from 'zod';
import {
  ReaderName,
  ReaderRole,
  Region,
  ResightError,
  ReviewInput,
  WorklistFilter,
  type AdjudicationItem,
  type AdjudicationQueue,
  type AgreementSummary,
  type CamOverlapCase,
  type CamOverlapReport,
  type LabelAgreement,
  type Reader,
  type ReadersState,
  type Review,
  type Worklist,
  type WorklistCase,
} from '../../preload/api';
import { cohenKappa, fleissKappa, pairAgreement, unanimity } from './agreement';
import { appendAudit } from './audit';
import { overlap } from './cam-overlap';
import { guard, now, type Store } from './repositories';

const CURRENT_KEY = 'readers.current';
const ADJUDICATOR_KEY = 'readers.adjudicator';

const ReaderRow = z.object({ reader_id: z.number(), name: z.string(), role: ReaderRole, created_at: z.string() });
const ReviewRow = z.object({
  review_id: z.number(),
  image_id: z.string(),
  result_id: z.number().nullable(),
  reader: z.string(),
  version: z.number(),
  labels_json: z.string(),
  regions_json: z.string(),
  confidence: z.number().nullable(),
  note: z.string(),
  signed: z.number(),
  saved_at: z.string(),
  total_ms: z.number(),
});
const StoredLabels = z.array(z.object({ labelId: z.string(), verdict: z.enum(['agree', 'disagree', 'uncertain']).nullable(), present: z.boolean().nullable() }));
const StoredFindings = z.array(z.object({ labelId: z.string(), positive: z.boolean() }).loose());

const toReader = (raw: unknown): Reader => {
  const r = ReaderRow.parse(raw);
  return { readerId: r.reader_id, name: r.name, role: r.role, createdAt: r.created_at };
};

const toReview = (raw: unknown): Review => {
  const r = ReviewRow.parse(raw);
  return {
    reviewId: r.review_id,
    imageId: r.image_id,
    resultId: r.result_id,
    reader: r.reader,
    version: r.version,
    labels: StoredLabels.parse(JSON.parse(r.labels_json)),
    regions: z.array(Region).parse(JSON.parse(r.regions_json)),
    confidence: r.confidence,
    note: r.note,
    timeSpentMs: r.total_ms,
    signed: r.signed === 1,
    savedAt: r.saved_at,
  };
};

/** Latest version per (image, reader), with the time summed over all its versions. */
const LATEST_SQL = `
  SELECT r.*, t.total_ms FROM reviews r
  JOIN (SELECT image_id, reader, MAX(version) AS v, SUM(time_spent_ms) AS total_ms FROM reviews GROUP BY image_id, reader) t
    ON r.image_id = t.image_id AND r.reader = t.reader AND r.version = t.v`;

function refuse(code: 'INVALID_ARGUMENT', issues: z.ZodError['issues']): never {
  const first = issues[0];
  const where = first && first.path.length ? ` (${first.path.join('.')})` : '';
  throw new ResightError(code, `The request was not understood${where}: ${first?.message ?? 'invalid input'}.`);
}

/** Labels the reader marked present, with calls derived from verdicts on the model's labels. */
const positives = (review: Review): string[] => review.labels.filter((l) => l.present === true).map((l) => l.labelId);

export class ReviewStore {
  constructor(private readonly store: Store) {}

  private get db() {
    return this.store.db;
  }

  // ───────────── readers ─────────────

  listReaders(): Reader[] {
    return this.db.prepare('SELECT * FROM readers ORDER BY reader_id').all().map(toReader);
  }

  reader(readerId: number): Reader | undefined {
    const raw = this.db.prepare('SELECT * FROM readers WHERE reader_id = ?').get(readerId);
    return raw ? toReader(raw) : undefined;
  }

  private settingReader(key: string): Reader | null {
    const id = z.number().int().positive().safeParse(this.store.getSetting(key));
    return id.success ? (this.reader(id.data) ?? null) : null;
  }

  readersState(): ReadersState {
    return { readers: this.listReaders(), current: this.settingReader(CURRENT_KEY), adjudicator: this.settingReader(ADJUDICATOR_KEY) };
  }

  /** The name writes are attributed to: the current reader's, else the caller's default. */
  currentReaderName(fallback: string): string {
    return this.settingReader(CURRENT_KEY)?.name ?? fallback;
  }

  createReader(input: unknown, actor: string): Reader {
    const parsed = z.object({ name: ReaderName, role: ReaderRole }).strict().safeParse(input);
    if (!parsed.success) refuse('INVALID_ARGUMENT', parsed.error.issues);
    const { name, role } = parsed.data;
    return guard('the reader', () =>
      this.db.transaction(() => {
        if (this.db.prepare('SELECT 1 FROM readers WHERE name = ?').get(name)) {
          throw new ResightError('READER_EXISTS', `A reader named "${name}" already exists. Choose them in the reader list, or pick another name.`);
        }
        const at = now();
        const id = Number(this.db.prepare('INSERT INTO readers (name, role, created_at) VALUES (?, ?, ?)').run(name, role, at).lastInsertRowid);
        const reader: Reader = { readerId: id, name, role, createdAt: at };
        appendAudit(this.db, { actor, action: 'reader.create', entity: 'reader', entityId: String(id), after: reader }, at);
        return reader;
      }).immediate(),
    );
  }

  private setReaderSetting(key: string, readerId: number, actor: string): ReadersState {
    if (!Number.isInteger(readerId) || readerId <= 0 || !this.reader(readerId)) {
      throw new ResightError('READER_NOT_FOUND', 'That reader does not exist. Choose one from the list or create a new one.');
    }
    this.store.setSetting(key, readerId, actor);
    return this.readersState();
  }

  setCurrent(readerId: number, actor: string): ReadersState {
    return this.setReaderSetting(CURRENT_KEY, readerId, actor);
  }

  setAdjudicator(readerId: number, actor: string): ReadersState {
    return this.setReaderSetting(ADJUDICATOR_KEY, readerId, actor);
  }

  // ───────────── reviews ─────────────

  /**
   * Saves a new version of the reader's review. `allowedLabels` are the labels of the model the
   * review refers to; every label and region must use one of them and lie on the image.
   */
  saveReview(input: unknown, reader: string, allowedLabels: readonly string[]): Review {
    const parsed = ReviewInput.safeParse(input);
    if (!parsed.success) refuse('INVALID_ARGUMENT', parsed.error.issues);
    const r = parsed.data;
    return guard('your review', () =>
      this.db.transaction(() => {
        const size = this.store.imageSize(r.imageId);
        if (!size) throw new ResightError('IMAGE_NOT_OPEN', 'Open the image before reviewing it.');
        let findings: Map<string, boolean> | null = null;
        if (r.resultId !== null) {
          const result = this.store.result(r.resultId);
          if (!result || result.imageId !== r.imageId) throw new ResightError('NOT_FOUND', 'The model result this review refers to does not belong to this image.');
          findings = new Map(result.findings.map((f) => [f.labelId, f.positive]));
        }
        const allowed = new Set(allowedLabels);
        const seen = new Set<string>();
        for (const l of r.labels) {
          if (!allowed.has(l.labelId)) throw new ResightError('UNKNOWN_LABEL', `The model has no label "${l.labelId.slice(0, 128)}". Reload the case and try again.`);
          if (seen.has(l.labelId)) throw new ResightError('INVALID_ARGUMENT', 'Each label can be reviewed once per save.');
          seen.add(l.labelId);
        }
        const regions = r.regions.map((region) => this.checkRegion(region, allowed, size));
        // A verdict on the model's call implies the reader's own call when none was given.
        const labels = r.labels.map((l) => {
          const modelSays = findings?.get(l.labelId);
          const present = l.present ?? (modelSays === undefined || l.verdict === null || l.verdict === 'uncertain' ? null : l.verdict === 'agree' ? modelSays : !modelSays);
          return { labelId: l.labelId, verdict: l.verdict, present };
        });
        const previous = this.latestReview(r.imageId, reader);
        const version = (previous?.version ?? 0) + 1;
        const savedAt = now();
        const id = Number(
          this.db
            .prepare(
              `INSERT INTO reviews (image_id, result_id, reader, version, labels_json, regions_json, confidence, note, time_spent_ms, signed, saved_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
            )
            .run(r.imageId, r.resultId, reader, version, JSON.stringify(labels), JSON.stringify(regions), r.confidence, r.note, r.timeSpentMs, r.sign ? 1 : 0, savedAt)
            .lastInsertRowid,
        );
        const review: Review = {
          reviewId: id,
          imageId: r.imageId,
          resultId: r.resultId,
          reader,
          version,
          labels,
          regions,
          confidence: r.confidence,
          note: r.note,
          timeSpentMs: (previous?.timeSpentMs ?? 0) + r.timeSpentMs,
          signed: r.sign,
          savedAt,
        };
        const action = r.sign ? 'review.sign' : previous ? 'review.revise' : 'review.create';
        appendAudit(this.db, { actor: reader, action, entity: 'review', entityId: r.imageId, before: previous ?? undefined, after: review }, savedAt);
        return review;
      }).immediate(),
    );
  }

  private checkRegion(region: Region, allowed: Set<string>, size: { width: number; height: number }): Region {
    if (!allowed.has(region.labelId)) throw new ResightError('UNKNOWN_LABEL', `A region names a label the model does not have. Choose one of its labels.`);
    const inside = (x: number, y: number) => x >= 0 && y >= 0 && x <= size.width && y <= size.height;
    const outside = () =>
      new ResightError('REGION_OUTSIDE_IMAGE', `A region lies outside the image (${size.width} × ${size.height} pixels). Redraw it on the image.`);
    switch (region.kind) {
      case 'box': {
        if (!inside(region.x0, region.y0) || !inside(region.x1, region.y1)) throw outside();
        const box = { ...region, x0: Math.min(region.x0, region.x1), y0: Math.min(region.y0, region.y1), x1: Math.max(region.x0, region.x1), y1: Math.max(region.y0, region.y1) };
        if (box.x1 - box.x0 < 1 || box.y1 - box.y0 < 1) throw new ResightError('INVALID_ARGUMENT', 'A box must be at least one pixel wide and high.');
        return box;
      }
      case 'polygon':
        if (!region.points.every((p) => inside(p.x, p.y))) throw outside();
        return region;
      case 'point':
        if (!inside(region.x, region.y)) throw outside();
        return region;
    }
  }

  latestReview(imageId: string, reader: string): Review | null {
    // One case, one reader: straight down the (image_id, reader, version) index, not the whole table.
    const raw = this.db
      .prepare(
        `SELECT r.*, (SELECT SUM(time_spent_ms) FROM reviews t WHERE t.image_id = r.image_id AND t.reader = r.reader) AS total_ms
         FROM reviews r WHERE r.image_id = ? AND r.reader = ? ORDER BY r.version DESC LIMIT 1`,
      )
      .get(imageId, reader);
    return raw ? toReview(raw) : null;
  }

  latestReviews(imageId?: string): Review[] {
    const rows = imageId
      ? this.db
          .prepare(
            `SELECT r.*, t.total_ms FROM reviews r
             JOIN (SELECT reader, MAX(version) AS v, SUM(time_spent_ms) AS total_ms FROM reviews WHERE image_id = ? GROUP BY reader) t
               ON r.reader = t.reader AND r.version = t.v
             WHERE r.image_id = ? ORDER BY r.reader`,
          )
          .all(imageId, imageId)
      : this.db.prepare(`${LATEST_SQL} ORDER BY r.image_id, r.reader`).all();
    return rows.map(toReview);
  }

  /** Every version on an image, oldest first (the history a signed review keeps). */
  history(imageId: string, reader: string): Review[] {
    // Each version's time is the running total up to it, as when it was saved.
    return this.db
      .prepare('SELECT r.*, SUM(r.time_spent_ms) OVER (ORDER BY r.version) AS total_ms FROM reviews r WHERE image_id = ? AND reader = ? ORDER BY version')
      .all(imageId, reader)
      .map(toReview);
  }

  // ───────────── worklist ─────────────

  setFlag(imageId: string, flagged: boolean, reader: string): WorklistCase {
    guard('the flag', () =>
      this.db.transaction(() => {
        if (!this.store.imageSize(imageId) && !this.store.imagePath(imageId)) throw new ResightError('IMAGE_NOT_OPEN', 'That case is not in the worklist.');
        const at = now();
        const before = this.db.prepare('SELECT flagged FROM case_flags WHERE image_id = ? AND reader = ?').get(imageId, reader) as { flagged: number } | undefined;
        this.db
          .prepare('INSERT INTO case_flags (image_id, reader, flagged, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT(image_id, reader) DO UPDATE SET flagged = excluded.flagged, updated_at = excluded.updated_at')
          .run(imageId, reader, flagged ? 1 : 0, at);
        appendAudit(this.db, { actor: reader, action: 'case.flag', entity: 'case', entityId: imageId, before: before ? { flagged: before.flagged === 1 } : undefined, after: { flagged } }, at);
      }).immediate(),
    );
    return this.worklist({}, reader).cases.find((c) => c.imageId === imageId)!;
  }

  /** Positive labels of the latest model result per image. */
  private modelCalls(): Map<string, Map<string, boolean>> {
    const rows = this.db
      .prepare('SELECT image_id, findings_json FROM model_results WHERE result_id IN (SELECT MAX(result_id) FROM model_results GROUP BY image_id)')
      .all() as Array<{ image_id: string; findings_json: string }>;
    return new Map(rows.map((r) => [r.image_id, new Map(StoredFindings.parse(JSON.parse(r.findings_json)).map((f) => [f.labelId, f.positive]))]));
  }

  worklist(filterInput: unknown, reader: string): Worklist {
    const parsed = WorklistFilter.safeParse(filterInput);
    if (!parsed.success) refuse('INVALID_ARGUMENT', parsed.error.issues);
    const filter = parsed.data;
    const images = this.db.prepare('SELECT image_id, file_name, format FROM images ORDER BY first_seen, image_id').all() as Array<{
      image_id: string;
      file_name: string;
      format: WorklistCase['format'];
    }>;
    const model = this.modelCalls();
    const reviews = this.latestReviews();
    const mine = new Map(reviews.filter((r) => r.reader === reader).map((r) => [r.imageId, r]));
    const readerCount = new Map<string, number>();
    for (const r of reviews) readerCount.set(r.imageId, (readerCount.get(r.imageId) ?? 0) + 1);
    const flags = new Map(
      (this.db.prepare('SELECT image_id, flagged FROM case_flags WHERE reader = ?').all(reader) as Array<{ image_id: string; flagged: number }>).map((f) => [f.image_id, f.flagged === 1]),
    );
    const cases: WorklistCase[] = images.map((img) => {
      const review = mine.get(img.image_id);
      const calls = model.get(img.image_id);
      const disagreement = !!review && !!calls && review.labels.some((l) => l.present !== null && calls.has(l.labelId) && calls.get(l.labelId) !== l.present);
      return {
        imageId: img.image_id,
        fileName: img.file_name,
        format: img.format,
        status: flags.get(img.image_id) ? 'flagged' : review ? 'read' : 'unread',
        signed: review?.signed ?? false,
        timeSpentMs: review?.timeSpentMs ?? 0,
        modelPositive: calls ? [...calls].filter(([, p]) => p).map(([id]) => id) : null,
        readerPositive: review ? positives(review) : null,
        disagreement,
        readers: readerCount.get(img.image_id) ?? 0,
      };
    });
    const shown = cases.filter(
      (c) =>
        (!filter.status || c.status === filter.status) &&
        (filter.disagreement === undefined || c.disagreement === filter.disagreement) &&
        (!filter.labelId || !!c.modelPositive?.includes(filter.labelId) || !!c.readerPositive?.includes(filter.labelId)),
    );
    return { cases: shown, progress: { done: cases.filter((c) => c.status !== 'unread').length, total: cases.length } };
  }

  // ───────────── agreement and adjudication ─────────────

  /** image → label → reader → call, from every reader's latest version. */
  private calls(): Map<string, Map<string, Map<string, boolean>>> {
    const out = new Map<string, Map<string, Map<string, boolean>>>();
    for (const review of this.latestReviews()) {
      for (const l of review.labels) {
        if (l.present === null) continue;
        const byLabel = out.get(review.imageId) ?? new Map<string, Map<string, boolean>>();
        out.set(review.imageId, byLabel);
        const byReader = byLabel.get(l.labelId) ?? new Map<string, boolean>();
        byLabel.set(l.labelId, byReader);
        byReader.set(review.reader, l.present);
      }
    }
    return out;
  }

  agreement(): AgreementSummary {
    const calls = this.calls();
    const model = this.modelCalls();
    const labelIds = [...new Set([...calls.values()].flatMap((m) => [...m.keys()]))].sort();
    const allReaders = new Set<string>();
    const labels = labelIds.map((labelId): LabelAgreement => {
      const perImage = [...calls].map(([imageId, m]) => [imageId, m.get(labelId) ?? new Map<string, boolean>()] as const).filter(([, m]) => m.size > 0);
      const raters = [...new Set(perImage.flatMap(([, m]) => [...m.keys()]))].sort();
      raters.forEach((r) => allReaders.add(r));
      const raw = unanimity(perImage.map(([, m]) => [...m.values()]));
      const complete = perImage.filter(([, m]) => raters.every((r) => m.has(r)));
      let method: LabelAgreement['method'] = null;
      let kappa: number | null = null;
      if (raters.length === 2) {
        method = 'cohen';
        kappa = cohenKappa(complete.map(([, m]) => [m.get(raters[0]!)!, m.get(raters[1]!)!] as const));
      } else if (raters.length > 2) {
        method = 'fleiss';
        kappa = fleissKappa(complete.map(([, m]) => [[...m.values()].filter((v) => !v).length, [...m.values()].filter((v) => v).length]));
      }
      const modelVsReader = raters.map((reader) => {
        const pairs = perImage
          .filter(([imageId, m]) => m.has(reader) && model.get(imageId)?.has(labelId))
          .map(([imageId, m]) => [model.get(imageId)!.get(labelId)!, m.get(reader)!] as const);
        return { reader, cases: pairs.length, agreement: pairAgreement(pairs), kappa: cohenKappa(pairs) };
      });
      return { labelId, raters, cases: raw.cases, rawAgreement: raw.rate, method, kappa, kappaCases: method ? complete.length : 0, modelVsReader };
    });
    return { readers: [...allReaders].sort(), labels };
  }

  private fileNames(): Map<string, string> {
    return new Map((this.db.prepare('SELECT image_id, file_name FROM images').all() as Array<{ image_id: string; file_name: string }>).map((r) => [r.image_id, r.file_name]));
  }

  private finalLabel(imageId: string, labelId: string): AdjudicationItem['final'] {
    const row = this.db
      .prepare('SELECT present, note, reader, decided_at FROM adjudications WHERE image_id = ? AND label_id = ? ORDER BY adjudication_id DESC LIMIT 1')
      .get(imageId, labelId) as { present: number; note: string; reader: string; decided_at: string } | undefined;
    return row ? { present: row.present === 1, note: row.note, reader: row.reader, decidedAt: row.decided_at } : null;
  }

  adjudicationQueue(): AdjudicationQueue {
    const names = this.fileNames();
    const items: AdjudicationItem[] = [];
    for (const [imageId, byLabel] of this.calls()) {
      for (const [labelId, byReader] of byLabel) {
        const votes = [...byReader].map(([reader, present]) => ({ reader, present }));
        if (votes.length < 2 || votes.every((v) => v.present === votes[0]!.present)) continue;
        items.push({ imageId, fileName: names.get(imageId) ?? '', labelId, votes, final: this.finalLabel(imageId, labelId) });
      }
    }
    items.sort((a, b) => Number(a.final !== null) - Number(b.final !== null) || a.fileName.localeCompare(b.fileName) || a.labelId.localeCompare(b.labelId));
    return { adjudicator: this.settingReader(ADJUDICATOR_KEY), items, pending: items.filter((i) => i.final === null).length };
  }

  decide(input: { imageId: string; labelId: string; present: boolean; note: string }, reader: string): AdjudicationItem {
    const parsed = z
      .object({ imageId: z.string().regex(/^[0-9a-f]{64}$/), labelId: z.string().min(1).max(128), present: z.boolean(), note: z.string().max(20_000) })
      .strict()
      .safeParse(input);
    if (!parsed.success) refuse('INVALID_ARGUMENT', parsed.error.issues);
    const d = parsed.data;
    const adjudicator = this.settingReader(ADJUDICATOR_KEY);
    if (!adjudicator || adjudicator.name !== reader) {
      throw new ResightError('NOT_ADJUDICATOR', adjudicator ? `Only ${adjudicator.name}, the designated adjudicator, can record final labels. Switch reader to them first.` : 'No adjudicator is designated yet. Choose one in the agreement view first.');
    }
    const item = this.adjudicationQueue().items.find((i) => i.imageId === d.imageId && i.labelId === d.labelId);
    if (!item) throw new ResightError('NOT_FOUND', 'Readers do not disagree on that label for this case, so there is nothing to adjudicate.');
    return guard('the final label', () =>
      this.db.transaction(() => {
        const at = now();
        const id = this.db
          .prepare('INSERT INTO adjudications (image_id, label_id, present, note, reader, decided_at) VALUES (?, ?, ?, ?, ?, ?)')
          .run(d.imageId, d.labelId, d.present ? 1 : 0, d.note, reader, at).lastInsertRowid;
        const final = { present: d.present, note: d.note, reader, decidedAt: at };
        appendAudit(this.db, { actor: reader, action: 'adjudication.decide', entity: 'adjudication', entityId: String(id), before: item.final ?? undefined, after: { imageId: d.imageId, labelId: d.labelId, ...final } }, at);
        return { ...item, final };
      }).immediate(),
    );
  }

  // ───────────── heatmap against annotation ─────────────

  camOverlap(): CamOverlapReport {
    const names = this.fileNames();
    const latestResult = new Map(
      (this.db.prepare('SELECT image_id, MAX(result_id) AS result_id FROM model_results GROUP BY image_id').all() as Array<{ image_id: string; result_id: number }>).map((r) => [
        r.image_id,
        r.result_id,
      ]),
    );
    const cases: CamOverlapCase[] = [];
    for (const review of this.latestReviews()) {
      const resultId = latestResult.get(review.imageId);
      const size = this.store.imageSize(review.imageId);
      if (resultId === undefined || !size) continue;
      const present = new Set(positives(review));
      const regions = review.regions.filter((g): g is Extract<typeof g, { kind: 'box' | 'polygon' }> => g.kind !== 'point' && present.has(g.labelId));
      if (regions.length === 0) continue;
      const result = this.store.result(resultId);
      for (const region of regions) {
        const cam = result?.cams[region.labelId];
        if (!cam || cam.method !== 'gradcam') continue;
        const { hit, iou } = overlap(cam, region, size.width, size.height);
        cases.push({ imageId: review.imageId, fileName: names.get(review.imageId) ?? '', reader: review.reader, labelId: region.labelId, regionKind: region.kind, resultId, hit, iou });
      }
    }
    const stats = (list: CamOverlapCase[]) => ({
      regions: list.length,
      pointingGame: list.length ? list.filter((c) => c.hit).length / list.length : null,
      meanIou: list.length ? list.reduce((s, c) => s + c.iou, 0) / list.length : null,
    });
    const labelIds = [...new Set(cases.map((c) => c.labelId))].sort();
    return { cases, perLabel: labelIds.map((labelId) => ({ labelId, ...stats(cases.filter((c) => c.labelId === labelId)) })), overall: stats(cases) };
  }
}
