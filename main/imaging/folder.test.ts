// Runs in tests. Folders and DICOMDIRs grouped patient → study → series → instance, in order.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { readDicomdir, scanFolder, type FolderScan } from './folder';

const dir = mkdtempSync(path.join(os.tmpdir(), 'resight-folder-'));
const tree = path.join(dir, 'tree');
const media = path.join(dir, 'media');

beforeAll(async () => {
  execFileSync('/usr/bin/python3', [path.join(__dirname, 'testdata', 'fixtures.py'), 'series', tree]);
  await sharp(Buffer.alloc(12, 9), { raw: { width: 2, height: 2, channels: 3 } }).png().toFile(path.join(tree, 'B', 'photo.png'));
  cpSync(tree, media, { recursive: true });
  rmSync(path.join(media, 'A', 'NOTES'));
  rmSync(path.join(media, 'B', 'photo.png'));
  execFileSync('dcmmkdir', ['+I', '+r', '-q', 'A', 'B', 'C'], { cwd: media });
});

/** The tree as names only: patient / series number / instance files in order. */
function outline(scan: FolderScan, root: string): string[] {
  return scan.patients.flatMap((p) =>
    p.studies.flatMap((s) => s.series.map((se) => `${p.patientId}/${se.seriesNumber}: ${se.instances.map((i) => path.relative(root, i.path)).join(' ')}`)),
  );
}

const expected = ['ALPHA/1: A/IM1 B/DEEP/ER/IM2 A/X/IM3', 'ALPHA/2: A/CT8 C/CT7 B/CT9', 'BRAVO/1: C/ZZ1'];

describe('folders and DICOMDIR', () => {
  it('walks a folder recursively and orders instances by number, then by position along the normal', async () => {
    const scan = await scanFolder(tree);
    expect(outline(scan, tree)).toEqual(expected);
    expect(scan.rasters.map((r) => path.relative(tree, r))).toEqual(['B/photo.png']);
    expect(scan.skipped).toBe(1);
    expect(scan.patients[0]!.studies).toHaveLength(1);
  });

  it('reads the same grouping from a DICOMDIR made by dcmtk', async () => {
    const scan = await readDicomdir(path.join(media, 'DICOMDIR'));
    expect(outline(scan, media)).toEqual(expected);
    // scanFolder prefers the DICOMDIR when there is one.
    expect(outline(await scanFolder(media), media)).toEqual(expected);
  });

  it('refuses a damaged DICOMDIR and a missing folder with codes', async () => {
    const bad = path.join(dir, 'bad');
    cpSync(media, bad, { recursive: true });
    writeFileSync(path.join(bad, 'DICOMDIR'), 'garbage');
    await expect(scanFolder(bad)).rejects.toMatchObject({ code: 'INVALID_DICOM' });
    await expect(scanFolder(path.join(dir, 'nope'))).rejects.toMatchObject({ code: 'FILE_NOT_FOUND' });
  });
});
