// Runs in tests. Native DICOM decoding and the display pipeline, on files made by dcmtk (a real
// DICOM toolkit) in every native transfer syntax, checked against dcmtk's own renderer.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadImage } from './load';
import { displayIntensities } from './voi';

const dir = mkdtempSync(path.join(os.tmpdir(), 'resight-imaging-'));
const file = (name: string): string => path.join(dir, name);

function dump(name: string, fields: Record<string, string>, pixels: string, extra = ''): string {
  const base: Record<string, string> = {
    '(0008,0016) UI': '=SecondaryCaptureImageStorage',
    '(0008,0018) UI': '[1.2.826.0.1.3680043.8.498.1]',
    '(0008,0060) CS': '[CR]',
    '(0010,0010) PN': '[PHANTOM^TEST]',
    '(0028,0002) US': '1',
    ...fields,
  };
  const text = Object.entries(base).map(([k, v]) => `${k} ${v}`).join('\n') + `\n${extra}(7fe0,0010) OW ${pixels}\n`;
  writeFileSync(file(`${name}.txt`), text);
  execFileSync('dump2dcm', ['+te', file(`${name}.txt`), file(`${name}.dcm`)]);
  return file(`${name}.dcm`);
}

const mono1 = {
  '(0028,0004) CS': '[MONOCHROME1]',
  '(0028,0010) US': '2',
  '(0028,0011) US': '3',
  '(0028,0100) US': '16',
  '(0028,0101) US': '12',
  '(0028,0102) US': '11',
  '(0028,0103) US': '0',
  '(0028,1050) DS': '[2048\\1000]',
  '(0028,1051) DS': '[4096\\500]',
  '(0028,1055) LO': '[FULL\\NARROW]',
};

let cr: string;
beforeAll(() => {
  cr = dump('cr', mono1, '0000\\0fff\\f123\\0800\\0400\\0001');
  execFileSync('dcmconv', ['+tb', cr, file('cr-be.dcm')]);
  execFileSync('dcmconv', ['+ti', cr, file('cr-implicit.dcm')]);
  execFileSync('dcmconv', ['+td', cr, file('cr-deflated.dcm')]);
  execFileSync('dcmcrle', [cr, file('cr-rle.dcm')]);
});

describe('DICOM native decode', () => {
  it('masks BitsStored, keeps windows with explanations, and reads the metadata', async () => {
    const img = await loadImage(cr);
    expect(Array.from(img.frame(0))).toEqual([0, 0x0fff, 0x0123, 0x0800, 0x0400, 1]);
    expect(img.info).toMatchObject({ width: 3, height: 2, bitsStored: 12, photometric: 'MONOCHROME1', modality: 'CR', pixelDataType: 'uint16' });
    expect(img.info.windows).toEqual([
      { center: 2048, width: 4096, explanation: 'FULL' },
      { center: 1000, width: 500, explanation: 'NARROW' },
    ]);
  });

  it('gives the same pixels in implicit, big-endian and deflated transfer syntaxes', async () => {
    const reference = Array.from((await loadImage(cr)).frame(0));
    for (const name of ['cr-be.dcm', 'cr-implicit.dcm', 'cr-deflated.dcm']) {
      expect(Array.from((await loadImage(file(name))).frame(0)), name).toEqual(reference);
    }
  });

  it('sign-extends signed data stored in fewer bits than allocated', async () => {
    const p = dump(
      'signed',
      { ...mono1, '(0028,0004) CS': '[MONOCHROME2]', '(0028,0103) US': '1', '(0028,0010) US': '1', '(0028,0011) US': '3' },
      '0fff\\0800\\07ff',
    );
    expect(Array.from((await loadImage(p)).frame(0))).toEqual([-1, -2048, 2047]);
  });

  it('inverts MONOCHROME1 for display and matches dcmtk rendering under the file window', async () => {
    const img = await loadImage(cr);
    const shown = displayIntensities(img.frame(0), img.info);
    // High stored values are dark in MONOCHROME1.
    expect(shown[1]!).toBeLessThan(shown[0]!);
    execFileSync('dcm2pnm', ['+Ww', '2048', '4096', '+on', cr, file('cr.png')]);
    const ref = await sharp(file('cr.png')).toColourspace('b-w').raw().toBuffer();
    for (let i = 0; i < 6; i++) expect(Math.abs(Math.round(shown[i]! * 255) - ref[i]!), `pixel ${i}`).toBeLessThanOrEqual(1);
  });

  it('computes a default window from the histogram when the file has none', async () => {
    const fields: Record<string, string> = { ...mono1, '(0028,0004) CS': '[MONOCHROME2]' };
    delete fields['(0028,1050) DS'];
    delete fields['(0028,1051) DS'];
    delete fields['(0028,1055) LO'];
    const img = await loadImage(dump('nowin', fields, '0064\\00c8\\012c\\0190\\01f4\\0258'));
    expect(img.info.windows).toHaveLength(1);
    const w = img.info.windows[0]!;
    expect(w.center - w.width / 2).toBeGreaterThanOrEqual(100 - 1);
    expect(w.center + w.width / 2).toBeLessThanOrEqual(600 + 1);
  });

  it('refuses truncated, unknown-encoding and non-DICOM files with typed errors', async () => {
    const bytes = readFileSync(cr);
    writeFileSync(file('cut.dcm'), bytes.subarray(0, bytes.length - 5));
    await expect(loadImage(file('cut.dcm'))).rejects.toMatchObject({ code: 'TRUNCATED_FILE' });
    expect(Array.from((await loadImage(file('cr-rle.dcm'))).frame(0))).toEqual([0, 0x0fff, 0x0123, 0x0800, 0x0400, 1]);
    // The same bytes labelled with a transfer syntax nobody defined (same UID length).
    const unknown = Buffer.from(readFileSync(file('cr-rle.dcm')).toString('latin1').replace('1.2.840.10008.1.2.5\0', '1.2.840.10008.1.2.99'), 'latin1');
    writeFileSync(file('unknown-ts.dcm'), unknown);
    await expect(loadImage(file('unknown-ts.dcm'))).rejects.toMatchObject({ code: 'UNSUPPORTED_TRANSFER_SYNTAX', message: expect.stringContaining('1.2.840.10008.1.2.99') });
    writeFileSync(file('text.dcm'), 'not an image at all');
    await expect(loadImage(file('text.dcm'))).rejects.toMatchObject({ code: 'UNSUPPORTED_FORMAT' });
    await expect(loadImage(file('missing.dcm'))).rejects.toMatchObject({ code: 'FILE_NOT_FOUND' });
  });
});

describe('PNG and JPEG', () => {
  it('keeps 16-bit grey PNG values and applies EXIF orientation to JPEG', async () => {
    const px = Uint16Array.from({ length: 8 }, (_, i) => i * 8000);
    await sharp(px, { raw: { width: 4, height: 2, channels: 1 } }).toColourspace('grey16').png().toFile(file('g16.png'));
    const png = await loadImage(file('g16.png'));
    expect(Array.from(png.frame(0))).toEqual(Array.from(px));
    expect(displayIntensities(png.frame(0), png.info)[7]).toBeCloseTo(56000 / 65535, 5);

    // A 4×2 landscape JPEG tagged orientation 6 (rotate 90° clockwise) must come out 2×4.
    const rgb = Buffer.alloc(4 * 2 * 3, 128);
    await sharp(rgb, { raw: { width: 4, height: 2, channels: 3 } }).jpeg().withMetadata({ orientation: 6 }).toFile(file('o6.jpg'));
    const jpg = await loadImage(file('o6.jpg'));
    expect([jpg.info.width, jpg.info.height]).toEqual([2, 4]);
  });
});
