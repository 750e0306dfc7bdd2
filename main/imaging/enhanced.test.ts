// Runs in tests. Enhanced multi-frame files keep rescale, window and pixel spacing in functional
// groups (PS3.3 C.7.6.16), shared by all frames or given per frame; both places are read.
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadImage } from './load';
import { displayIntensities } from './voi';

const WRITE = String.raw`
import sys, numpy as np, pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, generate_uid
out, where = sys.argv[1], sys.argv[2]
frames = 3
ds = Dataset()
ds.file_meta = FileMetaDataset()
ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
ds.file_meta.MediaStorageSOPClassUID = '1.2.840.10008.5.1.4.1.1.1.1'
ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID
ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID
ds.StudyInstanceUID = generate_uid(); ds.SeriesInstanceUID = generate_uid()
ds.Modality = 'DX'
ds.Rows, ds.Columns, ds.NumberOfFrames = 32, 40, frames
ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, 'MONOCHROME2'
ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
ds.PixelData = (np.arange(frames * 32 * 40) % 4096).astype('<u2').tobytes()
def group():
    g = Dataset()
    pm = Dataset(); pm.PixelSpacing = [0.25, 0.5]; pm.SliceThickness = 1
    pvt = Dataset(); pvt.RescaleSlope = 2; pvt.RescaleIntercept = -100; pvt.RescaleType = 'US'
    voi = Dataset(); voi.WindowCenter = 1500; voi.WindowWidth = 1000
    g.PixelMeasuresSequence = Sequence([pm]); g.PixelValueTransformationSequence = Sequence([pvt]); g.FrameVOILUTSequence = Sequence([voi])
    return g
if where == 'shared':
    ds.SharedFunctionalGroupsSequence = Sequence([group()])
else:
    ds.SharedFunctionalGroupsSequence = Sequence([Dataset()])
    ds.PerFrameFunctionalGroupsSequence = Sequence([group() for _ in range(frames)])
ds.is_little_endian = True; ds.is_implicit_VR = False
ds.save_as(out, write_like_original=False)
`;

function enhanced(where: 'shared' | 'perframe'): string {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'resight-enhanced-')), `${where}.dcm`);
  execFileSync('/usr/bin/python3', ['-c', WRITE, file, where]);
  return file;
}

describe('enhanced multi-frame functional groups', () => {
  for (const where of ['shared', 'perframe'] as const) {
    it(`reads rescale, window and pixel spacing from the ${where === 'shared' ? 'shared' : 'per-frame'} groups`, async () => {
      const image = await loadImage(enhanced(where));
      expect(image.info.frames).toBe(3);
      expect(image.info.rescaleSlope).toBe(2);
      expect(image.info.rescaleIntercept).toBe(-100);
      expect(image.info.windows[0]).toMatchObject({ center: 1500, width: 1000 });
      expect(image.info.spacing).toMatchObject({ row: 0.25, column: 0.5, source: 'PixelSpacing' });
      // Stored 800 → modality 1500, the window's centre: mid grey.
      const frame = image.frame(0);
      const i = Array.from(frame).indexOf(800);
      expect(displayIntensities(frame, image.info)[i]).toBeCloseTo(0.5, 2);
    });
  }
});
