// Runs in the `resight` CLI process. `resight export`: the store's cases as a case-review bundle,
// COCO annotations or DICOM SRs in one zip, de-identified unless --identified. One summary line on
// stdout; nothing identifying is printed (cases are numbered, reasons are generic).
import type { Command } from 'commander';
import path from 'node:path';
import { z } from 'zod';
import { ResightError } from '../../preload/api';
import { exportCases, type ExportSummary } from '../export/bundle';
import { fail, flag } from './common';

const Format = z.enum(['bundle', 'coco', 'sr']);
const ZipPath = z.string().min(1).refine((s) => s.toLowerCase().endsWith('.zip'), 'the output is a .zip file, e.g. --out review.zip');

export function summaryLine(s: ExportSummary): string {
  const reasons = [...new Set(s.excluded.map((e) => e.reason))].join('; ');
  const excluded = s.excluded.length ? ` (${s.excluded.length} excluded: ${reasons})` : '';
  return `exported ${s.cases} case${s.cases === 1 ? '' : 's'}${excluded} → ${s.out}`;
}

export function registerExportCommand(program: Command): void {
  program
    .command('export')
    .description('write the database\'s cases to a zip: a case-review bundle (default), COCO annotations or DICOM SRs; de-identified unless --identified')
    .option('--db <path>', 'the Resight database (resight.sqlite) to export from; it is only read')
    .option('--out <file.zip>', 'the zip file to write')
    .option('--format <format>', 'bundle | coco | sr', 'bundle')
    .option('--identified', 'keep patient data (original DICOM, file names, notes): only for use inside the care team')
    .option('--allow-burned-in', 'export DICOM images marked as having burned-in annotation (their pixels may show patient data)')
    .action(async (opts: { db?: string; out?: string; format: string; identified?: boolean; allowBurnedIn?: boolean }) => {
      try {
        if (!opts.db) throw new ResightError('INVALID_ARGUMENT', 'Say which database to export with --db <path>.');
        if (!opts.out) throw new ResightError('INVALID_ARGUMENT', 'Say where to write the export with --out <file.zip>.');
        const out = flag(ZipPath, opts.out, '--out');
        const format = flag(Format, opts.format, '--format');
        const summary = await exportCases(opts.db, out, {
          format,
          identified: Boolean(opts.identified),
          allowBurnedIn: Boolean(opts.allowBurnedIn),
          // dist/cli/resight.cjs → the app folder that holds models/.
          appRoot: path.resolve(__dirname, '..', '..'),
        });
        console.log(summaryLine(summary));
      } catch (err) {
        fail(err);
      }
    });
}
