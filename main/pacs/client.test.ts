// Runs in tests. The DICOMweb client against a real Orthanc (DICOMweb plugin, basic auth): QIDO
// filters and paging, WADO-RS instances and frames checked pixel for pixel against decoding the
// local file, transfer syntax negotiation, STOW-RS with Orthanc listing what was stored.
import dicomParser from 'dicom-parser';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadImage } from '../imaging/load';
import { samplesDir } from '../testing/fixtures';
import { orthancAvailable, orthancGet, startOrthanc, uploadToOrthanc, type OrthancServer } from '../testing/orthanc';
import { DicomWebClient, sopInstanceUidOf } from './client';

const NORMAL = path.join(samplesDir, 'cxr-normal-cr.dcm');
const OPACITY = path.join(samplesDir, 'cxr-opacity-dx.dcm');
const CARDIO = path.join(samplesDir, 'cxr-cardiomegaly-effusion-cr.dcm');
const EXPLICIT_LE = '1.2.840.10008.1.2.1';
const RLE = '1.2.840.10008.1.2.5';

const tag = (file: string, t: string): string => /\[([^\]]*)\]/.exec(execFileSync('dcmdump', ['+P', t, '-s', file], { encoding: 'utf8' }))![1]!;
const syntaxOf = (bytes: Uint8Array): string | undefined => dicomParser.parseDicom(bytes, { untilTag: 'x00020010' }).string('x00020010')?.trim();
const bytesOf = (a: ArrayBufferView): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

describe.skipIf(!orthancAvailable())('DicomWebClient against Orthanc', () => {
  let orthanc: OrthancServer;
  let dir: string;
  let client: DicomWebClient;
  /** CARDIO recompressed to RLE Lossless, so the server has something to convert. */
  let rleFile: string;
  const ids = (file: string): { study: string; series: string; sop: string } => ({ study: tag(file, '0020,000d'), series: tag(file, '0020,000e'), sop: tag(file, '0008,0018') });

  beforeAll(async () => {
    orthanc = await startOrthanc();
    dir = await mkdtemp(path.join(os.tmpdir(), 'resight-pacs-'));
    rleFile = path.join(dir, 'cardio-rle.dcm');
    execFileSync('dcmcrle', [CARDIO, rleFile]);
    await uploadToOrthanc(orthanc, [await readFile(NORMAL), await readFile(OPACITY), await readFile(rleFile)]);
    client = new DicomWebClient({ url: orthanc.url, auth: { kind: 'basic', user: orthanc.user, password: orthanc.password }, retryDelayMs: 50 });
  });
  afterAll(async () => {
    await orthanc?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('searches studies by patient, date range, modality, accession and UID, with paging', async () => {
    const all = await client.searchStudies();
    expect(all).toHaveLength(3);
    const normal = all.find((s) => s.StudyInstanceUID === ids(NORMAL).study)!;
    expect(normal).toMatchObject({
      PatientID: tag(NORMAL, '0010,0020'),
      PatientName: tag(NORMAL, '0010,0010'),
      StudyDate: tag(NORMAL, '0008,0020'),
      AccessionNumber: tag(NORMAL, '0008,0050'),
      ModalitiesInStudy: ['CR'],
      NumberOfStudyRelatedSeries: 1,
      NumberOfStudyRelatedInstances: 1,
    });

    const uids = async (filters: Parameters<DicomWebClient['searchStudies']>[0]): Promise<string[]> =>
      (await client.searchStudies(filters)).map((s) => s.StudyInstanceUID).sort();
    expect(await uids({ patientId: tag(NORMAL, '0010,0020') })).toEqual([ids(NORMAL).study]);
    expect(await uids({ patientName: `${tag(OPACITY, '0010,0010').slice(0, 6)}*`, modality: 'DX' })).toEqual([ids(OPACITY).study]);
    expect(await uids({ modality: 'CR' })).toEqual([ids(NORMAL).study, ids(CARDIO).study].sort());
    expect(await uids({ accession: tag(CARDIO, '0008,0050') })).toEqual([ids(CARDIO).study]);
    expect(await uids({ studyUid: ids(OPACITY).study })).toEqual([ids(OPACITY).study]);
    const day = tag(NORMAL, '0008,0020');
    expect(await uids({ studyDate: `${day}-${day}`, studyUid: ids(NORMAL).study })).toEqual([ids(NORMAL).study]);
    expect(await uids({ studyDate: '19000101-19001231' })).toEqual([]);

    const pages = [];
    for (let offset = 0; offset < 3; offset++) pages.push(...(await client.searchStudies({}, { limit: 1, offset })));
    expect(pages.map((s) => s.StudyInstanceUID).sort()).toEqual(all.map((s) => s.StudyInstanceUID).sort());

    await expect(client.searchStudies({ studyDate: '2024-01-01' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(client.searchStudies({ modality: 'CR&x=1' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('searches series and instances', async () => {
    const { study, series, sop } = ids(NORMAL);
    expect(await client.searchSeries(study)).toEqual([expect.objectContaining({ StudyInstanceUID: study, SeriesInstanceUID: series, Modality: 'CR' })]);
    const inSeries = await client.searchInstances(study, series);
    expect(inSeries).toEqual([expect.objectContaining({ StudyInstanceUID: study, SeriesInstanceUID: series, SOPInstanceUID: sop, Rows: 768, Columns: 640 })]);
    expect(await client.searchInstances(study)).toEqual([expect.objectContaining({ SeriesInstanceUID: series, SOPInstanceUID: sop })]);
  });

  it('retrieves an instance whose pixels match decoding the local file', async () => {
    const { study, series, sop } = ids(NORMAL);
    const bytes = await client.retrieveInstance(study, series, sop);
    expect(sopInstanceUidOf(bytes)).toBe(sop);
    const copy = path.join(dir, 'normal-retrieved.dcm');
    await writeFile(copy, bytes);
    const [local, remote] = [await loadImage(NORMAL), await loadImage(copy)];
    expect(remote.info.width).toBe(640);
    expect(bytesOf(remote.frame(0)).equals(bytesOf(local.frame(0)))).toBe(true);
  });

  it('negotiates the transfer syntax, falling back to what the server has', async () => {
    const { study, series, sop } = ids(CARDIO);
    const asStored = await client.retrieveInstance(study, series, sop);
    expect(syntaxOf(asStored)).toBe(RLE);
    const converted = await client.retrieveInstance(study, series, sop, { transferSyntax: EXPLICIT_LE });
    expect(syntaxOf(converted)).toBe(EXPLICIT_LE);
    // Orthanc answers 400 to a transfer syntax it cannot produce; the client asks for what it has.
    const fallback = await client.retrieveInstance(study, series, sop, { transferSyntax: '1.2.3.4.5' });
    expect(syntaxOf(fallback)).toBe(RLE);

    const reference = (await loadImage(CARDIO)).frame(0);
    for (const [name, b] of [['rle', asStored], ['explicit', converted]] as const) {
      const file = path.join(dir, `cardio-${name}.dcm`);
      await writeFile(file, b);
      expect(bytesOf((await loadImage(file)).frame(0)).equals(bytesOf(reference)), name).toBe(true);
    }
  });

  it('retrieves frames as the stored pixel values', async () => {
    const { study, series, sop } = ids(NORMAL);
    const [frame] = await client.retrieveFrames(study, series, sop, [1]);
    expect(frame!.frame).toBe(1);
    expect(frame!.transferSyntax).toBe(EXPLICIT_LE);
    expect(bytesOf(frame!.data).equals(bytesOf((await loadImage(NORMAL)).storedFrame(0)))).toBe(true);

    const c = ids(CARDIO);
    const [decoded] = await client.retrieveFrames(c.study, c.series, c.sop, [1], { transferSyntax: EXPLICIT_LE });
    expect(decoded!.transferSyntax).toBe(EXPLICIT_LE);
    expect(bytesOf(decoded!.data).equals(bytesOf((await loadImage(CARDIO)).storedFrame(0)))).toBe(true);
    await expect(client.retrieveFrames(study, series, sop, [0])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('retrieves a whole study one checked instance at a time', async () => {
    const got = [];
    for await (const i of client.retrieveStudy(ids(OPACITY).study)) got.push(i);
    expect(got).toHaveLength(1);
    expect(got[0]).toMatchObject({ studyUid: ids(OPACITY).study, seriesUid: ids(OPACITY).series, sopUid: ids(OPACITY).sop });
    expect(Buffer.compare(got[0]!.bytes, await readFile(OPACITY))).toBe(0);
  });

  it('stores instances with STOW-RS, reporting each, and Orthanc lists what was stored', async () => {
    const fresh = path.join(dir, 'fresh.dcm');
    execFileSync('cp', [OPACITY, fresh]);
    execFileSync('dcmodify', ['-nb', '-gst', '-gse', '-gin', fresh]);
    const freshSop = tag(fresh, '0008,0018');
    const results = await client.store([await readFile(fresh), new TextEncoder().encode('not DICOM')]);
    expect(results).toEqual([
      { index: 0, sopInstanceUid: freshSop, status: 'stored' },
      expect.objectContaining({ index: 1, sopInstanceUid: null, status: 'failed', code: 'INVALID_DICOM' }),
    ]);
    const listed = (await orthancGet(orthanc, '/instances?expand')) as { MainDicomTags: { SOPInstanceUID: string } }[];
    expect(listed.map((i) => i.MainDicomTags.SOPInstanceUID)).toContain(freshSop);
    expect(await client.searchStudies({ studyUid: tag(fresh, '0020,000d') })).toHaveLength(1);
  });

  it('reports refused credentials, missing objects and cancellation', async () => {
    const { study, series } = ids(NORMAL);
    const wrong = new DicomWebClient({ url: orthanc.url, auth: { kind: 'basic', user: orthanc.user, password: 'wrong' } });
    await expect(wrong.searchStudies()).rejects.toMatchObject({ code: 'PACS_AUTH_FAILED' });
    const err = await new DicomWebClient({ url: orthanc.url, auth: { kind: 'bearer', token: 'nope' } }).searchStudies().catch((e: Error) => e);
    expect(err).toMatchObject({ code: 'PACS_AUTH_FAILED' });
    expect((err as Error).message).not.toContain('nope');

    await expect(client.retrieveInstance(study, series, '1.2.3.4.5.6.7')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(client.searchStudies({}, { signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'PACS_CANCELLED' });
    expect(() => new DicomWebClient({ url: `http://u:p@127.0.0.1:${orthanc.port}/dicom-web/` })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    await expect(client.searchSeries('not-a-uid')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});
