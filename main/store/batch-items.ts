// Runs wherever the store runs. Batch review's progress: one row per completed source item and
// model, written in the same transaction as the image index and the model result, so an item is
// either complete with its result or not there at all.
import type { ImageInfo } from '../../preload/api';
import { guard, now, type StoredResult, type Store } from './repositories';

export interface CompletedItem {
  imageId: string;
  resultId: number;
}

export class BatchItems {
  constructor(private readonly store: Store) {}

  /** Items this model has completed, by item key. */
  completed(modelSha256: string): Map<string, CompletedItem> {
    const rows = this.store.db
      .prepare('SELECT item_key AS key, image_id AS imageId, result_id AS resultId FROM batch_items WHERE model_sha256 = ?')
      .all(modelSha256) as Array<{ key: string } & CompletedItem>;
    return new Map(rows.map((r) => [r.key, { imageId: r.imageId, resultId: r.resultId }]));
  }

  /** Indexes the image, stores the result and marks the item complete: all or nothing. */
  complete(itemKey: string, info: ImageInfo, filePath: string, result: Omit<StoredResult, 'resultId' | 'createdAt'>, actor: string): StoredResult {
    const db = this.store.db;
    return guard('the batch result', () =>
      db.transaction(() => {
        this.store.recordImage(info, filePath, actor);
        const stored = this.store.saveResult(result, actor);
        db.prepare(
          'INSERT INTO batch_items (item_key, model_sha256, image_id, result_id, completed_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (item_key, model_sha256) DO UPDATE SET image_id = excluded.image_id, result_id = excluded.result_id, completed_at = excluded.completed_at',
        ).run(itemKey, result.modelSha256, info.imageId, stored.resultId, now());
        return stored;
      }).immediate(),
    );
  }
}
