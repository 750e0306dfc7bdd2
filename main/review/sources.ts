// Runs in the CLI, the server and main. What a batch review runs over: every image of a folder
// (recursively) or of a DICOMDIR, in patient → study → series → instance order, then PNG/JPEG.
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { ResightError } from '../../preload/api';
import { readDicomdir, scanFolder, type FolderScan } from '../imaging/folder';

export interface ReviewItem {
  kind: 'file' | 'pacs';
  /** What completion is recorded under: the absolute path, or `pacs:<SOP Instance UID>`. */
  key: string;
  /** The local file the model reads (for PACS items, the retrieved copy). */
  file: string;
  /** What results.csv names: the path relative to the reviewed folder, or the SOP Instance UID. */
  source: string;
}

function itemsOf(scan: FolderScan, root: string): ReviewItem[] {
  const files = scan.patients.flatMap((p) => p.studies.flatMap((s) => s.series.flatMap((se) => se.instances.map((i) => i.path))));
  return [...files, ...scan.rasters].map((file) => ({ kind: 'file' as const, key: path.resolve(file), file: path.resolve(file), source: path.relative(root, file) }));
}

/** A folder (a DICOMDIR at its top is used instead of the walk) or a DICOMDIR file. */
export async function localItems(target: string): Promise<ReviewItem[]> {
  const s = await stat(target).catch(() => undefined);
  if (!s) throw new ResightError('FILE_NOT_FOUND', 'The folder or DICOMDIR to review could not be found. Check the path and try again.');
  const items = s.isDirectory() ? itemsOf(await scanFolder(target), target) : itemsOf(await readDicomdir(target), path.dirname(target));
  if (!items.length) throw new ResightError('REVIEW_FAILED', 'No DICOM, PNG or JPEG images were found there, so there is nothing to review.');
  return items;
}
