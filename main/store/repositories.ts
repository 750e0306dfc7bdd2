// Runs wherever the store runs. Typed repositories in front of the SQL: images, model results,
// feedback. Every write is one transaction with its audit row; feedback is versioned, never edited.
// Write transactions begin IMMEDIATE: a deferred one that reads first cannot wait for another
// process's write lock (SQLite answers BUSY at once to avoid a deadlock), so the app and the CLI
// on one database would refuse each other's saves.
import { z } from 'zod';
import { api, CamMap, Finding, ResightError, type FeedbackRecord, type ImageInfo, type Verdict } from '../../preload/api';
import { appendAudit } from './audit';
import type { Db } from './database';

export const now = (): string => new Date().toISOString();

export interface StoredResult {
  resultId: number;
  imageId: string;
  frame: number;
  modelId: string;
  modelVersion: string;
  modelSha256: string;
  providerRequested: string;
  providerUsed: string;
  findings: Finding[];
  cams: Record<string, CamMap>;
  inferenceMs: number;
  createdAt: string;
}

const ResultRow = z.object({
  result_id: z.number(),
  image_id: z.string(),
  frame: z.number(),
  model_id: z.string(),
  model_version: z.string(),
  model_sha256: z.string(),
  provider_requested: z.string(),
  provider_used: z.string(),
  findings_json: z.string(),
  cams_json: z.string(),
  inference_ms: z.number(),
  created_at: z.string(),
});

const FeedbackRow = z.object({
  feedback_id: z.number(),
  image_id: z.string(),
  result_id: z.number().nullable(),
  label_id: z.string().nullable(),
  verdict: z.enum(['agree', 'disagree', 'uncertain']),
  note: z.string(),
  reader: z.string(),
  version: z.number(),
  saved_at: z.string(),
});

/** Runs a write; any failure that is not already a typed refusal becomes STORE_FAILED. */
export function guard<T>(what: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof ResightError) throw err;
    throw new ResightError('STORE_FAILED', `Resight could not save ${what}. Nothing was changed; check free disk space and try again.`);
  }
}

export class Store {
  constructor(readonly db: Db) {}

  recordImage(info: ImageInfo, filePath: string, actor: string): void {
    guard('the opened image', () =>
      this.db.transaction(() => {
        const at = now();
        const existing = this.db.prepare('SELECT image_id FROM images WHERE image_id = ?').get(info.imageId);
        if (existing) {
          this.db.prepare('UPDATE images SET last_opened = ?, path = ?, width = ?, height = ? WHERE image_id = ?').run(at, filePath, info.width, info.height, info.imageId);
          return;
        }
        this.db
          .prepare(
            'INSERT INTO images (image_id, format, file_name, path, sop_instance_uid, study_instance_uid, first_seen, last_opened, width, height) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
          )
          .run(info.imageId, info.format, info.fileName, filePath, info.sopInstanceUid ?? null, info.studyInstanceUid ?? null, at, at, info.width, info.height);
        appendAudit(this.db, { actor, action: 'image.index', entity: 'image', entityId: info.imageId, after: { format: info.format } }, at);
      }).immediate(),
    );
  }

  /** Size in pixels as recorded when the image was opened; undefined for unknown images or rows older than the size columns. */
  imageSize(imageId: string): { width: number; height: number } | undefined {
    const row = this.db.prepare('SELECT width, height FROM images WHERE image_id = ?').get(imageId) as { width: number | null; height: number | null } | undefined;
    return row && row.width !== null && row.height !== null ? { width: row.width, height: row.height } : undefined;
  }

  /** Whether an image was ever opened from this path. */
  hasImageAt(filePath: string): boolean {
    return this.db.prepare('SELECT 1 FROM images WHERE path = ? LIMIT 1').get(filePath) !== undefined;
  }

  imagePath(imageId: string): string | undefined {
    const row = this.db.prepare('SELECT path FROM images WHERE image_id = ?').get(imageId) as { path: string } | undefined;
    return row?.path;
  }

  saveResult(r: Omit<StoredResult, 'resultId' | 'createdAt'>, actor: string): StoredResult {
    return guard('the model result', () =>
      this.db.transaction(() => {
        const createdAt = now();
        const info = this.db
          .prepare(
            `INSERT INTO model_results (image_id, frame, model_id, model_version, model_sha256, provider_requested, provider_used,
               findings_json, cams_json, inference_ms, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          )
          .run(
            r.imageId,
            r.frame,
            r.modelId,
            r.modelVersion,
            r.modelSha256,
            r.providerRequested,
            r.providerUsed,
            JSON.stringify(r.findings),
            JSON.stringify(r.cams),
            r.inferenceMs,
            createdAt,
          );
        const resultId = Number(info.lastInsertRowid);
        appendAudit(
          this.db,
          { actor, action: 'result.create', entity: 'model_result', entityId: String(resultId), after: { modelId: r.modelId, modelVersion: r.modelVersion } },
          createdAt,
        );
        return { ...r, resultId, createdAt };
      }).immediate(),
    );
  }

  result(resultId: number): StoredResult | undefined {
    const raw = this.db.prepare('SELECT * FROM model_results WHERE result_id = ?').get(resultId);
    if (!raw) return undefined;
    const row = ResultRow.parse(raw);
    return {
      resultId: row.result_id,
      imageId: row.image_id,
      frame: row.frame,
      modelId: row.model_id,
      modelVersion: row.model_version,
      modelSha256: row.model_sha256,
      providerRequested: row.provider_requested,
      providerUsed: row.provider_used,
      findings: z.array(Finding).parse(JSON.parse(row.findings_json)),
      cams: z.record(z.string(), CamMap).parse(JSON.parse(row.cams_json)),
      inferenceMs: row.inference_ms,
      createdAt: row.created_at,
    };
  }

  saveFeedback(
    raw: { imageId: string; resultId: number | null; labelId: string | null; verdict: Verdict; note: string },
    reader: string,
  ): FeedbackRecord {
    // The contract's own schema, again: the CLI and tests reach the store without dispatch.
    const parsed = api['feedback.save'].input.safeParse(raw);
    if (!parsed.success) {
      const first = parsed.error.issues[0];
      throw new ResightError('INVALID_ARGUMENT', `The feedback was not understood${first?.path.length ? ` (${first.path.join('.')})` : ''}: ${first?.message ?? 'invalid input'}.`);
    }
    const input = parsed.data;
    return guard('your feedback', () =>
      this.db.transaction(() => {
        if (!this.db.prepare('SELECT 1 FROM images WHERE image_id = ?').get(input.imageId)) {
          throw new ResightError('IMAGE_NOT_OPEN', 'Open the image before recording feedback on it.');
        }
        if (input.resultId !== null) {
          const owner = this.db.prepare('SELECT image_id FROM model_results WHERE result_id = ?').get(input.resultId) as { image_id: string } | undefined;
          if (!owner || owner.image_id !== input.imageId) {
            throw new ResightError('NOT_FOUND', 'The model result this feedback refers to does not belong to this image.');
          }
        }
        const previous = this.latestFeedback(input.imageId, reader);
        const version = (previous?.version ?? 0) + 1;
        const savedAt = now();
        const info = this.db
          .prepare(
            'INSERT INTO feedback (image_id, result_id, label_id, verdict, note, reader, version, saved_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
          )
          .run(input.imageId, input.resultId, input.labelId, input.verdict, input.note, reader, version, savedAt);
        const record: FeedbackRecord = {
          feedbackId: Number(info.lastInsertRowid),
          imageId: input.imageId,
          resultId: input.resultId,
          labelId: input.labelId,
          verdict: input.verdict,
          note: input.note,
          reader,
          savedAt,
          version,
        };
        appendAudit(
          this.db,
          { actor: reader, action: previous ? 'feedback.revise' : 'feedback.create', entity: 'feedback', entityId: input.imageId, before: previous ?? undefined, after: record },
          savedAt,
        );
        return record;
      }).immediate(),
    );
  }

  latestFeedback(imageId: string, reader?: string): FeedbackRecord | null {
    const raw = reader
      ? this.db.prepare('SELECT * FROM feedback WHERE image_id = ? AND reader = ? ORDER BY version DESC LIMIT 1').get(imageId, reader)
      : this.db.prepare('SELECT * FROM feedback WHERE image_id = ? ORDER BY saved_at DESC, feedback_id DESC LIMIT 1').get(imageId);
    if (!raw) return null;
    const row = FeedbackRow.parse(raw);
    return {
      feedbackId: row.feedback_id,
      imageId: row.image_id,
      resultId: row.result_id,
      labelId: row.label_id,
      verdict: row.verdict,
      note: row.note,
      reader: row.reader,
      version: row.version,
      savedAt: row.saved_at,
    };
  }

  /** A stored setting, or undefined when never set. Values are JSON, validated by the caller. */
  getSetting(key: string): unknown {
    const row = this.db.prepare('SELECT value_json FROM settings WHERE key = ?').get(key) as { value_json: string } | undefined;
    return row ? (JSON.parse(row.value_json) as unknown) : undefined;
  }

  setSetting(key: string, value: unknown, actor: string): void {
    guard('the setting', () =>
      this.db.transaction(() => {
        const at = now();
        const before = this.getSetting(key);
        this.db
          .prepare('INSERT INTO settings (key, value_json, updated_at, updated_by) VALUES (?, ?, ?, ?) ON CONFLICT(key) DO UPDATE SET value_json = excluded.value_json, updated_at = excluded.updated_at, updated_by = excluded.updated_by')
          .run(key, JSON.stringify(value), at, actor);
        appendAudit(this.db, { actor, action: 'setting.change', entity: 'setting', entityId: key, before, after: value }, at);
      }).immediate(),
    );
  }

  close(): void {
    this.db.close();
  }
}
