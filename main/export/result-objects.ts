// Runs in main, the server and the CLI. One stored model result as the DICOM objects that go back to
// the PACS it came from: a findings SR referencing the source image and, for each positive label, a
// Secondary Capture of the image with its heatmap. Identified on purpose: they join the patient's
// own study.
import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import { ResightError } from '../../preload/api';
import { renderDisplay } from '../imaging/export';
import { loadImage } from '../imaging/load';
import type { Store } from '../store/repositories';
import { overlayPng } from './overlay-png';
import { writeOverlaySecondaryCapture } from './secondary-capture';
import { writeFindingsSr, type SrFinding } from './sr';

export interface ResultObject {
  /** For the reader: "SR", "overlay Pleural effusion". */
  what: string;
  bytes: Uint8Array;
}

export async function resultObjects(
  store: Store,
  resultId: number,
  opts: { overlays: boolean; reader?: (labelId: string) => SrFinding['reader'] },
): Promise<ResultObject[]> {
  const result = store.result(resultId);
  if (!result) throw new ResightError('NOT_FOUND', 'That model result is no longer available. Run the model again.');
  const file = store.imagePath(result.imageId);
  if (!file) throw new ResightError('IMAGE_NOT_OPEN', 'The image of that result is not known any more. Open it again.');
  let source: Uint8Array;
  try {
    source = new Uint8Array(await readFile(file));
  } catch {
    throw new ResightError('FILE_NOT_FOUND', 'The image file of that result can no longer be read. Open it again.');
  }
  const image = await loadImage(file);
  if (image.info.imageId !== result.imageId) throw new ResightError('FILE_NOT_FOUND', 'The image file has changed on disk since the model ran. Open it again and run the model.');
  if (image.info.format !== 'dicom') throw new ResightError('INVALID_ARGUMENT', 'Only results on DICOM images can be sent to a PACS; this image is a PNG or JPEG file.');
  const model = { id: result.modelId, version: result.modelVersion, sha256: result.modelSha256, provider: result.providerUsed };
  const findings: SrFinding[] = result.findings.map((f) => {
    const reader = opts.reader?.(f.labelId);
    return { labelId: f.labelId, name: f.name, probability: f.probability, threshold: f.threshold, positive: f.positive, ...(reader ? { reader } : {}) };
  });
  const out: ResultObject[] = [{ what: 'SR', bytes: writeFindingsSr({ source, model, findings, observedAt: new Date(result.createdAt) }) }];
  if (!opts.overlays) return out;
  const display = renderDisplay(image, result.frame);
  for (const f of result.findings.filter((x) => x.positive)) {
    const cam = result.cams[f.labelId];
    if (!cam) continue;
    const png = await overlayPng({ display, width: image.info.width, height: image.info.height, cam, model, labelName: f.name });
    const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    out.push({
      what: `overlay ${f.name}`,
      bytes: writeOverlaySecondaryCapture({ source, rgb: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height, model, labelName: f.name, method: cam.method }),
    });
  }
  return out;
}
