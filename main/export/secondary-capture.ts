// Runs in main, the CLI and tests. Writes the image with its heatmap overlay as a Secondary Capture
// Image (RGB, 8-bit), marked as derived from the source image, in the source's patient and study.
import { ResightError } from '../../preload/api';
import { daTm, derivedDataset, element, firstString, newMeta, newUid, readPart10, writePart10 } from './dicom-write';

export interface OverlayCaptureInput {
  /** Source image Part 10 bytes. */
  source: Uint8Array;
  /** Interleaved RGB 8-bit of image + CAM overlay. */
  rgb: Uint8Array;
  width: number;
  height: number;
  model: { id: string; version: string };
  labelName: string;
  method: string;
}

export const SECONDARY_CAPTURE = '1.2.840.10008.5.1.4.1.1.7';

export function writeOverlaySecondaryCapture(input: OverlayCaptureInput): Uint8Array {
  const { width, height, rgb } = input;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1 || width > 65535 || height > 65535 || rgb.length !== width * height * 3)
    throw new ResightError('INVALID_ARGUMENT', 'The overlay image size does not match its RGB pixels.');
  const source = readPart10(input.source).dict;
  const sourceClass = firstString(source, '00080016');
  const sourceInstance = firstString(source, '00080018');
  if (!sourceClass || !sourceInstance) throw new ResightError('INVALID_DICOM', 'The source image lacks the UIDs a derived image must reference.');
  const now = daTm(new Date());
  const instance = newUid();
  // DICOM values have even lengths: an odd pixel count gets one pad byte.
  const pixels = new Uint8Array(rgb.length + (rgb.length % 2));
  pixels.set(rgb);
  const sc = derivedDataset(source);
  Object.assign(sc, {
    '00080008': element('CS', 'DERIVED', 'SECONDARY'),
    '00080012': element('DA', now.date),
    '00080013': element('TM', now.time),
    '00080016': element('UI', SECONDARY_CAPTURE),
    '00080018': element('UI', instance),
    '00080023': element('DA', now.date),
    '00080033': element('TM', now.time),
    '00080060': element('CS', 'OT'),
    '00080064': element('CS', 'WSD'),
    '00080070': element('LO', 'Resight'),
    '0008103E': element('LO', `${input.labelName} heatmap (${input.model.id} ${input.model.version})`.slice(0, 64)),
    '00082111': element('ST', `${input.method} heatmap for ${input.labelName} from ${input.model.id} ${input.model.version}, blended over the displayed image. Decision support, not a diagnosis.`.slice(0, 1024)),
    '00082112': element('SQ', {
      '00081150': element('UI', sourceClass),
      '00081155': element('UI', sourceInstance),
      '0040A170': element('SQ', { '00080100': element('SH', '121322'), '00080102': element('SH', 'DCM'), '00080104': element('LO', 'Source image for image processing operation') }),
    }),
    '00181016': element('LO', 'Resight'),
    '00181019': element('LO', __RESIGHT_VERSION__.slice(0, 64)),
    '0020000E': element('UI', newUid()),
    '00200011': element('IS', '1'),
    '00200013': element('IS', '1'),
    '00200020': element('CS'),
    '00200060': source['00200060'] ? { vr: 'CS', Value: [...(source['00200060'].Value ?? [])] } : element('CS'),
    '00280002': element('US', 3),
    '00280004': element('CS', 'RGB'),
    '00280006': element('US', 0),
    '00280010': element('US', height),
    '00280011': element('US', width),
    '00280100': element('US', 8),
    '00280101': element('US', 8),
    '00280102': element('US', 7),
    '00280103': element('US', 0),
    // The overlay adds a colour map, no text; annotation already burned into the source stays.
    '00280301': element('CS', firstString(source, '00280301')?.trim().toUpperCase() === 'YES' ? 'YES' : 'NO'),
    '7FE00010': element('OB', pixels.buffer),
  });
  return writePart10({ meta: newMeta(SECONDARY_CAPTURE, instance), dict: sc });
}
