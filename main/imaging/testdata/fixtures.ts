// Runs in tests. Builds small DICOM fixtures with pydicom, re-encodes them with dcmtk and GDCM
// (independent encoders) and HTJ2K with OpenJPH, then decodes every file with pydicom + GDCM to
// reference .npy arrays. Computed per run, not committed: the inputs are a few kB and the tools
// come from Debian (dcmtk, python3-pydicom, python3-gdcm, libgdcm-tools).
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import openjphFactory from '@cornerstonejs/codec-openjph/wasmjs';
import dicomParser from 'dicom-parser';
import { decodeNpy, type NpyArray } from '../npy';

/** Beside this file in the sources; from a bundle in dist/<target>/, back in the sources. */
export const fixturesScript = [path.join(__dirname, 'fixtures.py'), path.resolve(__dirname, '..', '..', 'main', 'imaging', 'testdata', 'fixtures.py')].find((p) =>
  existsSync(p),
)!;
const script = fixturesScript;
const python = '/usr/bin/python3';

/** Lossless re-encodings: [suffix, command, args before in/out]. */
const LOSSLESS: Array<[string, string, string[]]> = [
  ['rle', 'dcmcrle', []],
  ['jpeg-sv1', 'dcmcjpeg', ['+e1']],
  ['jpeg-lossless', 'dcmcjpeg', ['+el']],
  ['jpegls', 'dcmcjpls', ['+el']],
  ['j2k', 'gdcmconv', ['--j2k']],
];
export const GREY_SOURCES = ['grey12', 'signed16', 'grey8', 'mono1'];
export const COLOUR_SOURCES = ['rgb'];

export interface Fixtures {
  dir: string;
  file(name: string): string;
  reference(name: string): NpyArray;
  /** Lossless files to compare: [encoded file, its reference .npy]. */
  lossless: Array<{ name: string; reference: string }>;
  /** Lossy files and the independent decode they are compared with. */
  lossy: Array<{ name: string; reference: string }>;
}

export async function encodeHtj2k(dir: string, source: string): Promise<string> {
  const ds = dicomParser.parseDicom(new Uint8Array(readFileSync(path.join(dir, `${source}.dcm`))));
  const el = ds.elements['x7fe00010']!;
  const rows = ds.uint16('x00280010')!;
  const columns = ds.uint16('x00280011')!;
  const bits = ds.uint16('x00280101')!;
  const samples = ds.uint16('x00280002')!;
  const signed = ds.uint16('x00280103') === 1;
  const mod = await openjphFactory({ print: () => undefined, printErr: () => undefined });
  const encoder = new mod.HTJ2KEncoder!();
  try {
    const input = encoder.getDecodedBuffer({ width: columns, height: rows, bitsPerSample: bits, componentCount: samples, isSigned: signed, isUsingColorTransform: false });
    input.set(ds.byteArray.subarray(el.dataOffset, el.dataOffset + input.length));
    encoder.encode();
    const stream = path.join(dir, `${source}.j2c`);
    writeFileSync(stream, encoder.getEncodedBuffer());
    const out = path.join(dir, `${source}.htj2k.dcm`);
    execFileSync(python, [script, 'wrap', stream, path.join(dir, `${source}.dcm`), '1.2.840.10008.1.2.4.201', out]);
    return out;
  } finally {
    encoder.delete();
  }
}

/** Only the native source files (no re-encoding, no reference decode): quick. */
export function makeSources(): { dir: string; file(name: string): string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'resight-sources-'));
  execFileSync(python, [script, 'make', dir]);
  return { dir, file: (name) => path.join(dir, `${name}.dcm`) };
}

/**
 * JPEG Extended (dcmtk `dcmcjpeg +ee`) of `source`, with its two independent decodes as lossy
 * references: pydicom + GDCM (`<source>.extended`, from the reference step) and dcmtk's dcmdjpeg.
 */
function encodeExtended(file: (name: string) => string, source: string): Fixtures['lossy'] {
  execFileSync('dcmcjpeg', ['+ee', file(source), file(`${source}.extended`)]);
  execFileSync('dcmdjpeg', [file(`${source}.extended`), file(`${source}.extended.dcmdjpeg`)]);
  return [
    { name: `${source}.extended`, reference: `${source}.extended` },
    { name: `${source}.extended`, reference: `${source}.extended.dcmdjpeg` },
  ];
}

/**
 * The repository's sample radiographs (assets/samples/*.dcm) in every lossless encoding, with
 * pydicom + GDCM references, and in JPEG Extended: real-sized films next to the small synthetic
 * fixtures.
 */
export async function makeSampleFixtures(samplesDir: string, names: string[]): Promise<Fixtures> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'resight-samples-'));
  const file = (name: string): string => path.join(dir, `${name}.dcm`);
  const lossless: Fixtures['lossless'] = [];
  const lossy: Fixtures['lossy'] = [];
  for (const name of names) {
    copyFileSync(path.join(samplesDir, `${name}.dcm`), file(name));
    for (const [suffix, tool, args] of LOSSLESS) {
      execFileSync(tool, [...args, file(name), file(`${name}.${suffix}`)]);
      lossless.push({ name: `${name}.${suffix}`, reference: `${name}.${suffix}` });
    }
    await encodeHtj2k(dir, name);
    lossless.push({ name: `${name}.htj2k`, reference: name });
    lossy.push(...encodeExtended(file, name));
  }
  execFileSync(python, [script, 'reference', dir]);
  return { dir, file, reference: (name) => decodeNpy(new Uint8Array(readFileSync(path.join(dir, `${name}.npy`)))), lossless, lossy };
}

export async function makeFixtures(): Promise<Fixtures> {
  const { dir, file } = makeSources();
  const lossless: Fixtures['lossless'] = [];
  for (const source of [...GREY_SOURCES, ...COLOUR_SOURCES]) {
    for (const [suffix, tool, args] of LOSSLESS) {
      execFileSync(tool, [...args, file(source), file(`${source}.${suffix}`)]);
      lossless.push({ name: `${source}.${suffix}`, reference: `${source}.${suffix}` });
    }
    // HTJ2K: GDCM 3.0 cannot read it, so the reference is the source's own pixels.
    await encodeHtj2k(dir, source);
    lossless.push({ name: `${source}.htj2k`, reference: source });
  }
  execFileSync('dcmcrle', [file('multi'), file('multi.rle')]);
  lossless.push({ name: 'multi.rle', reference: 'multi.rle' });
  for (const native of ['rgb-planar', 'ybr-full', 'ybr-422', 'palette8', 'palette16', 'multi']) lossless.push({ name: native, reference: native });
  execFileSync('dcmconv', ['+tb', file('grey12'), file('grey12.big')]);
  execFileSync('dcmconv', ['+td', file('signed16'), file('signed16.deflated')]);
  execFileSync('dcmconv', ['+ti', file('mono1'), file('mono1.implicit')]);
  lossless.push({ name: 'grey12.big', reference: 'grey12' }, { name: 'signed16.deflated', reference: 'signed16' }, { name: 'mono1.implicit', reference: 'mono1' });

  execFileSync('dcmcjpeg', ['+eb', file('grey8'), file('grey8.baseline')]);
  execFileSync('dcmcjpeg', ['+eb', file('rgb'), file('rgb.baseline')]);
  execFileSync('dcmcjpls', ['+en', file('grey12'), file('grey12.jpegls-near')]);
  execFileSync('gdcmconv', ['--j2k', '--lossy', '-q', '40', file('grey12'), file('grey12.j2k-lossy')]);
  execFileSync('dcmcjpeg', ['+ee', file('grey8'), file('grey8.extended')]);
  execFileSync('gdcmconv', ['--j2k', '--lossy', '-r', '8', file('rgb'), file('rgb.j2k-lossy')]);
  // GDCM hands JPEG colour back as YCbCr; dcmtk's decoder converts it to RGB, as Resight does.
  execFileSync('dcmdjpeg', [file('rgb.baseline'), file('rgb.baseline.dcmdjpeg')]);
  const lossy = [
    { name: 'grey8.baseline', reference: 'grey8.baseline' },
    { name: 'rgb.baseline', reference: 'rgb.baseline.dcmdjpeg' },
    { name: 'grey12.jpegls-near', reference: 'grey12.jpegls-near' },
    { name: 'grey12.j2k-lossy', reference: 'grey12.j2k-lossy' },
    { name: 'grey8.extended', reference: 'grey8.extended' },
    { name: 'rgb.j2k-lossy', reference: 'rgb.j2k-lossy' },
    ...encodeExtended(file, 'grey12'),
  ];

  execFileSync(python, [script, 'reference', dir]);
  return {
    dir,
    file,
    reference: (name) => decodeNpy(new Uint8Array(readFileSync(path.join(dir, `${name}.npy`)))),
    lossless,
    lossy,
  };
}
