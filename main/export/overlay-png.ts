// Runs in main, the CLI and tests. The overlay PNG a bundle carries for each positive label: the
// stored CAM laid over the image's display pixels, with a colour bar and the model's identity drawn
// in a corner (renderCamOverlay), so the picture still says which model made it once it leaves
// the bundle. sharp writes no metadata chunks unless asked, so nothing but pixels leaves with it.
import type { CamMap } from '../../preload/api';
import type { InputGeometry } from '../inference/geometry';
import { labelledOverlay, renderCamOverlay } from '../inference/cam/overlay';

/** The geometry that puts a stored CAM's grid over its extent in image pixels. */
export function camGeometry(cam: CamMap, imageWidth: number, imageHeight: number): InputGeometry {
  const { x0, y0, x1, y1 } = cam.extent;
  const scaleX = cam.width / (x1 - x0);
  const scaleY = cam.height / (y1 - y0);
  return { imageWidth, imageHeight, inputWidth: cam.width, inputHeight: cam.height, scaleX, scaleY, offsetX: -x0 * scaleX, offsetY: -y0 * scaleY };
}

export interface OverlayPngInput {
  display: { pixels: Uint8Array; channels: 1 | 3 };
  width: number;
  height: number;
  cam: CamMap;
  model: { id: string; version: string };
  labelName: string;
}

export async function overlayPng(input: OverlayPngInput): Promise<Buffer> {
  const { display, width, height, cam } = input;
  return renderCamOverlay(display.pixels, display.channels, width, height, cam, camGeometry(cam, width, height), labelledOverlay(input.model, cam.method, input.labelName));
}
