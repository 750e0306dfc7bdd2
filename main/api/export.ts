// Runs in main and the browser-mode server. The export call: the store's cases as a case-review
// bundle, COCO JSON or DICOM SRs, de-identified unless asked otherwise. It never overwrites a file
// and never changes the store.
import path from 'node:path';
import { ResightError } from '../../preload/api';
import { exportCases } from '../export/bundle';
import type { DatabaseKey } from '../store/database';
import type { Handlers } from './dispatch';

export interface ExportDeps {
  dbPath: string;
  /** The database's key at the time of the call; undefined while it is not encrypted. */
  dbKey: () => DatabaseKey | undefined;
  appRoot: string;
}

export function exportHandlers(deps: ExportDeps): Pick<Handlers, 'export.run'> {
  return {
    'export.run': async ({ format, identified, allowBurnedIn, outPath }) => {
      if (!path.isAbsolute(outPath) || path.extname(outPath).toLowerCase() !== '.zip') {
        throw new ResightError('INVALID_ARGUMENT', 'Give the full path of the .zip file to write, e.g. /home/me/exports/review.zip.');
      }
      const summary = await exportCases(deps.dbPath, path.normalize(outPath), { format, identified, allowBurnedIn, appRoot: deps.appRoot, dbKey: deps.dbKey() });
      return { ...summary, format };
    },
  };
}
