// Runs in the `resight` CLI process. `resight deid`: de-identified copies of a DICOM file or of a
// folder of them (PS3.15 Annex E, see docs/deidentification.md). No input name reaches the output
// or the terminal, since file and folder names often hold patient names: folders become dir-0001…,
// files img-00001.dcm…, and messages count files instead of naming them.
import type { Command } from 'commander';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import dicomParser from 'dicom-parser';
import { ResightError } from '../../preload/api';
import { fail } from './common';
import { Deidentifier } from '../export/deid';
import { isPart10 } from '../export/dicom-write';

const MEDIA_STORAGE_DIRECTORY = '1.2.840.10008.1.3.10';

interface Tally {
  done: number;
  excluded: number;
  failed: number;
  skipped: number;
  /** Input files seen, for messages that must not name them. */
  seen: number;
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

/** DICOMDIR files index other files by their (input) names; a renamed copy would point nowhere. */
function isDicomdir(bytes: Uint8Array): boolean {
  try {
    return dicomParser.readPart10Header(bytes).string('x00020002') === MEDIA_STORAGE_DIRECTORY;
  } catch {
    return false;
  }
}

async function statOrNull(p: string): Promise<Awaited<ReturnType<typeof stat>> | null> {
  try {
    return await stat(p);
  } catch {
    return null;
  }
}

async function writeChecked(file: string, bytes: Uint8Array): Promise<void> {
  try {
    await writeFile(file, bytes);
  } catch {
    throw new ResightError('EXPORT_FAILED', 'An output file could not be written. Check that the output folder exists and that you may write there.');
  }
}

async function deidFile(deid: Deidentifier, input: string, output: string): Promise<void> {
  const bytes = new Uint8Array(await readFile(input));
  if (!isPart10(bytes) || isDicomdir(bytes)) throw new ResightError('INVALID_DICOM', 'The input is not a DICOM image file.');
  const { bytes: out, warnings } = deid.deidentify(bytes);
  const target = (await statOrNull(output))?.isDirectory() ? path.join(output, 'img-00001.dcm') : output;
  await writeChecked(target, out);
  for (const w of warnings) console.error(`warning: ${w}`);
  console.log(`de-identified 1 file, excluded 0 (burned-in annotation), 0 failed, skipped 0 (not DICOM) → ${output}`);
}

/** Mirrors `dir` into `out` under pseudonyms, in sorted order so a rerun gives the same layout. */
async function deidFolder(deid: Deidentifier, dir: string, out: string, relOut: string, tally: Tally): Promise<void> {
  const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  let dirs = 0;
  let files = 0;
  for (const entry of entries) {
    const from = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      const name = `dir-${String(++dirs).padStart(4, '0')}`;
      await deidFolder(deid, from, path.join(out, name), path.posix.join(relOut, name), tally);
      continue;
    }
    if (!entry.isFile()) continue;
    const n = ++tally.seen;
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await readFile(from));
    } catch {
      tally.failed++;
      console.error(`error FILE_NOT_FOUND: input file #${n} could not be read.`);
      continue;
    }
    if (!isPart10(bytes) || isDicomdir(bytes)) {
      tally.skipped++;
      continue;
    }
    try {
      const { bytes: result, warnings } = deid.deidentify(bytes);
      const name = `img-${String(++files).padStart(5, '0')}.dcm`;
      await mkdir(out, { recursive: true });
      await writeChecked(path.join(out, name), result);
      tally.done++;
      for (const w of warnings) console.error(`warning: ${path.posix.join(relOut, name)}: ${w}`);
    } catch (err) {
      if (err instanceof ResightError && err.code === 'BURNED_IN_ANNOTATION') {
        tally.excluded++;
        console.error(`warning: input file #${n} left out: ${err.message}`);
      } else {
        tally.failed++;
        const code = err instanceof ResightError ? err.code : 'INTERNAL';
        const message = err instanceof ResightError ? err.message : 'unexpected error';
        console.error(`error ${code}: input file #${n}: ${message}`);
      }
    }
  }
}

export function registerDeidCommand(program: Command): void {
  program
    .command('deid')
    .description(
      'write de-identified copies of DICOM files (PS3.15 Annex E basic profile: dates shifted per patient, UIDs remapped, private tags removed; folder and file names replaced)',
    )
    .argument('<input>', 'a DICOM file, or a folder of them (searched recursively)')
    .argument('<output>', 'the output file for a file; for a folder, a new or empty output folder')
    .option('--keep-dates', 'keep dates as they are instead of shifting them (Retain Longitudinal Temporal Information with Full Dates)')
    .option('--allow-burned-in', 'also de-identify images marked as having burned-in annotation (their pixels may still show patient data)')
    .action(async (input: string, output: string, opts: { keepDates?: boolean; allowBurnedIn?: boolean }) => {
      try {
        const from = path.resolve(input);
        const to = path.resolve(output);
        const info = await statOrNull(from);
        if (!info) throw new ResightError('FILE_NOT_FOUND', 'The input file or folder was not found.');
        const deid = new Deidentifier({ keepDates: Boolean(opts.keepDates), allowBurnedIn: Boolean(opts.allowBurnedIn) });
        if (from === to) throw new ResightError('INVALID_ARGUMENT', 'Write the de-identified copy somewhere else than the input.');
        if (info.isFile()) return await deidFile(deid, from, to);
        if (!info.isDirectory()) throw new ResightError('INVALID_ARGUMENT', 'The input must be a DICOM file or a folder.');
        if (to.startsWith(from + path.sep)) throw new ResightError('INVALID_ARGUMENT', 'The output folder must not be inside the input folder.');
        const existing = await statOrNull(to);
        if (existing && (!existing.isDirectory() || (await readdir(to)).length > 0))
          throw new ResightError('INVALID_ARGUMENT', 'The output must be a new or empty folder when the input is a folder.');
        try {
          await mkdir(to, { recursive: true });
        } catch {
          throw new ResightError('EXPORT_FAILED', 'The output folder could not be created. Check that you may write there.');
        }
        const tally: Tally = { done: 0, excluded: 0, failed: 0, skipped: 0, seen: 0 };
        await deidFolder(deid, from, to, '', tally);
        console.log(
          `de-identified ${plural(tally.done, 'file')}, excluded ${tally.excluded} (burned-in annotation), ${tally.failed} failed, skipped ${tally.skipped} (not DICOM) → ${output.endsWith('/') ? output : `${output}/`}`,
        );
        process.exitCode = tally.failed ? 1 : 0;
      } catch (err) {
        fail(err);
      }
    });
}
