// Runs in the decode worker (and tests, in-process). A DICOM file's bytes → header, ImageInfo and
// every frame decoded: stored values, plus an RGB copy for colour images.
import { ResightError, type ImageInfo, type VoiWindow } from '../../preload/api';
import { parseDicomFile } from './dicom';
import type { TargetSize } from './codecs';
import { assertSupported, decodedBytes, decodeStored, decodeStoredForSize, isColour, pixelDataType, toRgb8 } from './decode';
import { areaAverage, centreLevel, coverSize } from './reduce';
import type { DicomHeader, StoredArray } from './types';
import { lutLookup, paddingTest, windowFromHistogram } from './voi';

export interface DecodedDicom {
  header: DicomHeader;
  info: Omit<ImageInfo, 'imageId' | 'fileName'>;
  stored: StoredArray[];
  /** The frames the viewer shows: the stored arrays themselves for grey images, RGB for colour. */
  display: StoredArray[];
}

/** One frame decoded for a consumer that needs only `target` pixels (the model, a small viewport). */
export interface DecodedForSize {
  header: DicomHeader;
  /** The image as a whole: width and height are the full image's. */
  info: Omit<ImageInfo, 'imageId' | 'fileName'>;
  frame: number;
  /** Size of `pixels`: covers the target on both axes (or is the full size when that is smaller). */
  width: number;
  height: number;
  /** As DecodedDicom.display: stored values for grey images, 8-bit RGB for colour. */
  pixels: StoredArray;
}

/** Default cap on decoded pixel memory for one image; a 3000 × 3000 16-bit film needs 18 MB. */
export const DEFAULT_MAX_IMAGE_BYTES = 1024 ** 3;

export function tooLarge(bytes: number, limit: number): ResightError {
  const mb = (n: number): string => `${Math.ceil(n / 1024 ** 2)} MB`;
  return new ResightError(
    'IMAGE_TOO_LARGE',
    `This image would need ${mb(bytes)} of memory once decoded, more than the ${mb(limit)} limit set for one image. Raise the limit in settings or open it on a workstation with more memory.`,
  );
}

export function imageInfo(h: DicomHeader, first: StoredArray): Omit<ImageInfo, 'imageId' | 'fileName'> {
  const colour = isColour(h);
  const windows: VoiWindow[] = h.windows.map((w) => ({ ...w }));
  if (windows.length === 0 && h.voiLuts.length > 0) {
    // The viewer shows windows; a LUT's input range stands in for it there.
    const lut = h.voiLuts[0]!;
    windows.push({ center: lut.first + lut.data.length / 2, width: Math.max(1, lut.data.length), explanation: lut.explanation ?? 'VOI LUT' });
  }
  if (windows.length === 0) {
    windows.push(
      colour
        ? { center: 127.5, width: 256, explanation: 'Full range' }
        : windowFromHistogram(
            first,
            (v) => (h.modalityLut ? lutLookup(h.modalityLut, v) : v * h.rescaleSlope + h.rescaleIntercept),
            paddingTest(h.paddingValue, h.paddingLimit),
          ),
    );
  }
  return {
    format: 'dicom',
    width: h.columns,
    height: h.rows,
    frames: h.frames,
    samplesPerPixel: colour ? 3 : 1,
    bitsStored: colour ? 8 : h.bitsStored,
    pixelDataType: colour ? 'uint8' : pixelDataType(h),
    photometric: colour ? 'RGB' : h.photometric,
    ...(colour && h.photometric !== 'RGB' ? { storedPhotometric: h.photometric } : {}),
    modality: h.modality,
    rescaleSlope: h.modalityLut ? 1 : h.rescaleSlope,
    rescaleIntercept: h.modalityLut ? 0 : h.rescaleIntercept,
    windows,
    ...(h.voiLutFunction !== 'LINEAR' ? { voiLutFunction: h.voiLutFunction } : {}),
    ...(h.presentationLutShape ? { presentationLutShape: h.presentationLutShape } : {}),
    ...(h.modalityLut || h.voiLuts.length ? { lookupTables: { modality: !!h.modalityLut, voi: h.voiLuts.length } } : {}),
    spacing: h.spacing,
    sopInstanceUid: h.sopInstanceUid,
    studyInstanceUid: h.studyInstanceUid,
    seriesInstanceUid: h.seriesInstanceUid,
    patient: h.patientName || h.patientId ? { name: h.patientName, id: h.patientId } : undefined,
    studyDate: h.studyDate,
    studyDescription: h.studyDescription,
  };
}

export async function decodeDicom(bytes: Uint8Array, maxImageBytes = DEFAULT_MAX_IMAGE_BYTES): Promise<DecodedDicom> {
  const parsed = parseDicomFile(bytes);
  const h = parsed.header;
  assertSupported(h);
  // Refuse before allocating anything frame-sized.
  const need = decodedBytes(h);
  if (need > maxImageBytes) throw tooLarge(need, maxImageBytes);
  const stored: StoredArray[] = [];
  for (let i = 0; i < h.frames; i++) stored.push(await decodeStored(parsed, i));
  const display = isColour(h) ? stored.map((f) => toRgb8(h, f)) : stored;
  return { header: h, info: imageInfo(h, stored[0]!), stored, display };
}

/**
 * One frame at the smallest size covering `target`: JPEG 2000 and HTJ2K decode only the resolution
 * levels needed; other encodings decode in full and are area-averaged down once.
 */
export async function decodeDicomForSize(bytes: Uint8Array, target: TargetSize, frame = 0, maxImageBytes = DEFAULT_MAX_IMAGE_BYTES): Promise<DecodedForSize> {
  const parsed = parseDicomFile(bytes);
  const h = parsed.header;
  assertSupported(h);
  const need = decodedBytes({ ...h, frames: 1 });
  if (need > maxImageBytes) throw tooLarge(need, maxImageBytes);
  const { stored, width, height, level } = await decodeStoredForSize(parsed, frame, target);
  const at = { ...h, rows: height, columns: width };
  const display = isColour(h) ? toRgb8(at, stored) : stored;
  const info = imageInfo(h, stored);
  if (level > 0) return { header: h, info, frame, width, height, pixels: centreLevel(display, width, height, isColour(h) ? 3 : 1, level) };
  const size = coverSize(width, height, target);
  const pixels = size.width === width && size.height === height ? display : areaAverage(display, width, height, isColour(h) ? 3 : 1, size.width, size.height);
  return { header: h, info, frame, width: size.width, height: size.height, pixels };
}
