// Runs in main, the CLI and tests. A DICOMweb client: QIDO-RS searches, WADO-RS retrieves of
// instances and frames, STOW-RS stores. Every method takes an AbortSignal; the transport retries
// what may pass and turns everything else into a ResightError. A retrieve either returns whole,
// checked objects or throws: a cut or malformed answer never comes back as a partial instance.
import dicomParser from 'dicom-parser';
import { ResightError, type ErrorCode } from '../../preload/api';
import type { AuthSource } from './credentials';
import { buildMultipart, parseMediaType, parseMultipart, type Part } from './multipart';
import {
  badJson,
  DicomJsonDataset,
  instanceSummary,
  Paging,
  parseQido,
  seriesSummary,
  studyQuery,
  StudyFilters,
  studySummary,
  TAG,
  text,
  Uid,
  withPaging,
  type InstanceSummary,
  type SeriesSummary,
  type StudySummary,
} from './qido';
import { send, type HttpRequest, type HttpResponse, type TransportOptions } from './transport';

export type { PacsCredentials, AuthSource, SecretBox } from './credentials';
export type { InstanceSummary, SeriesSummary, StudySummary, StudyFilters } from './qido';

export interface DicomWebClientOptions {
  /** The DICOMweb root, e.g. https://pacs.example.org/dicom-web/ */
  url: string;
  auth?: AuthSource;
  /** Longest wait for the next bytes of an answer, per attempt (default 30 s). */
  timeoutMs?: number;
  /** Further attempts for failures that may pass: refused or cut connections, timeouts, 408/429/5xx (default 2). */
  retries?: number;
  /** First backoff delay, doubled per retry (default 500 ms). */
  retryDelayMs?: number;
}

export interface CallOptions {
  signal?: AbortSignal;
}
export interface SearchOptions extends CallOptions, Paging {}
export interface RetrieveOptions extends CallOptions {
  /**
   * Transfer syntax UID to ask for; `*` (the default) takes the one the server stores. When the
   * server will not convert to the one asked for, the retrieve falls back to what it has.
   */
  transferSyntax?: string;
}

export interface RetrievedFrame {
  /** Frame number as DICOMweb counts them, from 1. */
  frame: number;
  data: Uint8Array;
  /** From the part's (or the response's) media type; null when the server named none. */
  transferSyntax: string | null;
  mediaType: string;
}

export interface RetrievedInstance {
  studyUid: string;
  seriesUid: string;
  sopUid: string;
  /** The DICOM Part 10 file. */
  bytes: Uint8Array;
}

export type StowResult =
  | { index: number; sopInstanceUid: string; status: 'stored' }
  | { index: number; sopInstanceUid: string | null; status: 'failed'; code: ErrorCode; reason: string };

/** Answers a server gives when it will not convert to the transfer syntax asked for. */
const REFUSED_SYNTAX = new Set([400, 406, 415]);
/** One STOW-RS request carries at most this much; larger uploads go in several requests. */
const STOW_BATCH_BYTES = 64 * 1024 ** 2;
const ANY_SYNTAX = '*';

export function isPart10(bytes: Uint8Array): boolean {
  return bytes.length > 132 && bytes[128] === 0x44 && bytes[129] === 0x49 && bytes[130] === 0x43 && bytes[131] === 0x4d;
}

/** SOP Instance UID of a Part 10 file, read without touching its pixel data; null if unreadable. */
export function sopInstanceUidOf(bytes: Uint8Array): string | null {
  if (!isPart10(bytes)) return null;
  try {
    const ds = dicomParser.parseDicom(bytes, { untilTag: 'x00080018' });
    const value = (ds.string('x00080018') ?? ds.string('x00020003'))?.trim();
    return value && Uid.safeParse(value).success ? value : null;
  } catch {
    return null;
  }
}

const invalid = (sentence: string): ResightError => new ResightError('INVALID_ARGUMENT', sentence);

function checkUid(value: string, what: string): string {
  if (!Uid.safeParse(value).success) throw invalid(`The ${what} UID is not a valid DICOM UID (digits and dots, at most 64 characters).`);
  return value;
}

const badWado = (detail: string): ResightError =>
  new ResightError('PACS_BAD_RESPONSE', `The PACS sent a retrieve answer that could not be used (${detail}). Try again; if it keeps happening, ask your PACS administrator to check the server.`);

/** PS3.4 Annex GG and B.2.3: the failure reasons STOW-RS servers report, exact codes then ranges. */
function failureReason(code: number | null): string {
  if (code === null) return 'the PACS refused it without giving a reason';
  const exact: Record<number, string> = {
    0x0110: 'processing failure',
    0x0122: 'the server does not support this kind of object',
    0x0124: 'not authorised',
    0xc122: 'the transfer syntax is not supported',
  };
  const range: Record<number, string> = {
    0xa700: 'the server is out of resources',
    0xa900: 'the data set does not match its SOP class',
    0xc000: 'the server cannot understand the file',
  };
  const what = exact[code] ?? range[code & 0xff00] ?? range[code & 0xf000] ?? 'failure';
  return `the PACS refused it: ${what} (reason 0x${code.toString(16).toUpperCase().padStart(4, '0')})`;
}

export class DicomWebClient {
  readonly root: URL;
  private readonly transport: TransportOptions;

  constructor(options: DicomWebClientOptions) {
    let root: URL;
    try {
      root = new URL(options.url);
    } catch {
      throw invalid('The PACS address is not a valid URL. Give the DICOMweb root, e.g. http://pacs.example.org:8042/dicom-web/.');
    }
    if (root.protocol !== 'http:' && root.protocol !== 'https:') throw invalid('The PACS address must start with http:// or https://.');
    if (root.username || root.password) throw invalid('Do not put credentials in the PACS address; give them separately (settings, --user with RESIGHT_PACS_PASSWORD, or --token).');
    if (root.search || root.hash) throw invalid('The PACS address must be the DICOMweb root, without ? or # parts.');
    if (!root.pathname.endsWith('/')) root.pathname += '/';
    this.root = root;
    const timeoutMs = options.timeoutMs ?? 30_000;
    const retries = options.retries ?? 2;
    const retryDelayMs = options.retryDelayMs ?? 500;
    if (!(timeoutMs > 0) || !Number.isInteger(retries) || retries < 0 || retries > 10 || !(retryDelayMs >= 0))
      throw invalid('The PACS timeout must be above 0 and retries a whole number from 0 to 10.');
    this.transport = { timeoutMs, retries, retryDelayMs, auth: options.auth };
  }

  private url(path: string, query?: URLSearchParams): URL {
    const url = new URL(path, this.root);
    if (query) url.search = query.toString();
    return url;
  }

  private send(req: HttpRequest): Promise<HttpResponse> {
    return send(req, this.transport);
  }

  private async qido(path: string, query: URLSearchParams, signal: AbortSignal | undefined, what: string): Promise<DicomJsonDataset[]> {
    const res = await this.send({ method: 'GET', url: this.url(path, query), headers: { accept: 'application/dicom+json, application/json;q=0.9' }, signal });
    return parseQido(res.body, what);
  }

  private static paging(options: SearchOptions): Paging {
    const r = Paging.safeParse({ limit: options.limit, offset: options.offset });
    if (!r.success) throw invalid('The limit must be a whole number from 1 to 100000 and the offset a whole number from 0.');
    return r.data;
  }

  /** QIDO-RS /studies with the given filters. */
  async searchStudies(filters: StudyFilters = {}, options: SearchOptions = {}): Promise<StudySummary[]> {
    const f = StudyFilters.safeParse(filters);
    if (!f.success) {
      const issue = f.error.issues[0];
      throw invalid(`The search filter ${issue?.path.join('.') || ''} is not valid: ${issue?.message ?? 'see the documentation'}.`);
    }
    const found = await this.qido('studies', studyQuery(f.data, DicomWebClient.paging(options)), options.signal, 'study search');
    return found.map(studySummary);
  }

  /** QIDO-RS /studies/{study}/series. */
  async searchSeries(studyUid: string, options: SearchOptions = {}): Promise<SeriesSummary[]> {
    const study = checkUid(studyUid, 'study');
    const q = withPaging(new URLSearchParams([['includefield', TAG.seriesInstances], ['includefield', TAG.seriesDescription]]), DicomWebClient.paging(options));
    const found = await this.qido(`studies/${study}/series`, q, options.signal, 'series search');
    return found.map((ds) => seriesSummary(ds, study));
  }

  /** QIDO-RS /studies/{study}/series/{series}/instances, or every instance of the study. */
  async searchInstances(studyUid: string, seriesUid?: string, options: SearchOptions = {}): Promise<InstanceSummary[]> {
    const study = checkUid(studyUid, 'study');
    const series = seriesUid === undefined ? undefined : checkUid(seriesUid, 'series');
    const q = withPaging(new URLSearchParams([TAG.frames, TAG.rows, TAG.columns, TAG.seriesUid].map((t): [string, string] => ['includefield', t])), DicomWebClient.paging(options));
    const path = series ? `studies/${study}/series/${series}/instances` : `studies/${study}/instances`;
    const found = await this.qido(path, q, options.signal, 'instance search');
    return found.map((ds) => instanceSummary(ds, study, series));
  }

  /**
   * GET with a transfer-syntax preference; when the server refuses to convert, asks again for
   * what it has. Returns the answer's parts (a single-part answer as one part).
   */
  private async wado(path: string, type: string, options: RetrieveOptions): Promise<Part[]> {
    const wanted = options.transferSyntax ?? ANY_SYNTAX;
    if (wanted !== ANY_SYNTAX) checkUid(wanted, 'transfer syntax');
    const get = (syntax: string, fallback: boolean): Promise<HttpResponse> =>
      this.send({
        method: 'GET',
        url: this.url(path),
        headers: { accept: `multipart/related; type="${type}"; transfer-syntax=${syntax}` },
        signal: options.signal,
        readStatus: fallback ? (s) => REFUSED_SYNTAX.has(s) : undefined,
      });
    let res = await get(wanted, wanted !== ANY_SYNTAX);
    if (REFUSED_SYNTAX.has(res.status)) res = await get(ANY_SYNTAX, false);
    const header = res.headers.get('content-type') ?? '';
    const mediaType = parseMediaType(header);
    // A single object sent bare instead of wrapped in multipart.
    if (mediaType.type === type) return [{ headers: {}, contentType: mediaType, transferSyntax: mediaType.params['transfer-syntax'], body: res.body }];
    return parseMultipart(header, res.body);
  }

  /** WADO-RS one instance as a DICOM Part 10 file. */
  async retrieveInstance(studyUid: string, seriesUid: string, sopUid: string, options: RetrieveOptions = {}): Promise<Uint8Array> {
    const path = `studies/${checkUid(studyUid, 'study')}/series/${checkUid(seriesUid, 'series')}/instances/${checkUid(sopUid, 'SOP instance')}`;
    const parts = await this.wado(path, 'application/dicom', options);
    if (parts.length !== 1) throw badWado(`expected one instance, got ${parts.length}`);
    const body = parts[0]!.body;
    if (!isPart10(body)) throw badWado('the instance is not a DICOM file');
    if (sopInstanceUidOf(body) !== sopUid) throw badWado('the server sent a different instance than the one asked for');
    return body;
  }

  /**
   * WADO-RS every instance of a study, one at a time (each retried on its own), in the order the
   * server lists them. Each yielded file is complete and checked.
   */
  async *retrieveStudy(studyUid: string, options: RetrieveOptions = {}): AsyncIterable<RetrievedInstance> {
    const instances = await this.searchInstances(studyUid, undefined, { signal: options.signal });
    for (const i of instances) {
      const bytes = await this.retrieveInstance(i.StudyInstanceUID, i.SeriesInstanceUID, i.SOPInstanceUID, options);
      yield { studyUid: i.StudyInstanceUID, seriesUid: i.SeriesInstanceUID, sopUid: i.SOPInstanceUID, bytes };
    }
  }

  /** WADO-RS frames (numbered from 1, as DICOMweb counts them) of one instance, as encoded pixel data. */
  async retrieveFrames(studyUid: string, seriesUid: string, sopUid: string, frames: number[], options: RetrieveOptions = {}): Promise<RetrievedFrame[]> {
    if (frames.length === 0 || frames.some((f) => !Number.isInteger(f) || f < 1)) throw invalid('Frame numbers are whole numbers counted from 1.');
    const path = `studies/${checkUid(studyUid, 'study')}/series/${checkUid(seriesUid, 'series')}/instances/${checkUid(sopUid, 'SOP instance')}/frames/${frames.join(',')}`;
    const parts = await this.wado(path, 'application/octet-stream', options);
    if (parts.length !== frames.length) throw badWado(`asked for ${frames.length} frame(s), got ${parts.length}`);
    return parts.map((p, i) => ({
      frame: frames[i]!,
      data: p.body,
      transferSyntax: p.transferSyntax ?? null,
      mediaType: p.contentType?.type ?? 'application/octet-stream',
    }));
  }

  /**
   * STOW-RS: stores Part 10 files, reporting each one. Files that are not DICOM fail without being
   * sent. A request-level failure (server down, refused credentials) fails the files it carried
   * and those after it; cancellation throws.
   */
  async store(files: Uint8Array[], options: CallOptions = {}): Promise<StowResult[]> {
    const results: StowResult[] = new Array(files.length);
    const pending: { index: number; uid: string; bytes: Uint8Array }[] = [];
    files.forEach((bytes, index) => {
      const uid = sopInstanceUidOf(bytes);
      if (uid) pending.push({ index, uid, bytes });
      else results[index] = { index, sopInstanceUid: null, status: 'failed', code: 'INVALID_DICOM', reason: 'it is not a DICOM Part 10 file with a SOP Instance UID, so it was not sent' };
    });

    let stopped: ResightError | undefined;
    for (let start = 0; start < pending.length; ) {
      let end = start + 1;
      let size = pending[start]!.bytes.byteLength;
      while (end < pending.length && size + pending[end]!.bytes.byteLength <= STOW_BATCH_BYTES) size += pending[end++]!.bytes.byteLength;
      const batch = pending.slice(start, end);
      start = end;
      if (stopped) {
        for (const b of batch) results[b.index] = { index: b.index, sopInstanceUid: b.uid, status: 'failed', code: stopped.code, reason: `not sent: ${stopped.message}` };
        continue;
      }
      try {
        const outcome = await this.stowBatch(batch, options.signal);
        for (const b of batch) {
          const o = outcome.get(b.uid);
          results[b.index] =
            o === 'stored'
              ? { index: b.index, sopInstanceUid: b.uid, status: 'stored' }
              : { index: b.index, sopInstanceUid: b.uid, status: 'failed', code: 'PACS_HTTP_ERROR', reason: o ?? 'the PACS did not confirm that it stored this instance' };
        }
      } catch (err) {
        if (!(err instanceof ResightError) || err.code === 'PACS_CANCELLED') throw err;
        stopped = err;
        for (const b of batch) results[b.index] = { index: b.index, sopInstanceUid: b.uid, status: 'failed', code: err.code, reason: err.message };
      }
    }
    return results;
  }

  /** One STOW-RS request; maps each SOP Instance UID the server reports to 'stored' or a reason. */
  private async stowBatch(files: { uid: string; bytes: Uint8Array }[], signal: AbortSignal | undefined): Promise<Map<string, string>> {
    const { contentType, body } = buildMultipart(
      files.map((f) => ({ contentType: 'application/dicom', body: f.bytes })),
      'application/dicom',
    );
    // 400, 409 and 202 carry the per-instance report in their body (Orthanc answers 400 when any failed).
    const res = await this.send({
      method: 'POST',
      url: this.url('studies'),
      headers: { 'content-type': contentType, accept: 'application/dicom+json, application/json;q=0.9' },
      body,
      signal,
      readStatus: (s) => s === 400 || s === 409,
    });
    const outcome = new Map<string, string>();
    let report: DicomJsonDataset | undefined;
    if (res.body.length > 0) {
      try {
        const r = DicomJsonDataset.safeParse(JSON.parse(res.body.toString('utf8')));
        report = r.success ? r.data : undefined;
      } catch {
        report = undefined;
      }
    }
    if (!report) {
      if (res.status < 300) throw badJson('store request');
      for (const f of files) outcome.set(f.uid, `the PACS refused the upload (HTTP ${res.status})`);
      return outcome;
    }
    const items = (tag: string): DicomJsonDataset[] => {
      const value = report[tag]?.Value ?? [];
      return value.filter((v): v is DicomJsonDataset => DicomJsonDataset.safeParse(v).success);
    };
    for (const item of items('00081198')) {
      const uid = text(item, '00081155');
      const reason = Number(text(item, '00081197'));
      if (uid) outcome.set(uid, failureReason(Number.isFinite(reason) ? reason : null));
    }
    for (const item of items('00081199')) {
      const uid = text(item, '00081155');
      if (uid && !outcome.has(uid)) outcome.set(uid, 'stored');
    }
    return outcome;
  }
}
