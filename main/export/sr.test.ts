import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Deidentifier } from './deid';
import { firstString, items, readPart10, type DicomDataset } from './dicom-write';
import { writeOverlaySecondaryCapture } from './secondary-capture';
import { writeFindingsSr, type SrInput } from './sr';
import { loadImage } from '../imaging/load';
import { samplesDir } from '../testing/fixtures';

const source = new Uint8Array(readFileSync(path.join(samplesDir, 'cxr-normal-cr.dcm')));
const sourceDs = readPart10(source).dict;
const tmp = mkdtempSync(path.join(os.tmpdir(), 'resight-sr-'));

/** dciodvfy's verdict: the lines that start with "Error" (warnings are allowed). */
function dciodvfyErrors(bytes: Uint8Array, name: string): string[] {
  const file = path.join(tmp, name);
  writeFileSync(file, bytes);
  const r = spawnSync('/usr/bin/dciodvfy', [file], { encoding: 'utf8' });
  expect(r.error).toBeUndefined();
  return `${r.stdout}\n${r.stderr}`.split('\n').filter((l) => l.startsWith('Error'));
}

const input: SrInput = {
  source,
  model: { id: 'resnet18-cxr-phantom', version: '1.0.0', sha256: 'ab'.repeat(32), provider: 'cpu' },
  findings: [
    { labelId: 'opacity', name: 'Lung opacity', probability: 0.8123456789, threshold: 0.5, positive: true, reader: { name: 'READER^ONE', assessment: 'present' } },
    { labelId: 'pleural-effusion-left', name: 'Pleural effusion', probability: 0.02, threshold: 0.4, positive: false },
    { labelId: 'nodule', name: 'Nodule', probability: 0.45, threshold: 0.4, positive: true, reader: { name: 'READER^ONE', assessment: 'uncertain' } },
  ],
  observedAt: new Date('2024-05-06T07:08:09Z'),
};

/** Every content item below `ds`, depth first. */
function contentItems(ds: DicomDataset): DicomDataset[] {
  return items(ds, '0040A730').flatMap((i) => [i, ...contentItems(i)]);
}
const concept = (i: DicomDataset): string | undefined => firstString(items(i, '0040A043')[0] ?? {}, '00080100');

describe('findings SR (Comprehensive SR, TID 1500 shape)', () => {
  it('is a valid Comprehensive SR for dciodvfy, in the source study, with new series and instance', () => {
    const sr = writeFindingsSr(input);
    expect(dciodvfyErrors(sr, 'sr.dcm')).toEqual([]);
    const ds = readPart10(sr).dict;
    expect(firstString(ds, '00080016')).toBe('1.2.840.10008.5.1.4.1.1.88.33');
    expect(firstString(ds, '0020000D')).toBe(firstString(sourceDs, '0020000D'));
    expect(firstString(ds, '0020000E')).not.toBe(firstString(sourceDs, '0020000E'));
    expect(firstString(ds, '00080018')).toMatch(/^2\.25\.\d+$/);
    expect(firstString(ds, '00100020')).toBe(firstString(sourceDs, '00100020'));
  });

  it('carries the algorithm, every label with probability, threshold and result, the reader assessment, and references the source image', () => {
    const ds = readPart10(writeFindingsSr(input)).dict;
    const evidence = items(items(items(ds, '0040A375')[0]!, '00081115')[0]!, '00081199')[0]!;
    expect(firstString(evidence, '00081155')).toBe(firstString(sourceDs, '00080018'));
    expect(firstString(evidence, '00081150')).toBe(firstString(sourceDs, '00080016'));
    const all = contentItems(ds);
    const images = all.filter((i) => firstString(i, '0040A040') === 'IMAGE');
    expect(images.length).toBe(4);
    for (const i of images) expect(firstString(items(i, '00081199')[0]!, '00081155')).toBe(firstString(sourceDs, '00080018'));
    const groups = all.filter((i) => concept(i) === '125007');
    expect(groups).toHaveLength(3);
    const g = items(groups[0]!, '0040A730');
    const textOf = (code: string): string | undefined => firstString(g.find((i) => concept(i) === code) ?? {}, '0040A160');
    expect(textOf('111001')).toBe('resnet18-cxr-phantom');
    expect(textOf('111003')).toBe('1.0.0');
    expect(textOf('111002')).toContain('ab'.repeat(32));
    const numOf = (code: string): string | undefined => firstString(items(g.find((i) => concept(i) === code)!, '0040A300')[0]!, '0040A30A');
    expect(Number(numOf('probability'))).toBeCloseTo(0.8123456789, 7);
    expect(Number(numOf('threshold'))).toBe(0.5);
    const codeOf = (items_: DicomDataset[], code: string): string | undefined => firstString(items(items_.find((i) => concept(i) === code)!, '0040A168')[0]!, '00080104');
    expect(codeOf(g, '121071')).toBe('Lung opacity');
    expect(codeOf(g, 'model-result')).toBe('Present');
    expect(codeOf(g, 'reader-assess')).toBe('Present');
    expect(codeOf(items(groups[1]!, '0040A730'), 'model-result')).toBe('Absent');
    // Label ids longer than a Code Value's 16 characters go in Long Code Value.
    const longLabel = items(items(groups[1]!, '0040A730').find((i) => concept(i) === '121071')!, '0040A168')[0]!;
    expect(firstString(longLabel, '00080119')).toBe('pleural-effusion-left');
    expect(longLabel['00080100']).toBeUndefined();
    expect(items(groups[1]!, '0040A730').some((i) => concept(i) === 'reader-assess')).toBe(false);
    expect(codeOf(items(groups[2]!, '0040A730'), 'reader-assess')).toBe('Uncertain');
  });

  it('refuses an empty findings list', () => {
    expect(() => writeFindingsSr({ ...input, findings: [] })).toThrow(expect.objectContaining({ code: 'NOTHING_TO_EXPORT' }));
  });

  it('de-identified sample images stay valid for dciodvfy', () => {
    const deid = new Deidentifier({ allowBurnedIn: true });
    for (const name of ['cxr-normal-cr.dcm', 'cxr-opacity-dx.dcm', 'cxr-cardiomegaly-effusion-cr.dcm'])
      expect(dciodvfyErrors(deid.deidentify(new Uint8Array(readFileSync(path.join(samplesDir, name)))).bytes, `deid-${name}`), name).toEqual([]);
  });

  it('stays consistent with its image when both pass through one de-identification session', () => {
    // The sample radiographs are marked as having burned-in annotation.
    const deid = new Deidentifier({ allowBurnedIn: true }, new Uint8Array(32).fill(3));
    const image = readPart10(deid.deidentify(source).bytes).dict;
    const srBytes = deid.deidentify(writeFindingsSr(input)).bytes;
    expect(dciodvfyErrors(srBytes, 'sr-deid.dcm')).toEqual([]);
    const sr = readPart10(srBytes).dict;
    expect(firstString(sr, '0020000D')).toBe(firstString(image, '0020000D'));
    const evidence = items(items(items(sr, '0040A375')[0]!, '00081115')[0]!, '00081199')[0]!;
    expect(firstString(evidence, '00081155')).toBe(firstString(image, '00080018'));
    const all = contentItems(sr);
    for (const i of all.filter((x) => firstString(x, '0040A040') === 'IMAGE')) expect(firstString(items(i, '00081199')[0]!, '00081155')).toBe(firstString(image, '00080018'));
    // Algorithm identification survives the Clean Structured Content option; the reader's name does not.
    expect(all.some((i) => concept(i) === '111001' && firstString(i, '0040A160') === 'resnet18-cxr-phantom')).toBe(true);
    expect(Buffer.from(srBytes).includes('READER')).toBe(false);
    expect(items(sr, '00120064').map((c) => firstString(c, '00080100'))).toContain('113104');
  });
});

describe('overlay secondary capture', () => {
  const width = 33;
  const height = 21;
  const rgb = Uint8Array.from({ length: width * height * 3 }, (_, i) => (i * 7) % 256);
  const capture = { source, rgb, width, height, model: { id: 'resnet18-cxr-phantom', version: '1.0.0' }, labelName: 'Lung opacity', method: 'gradcam' };

  it('is a valid derived Secondary Capture for dciodvfy and decodes to the given RGB', async () => {
    const sc = writeOverlaySecondaryCapture(capture);
    expect(dciodvfyErrors(sc, 'sc.dcm')).toEqual([]);
    const ds = readPart10(sc).dict;
    expect(firstString(ds, '00080016')).toBe('1.2.840.10008.5.1.4.1.1.7');
    expect(ds['00080008']?.Value).toEqual(['DERIVED', 'SECONDARY']);
    expect(firstString(ds, '00082111')).toContain('gradcam');
    expect(firstString(items(ds, '00082112')[0]!, '00081155')).toBe(firstString(sourceDs, '00080018'));
    expect(firstString(ds, '0020000D')).toBe(firstString(sourceDs, '0020000D'));
    const file = path.join(tmp, 'sc-decode.dcm');
    writeFileSync(file, sc);
    const image = await loadImage(file);
    const frame = image.frame(0);
    expect(image.info.width).toBe(width);
    expect(Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength).equals(Buffer.from(rgb))).toBe(true);
  });

  it('stays valid and keeps its source reference through de-identification', () => {
    const deid = new Deidentifier({ allowBurnedIn: true }, new Uint8Array(32).fill(4));
    const image = readPart10(deid.deidentify(source).bytes).dict;
    const sc = deid.deidentify(writeOverlaySecondaryCapture(capture)).bytes;
    expect(dciodvfyErrors(sc, 'sc-deid.dcm')).toEqual([]);
    expect(firstString(items(readPart10(sc).dict, '00082112')[0]!, '00081155')).toBe(firstString(image, '00080018'));
  });

  it('refuses RGB that does not match the size', () => {
    expect(() => writeOverlaySecondaryCapture({ ...capture, width: 34 })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});
