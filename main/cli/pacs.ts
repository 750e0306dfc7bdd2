// Runs in the `resight` CLI process. `resight pacs query|send`: QIDO-RS searches and STOW-RS uploads
// against a DICOMweb server. Credentials come from flags and the environment, never from settings;
// output names studies by UID and patient ID, never by patient name.
import type { Command } from 'commander';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { ResightError, type ErrorCode } from '../../preload/api';
import { DicomWebClient, type StudySummary } from '../pacs/client';
import { credentialsFromCli } from '../pacs/credentials';
import { DateRange, StudyFilters, studyDateRange } from '../pacs/qido';
import { fail, flag } from './common';

interface ConnectionFlags {
  url?: string;
  user?: string;
  token?: string;
  timeout: string;
  retries: string;
}

const Seconds = z.coerce.number().positive().max(3600);
const Retries = z.coerce.number().int().min(0).max(10);
const Count = z.coerce.number().int().min(1).max(100_000);
const Offset = z.coerce.number().int().min(0);
const Day = z.string().regex(/^\d{8}$/, 'give the date as YYYYMMDD');

function withConnection(cmd: Command): Command {
  return cmd
    .option('--url <dicomweb-root>', 'the DICOMweb root of the server, e.g. http://pacs:8042/dicom-web/')
    .option('--user <name>', 'user for basic authentication; the password is read from RESIGHT_PACS_PASSWORD')
    .option('--token <token>', 'bearer token (or set RESIGHT_PACS_TOKEN)')
    .option('--timeout <seconds>', 'give up on an answer that stalls this long', '30')
    .option('--retries <n>', 'retries for refused connections, timeouts and server errors', '2');
}

function clientFrom(opts: ConnectionFlags): DicomWebClient {
  if (!opts.url) throw new ResightError('INVALID_ARGUMENT', 'Say which server to use with --url <dicomweb-root>, e.g. --url http://pacs:8042/dicom-web/.');
  return new DicomWebClient({
    url: opts.url,
    auth: credentialsFromCli({ user: opts.user, token: opts.token }),
    timeoutMs: flag(Seconds, opts.timeout, '--timeout') * 1000,
    retries: flag(Retries, opts.retries, '--retries'),
  });
}

/** Ctrl+C cancels the request in flight instead of leaving it to the OS. */
function interruptible(): AbortSignal {
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort());
  return controller.signal;
}

function dateRange(opts: { date?: string; dateFrom?: string; dateTo?: string }): string | undefined {
  if (opts.date !== undefined) {
    if (opts.dateFrom !== undefined || opts.dateTo !== undefined) throw new ResightError('INVALID_ARGUMENT', 'Use either --date or --date-from/--date-to, not both.');
    return flag(DateRange, opts.date, '--date');
  }
  if (opts.dateFrom === undefined && opts.dateTo === undefined) return undefined;
  const from = opts.dateFrom === undefined ? undefined : flag(Day, opts.dateFrom, '--date-from');
  const to = opts.dateTo === undefined ? undefined : flag(Day, opts.dateTo, '--date-to');
  return flag(DateRange, studyDateRange(from, to), '--date-from/--date-to');
}

function printTable(studies: StudySummary[]): void {
  const rows = studies.map((s) => [s.StudyDate ?? '', s.ModalitiesInStudy.join('/'), String(s.NumberOfStudyRelatedInstances ?? ''), s.PatientID ?? '', s.StudyInstanceUID]);
  const head = ['Date', 'Modalities', 'Instances', 'Patient ID', 'Study Instance UID'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  for (const r of [head, ...rows]) console.log(r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  '));
  console.log(`${studies.length} ${studies.length === 1 ? 'study' : 'studies'}`);
}

export function registerPacsCommand(program: Command): void {
  const pacs = program.command('pacs').description('search and send to a PACS over DICOMweb (QIDO-RS, STOW-RS)');

  withConnection(pacs.command('query'))
    .description('search the server for studies (no patient names are printed)')
    .option('--patient-id <id>', 'patient ID (DICOM wildcards * and ? allowed)')
    .option('--patient-name <name>', 'patient name, e.g. "DOE^J*"')
    .option('--modality <code>', 'modality in the study, e.g. CR, DX, CT')
    .option('--study <uid>', 'Study Instance UID')
    .option('--accession <number>', 'accession number')
    .option('--date <range>', 'study date: YYYYMMDD or YYYYMMDD-YYYYMMDD')
    .option('--date-from <YYYYMMDD>', 'studies on or after this date')
    .option('--date-to <YYYYMMDD>', 'studies on or before this date')
    .option('--limit <n>', 'at most this many studies')
    .option('--offset <n>', 'skip this many studies first (paging)')
    .option('--json', 'print a JSON list of studies')
    .action(
      async (
        opts: ConnectionFlags & {
          patientId?: string;
          patientName?: string;
          modality?: string;
          study?: string;
          accession?: string;
          date?: string;
          dateFrom?: string;
          dateTo?: string;
          limit?: string;
          offset?: string;
          json?: boolean;
        },
      ) => {
        try {
          const client = clientFrom(opts);
          const filters: StudyFilters = {
            patientId: flag(StudyFilters.shape.patientId, opts.patientId, '--patient-id'),
            patientName: flag(StudyFilters.shape.patientName, opts.patientName, '--patient-name'),
            modality: flag(StudyFilters.shape.modality, opts.modality?.toUpperCase(), '--modality'),
            studyUid: flag(StudyFilters.shape.studyUid, opts.study, '--study'),
            accession: flag(StudyFilters.shape.accession, opts.accession, '--accession'),
            studyDate: dateRange(opts),
          };
          const studies = await client.searchStudies(filters, {
            limit: opts.limit === undefined ? undefined : flag(Count, opts.limit, '--limit'),
            offset: opts.offset === undefined ? undefined : flag(Offset, opts.offset, '--offset'),
            signal: interruptible(),
          });
          if (opts.json)
            console.log(
              JSON.stringify(
                studies.map((s) => ({
                  StudyInstanceUID: s.StudyInstanceUID,
                  PatientID: s.PatientID,
                  StudyDate: s.StudyDate,
                  AccessionNumber: s.AccessionNumber,
                  ModalitiesInStudy: s.ModalitiesInStudy,
                  NumberOfStudyRelatedSeries: s.NumberOfStudyRelatedSeries,
                  NumberOfStudyRelatedInstances: s.NumberOfStudyRelatedInstances,
                })),
                null,
                2,
              ),
            );
          else printTable(studies);
        } catch (err) {
          fail(err);
        }
      },
    );

  withConnection(pacs.command('send'))
    .description('store DICOM files on the server (STOW-RS); one line per file, exit status 1 if any was not stored')
    .argument('<files...>', 'DICOM Part 10 files')
    .option('--json', 'print a JSON list with one entry per file')
    .action(async (files: string[], opts: ConnectionFlags & { json?: boolean }) => {
      try {
        const client = clientFrom(opts);
        type Line = { file: string; status: 'stored' | 'failed'; sopInstanceUid: string | null; code?: ErrorCode; reason?: string };
        const lines: Line[] = new Array(files.length);
        const readable: { at: number; bytes: Uint8Array }[] = [];
        for (const [at, file] of files.entries()) {
          try {
            readable.push({ at, bytes: await readFile(path.resolve(file)) });
          } catch {
            lines[at] = { file, status: 'failed', sopInstanceUid: null, code: 'FILE_NOT_FOUND', reason: 'the file could not be read' };
          }
        }
        const results = await client.store(
          readable.map((r) => r.bytes),
          { signal: interruptible() },
        );
        for (const [i, r] of results.entries()) {
          const at = readable[i]!.at;
          lines[at] =
            r.status === 'stored'
              ? { file: files[at]!, status: 'stored', sopInstanceUid: r.sopInstanceUid }
              : { file: files[at]!, status: 'failed', sopInstanceUid: r.sopInstanceUid, code: r.code, reason: r.reason };
        }
        if (opts.json) console.log(JSON.stringify(lines, null, 2));
        else for (const l of lines) console.log(l.status === 'stored' ? `stored ${l.sopInstanceUid}` : `failed ${l.file}: ${l.reason}`);
        const failed = lines.filter((l) => l.status === 'failed');
        if (failed.length) {
          console.error(`error ${failed[0]!.code}: ${failed.length} of ${files.length} file(s) were not stored on the PACS.`);
          process.exitCode = 1;
        }
      } catch (err) {
        fail(err);
      }
    });
}
