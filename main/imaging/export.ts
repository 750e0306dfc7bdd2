// Runs in the CLI and tests. What `resight info`, `resight decode` and `resight render` print or
// write for an opened image. No patient attributes appear in any of them.
import sharp from 'sharp';
import { ResightError, type VoiWindow } from '../../preload/api';
import { storedPhotometric, transferSyntaxName } from './decode';
import type { LoadedImage, StoredArray } from './types';
import { displayGrey, modalityValues, pipelineFor, toGrey8 } from './voi';

export interface InfoRecord {
  format: 'dicom' | 'png' | 'jpeg';
  transferSyntaxUID: string | null;
  transferSyntaxName: string | null;
  rows: number;
  columns: number;
  frames: number;
  samplesPerPixel: number;
  bitsAllocated: number;
  bitsStored: number;
  highBit: number;
  pixelRepresentation: number;
  photometricInterpretation: string;
  planarConfiguration: number | null;
  modality: string | null;
  rescaleSlope: number;
  rescaleIntercept: number;
  modalityLutSequence: boolean;
  windows: VoiWindow[];
  voiLutFunction: string;
  voiLutSequence: number;
  presentationLutShape: string | null;
  pixelPaddingValue: number | null;
  pixelSpacing: number[] | null;
  imagerPixelSpacing: number[] | null;
  /** Spacing used for measurements, and where it came from. */
  spacing: LoadedImage['info']['spacing'] | null;
}

export function infoRecord(image: LoadedImage): InfoRecord {
  const h = image.dicom;
  const { info } = image;
  if (!h) {
    const bits = info.pixelDataType === 'uint16' ? 16 : 8;
    return {
      format: info.format,
      transferSyntaxUID: null,
      transferSyntaxName: null,
      rows: info.height,
      columns: info.width,
      frames: 1,
      samplesPerPixel: info.samplesPerPixel,
      bitsAllocated: bits,
      bitsStored: bits,
      highBit: bits - 1,
      pixelRepresentation: 0,
      photometricInterpretation: info.photometric,
      planarConfiguration: info.samplesPerPixel === 3 ? 0 : null,
      modality: null,
      rescaleSlope: 1,
      rescaleIntercept: 0,
      modalityLutSequence: false,
      windows: info.windows,
      voiLutFunction: 'LINEAR',
      voiLutSequence: 0,
      presentationLutShape: null,
      pixelPaddingValue: null,
      pixelSpacing: null,
      imagerPixelSpacing: null,
      spacing: null,
    };
  }
  return {
    format: 'dicom',
    transferSyntaxUID: h.transferSyntax,
    transferSyntaxName: transferSyntaxName(h.transferSyntax),
    rows: h.rows,
    columns: h.columns,
    frames: h.frames,
    samplesPerPixel: h.samplesPerPixel,
    bitsAllocated: h.bitsAllocated,
    bitsStored: h.bitsStored,
    highBit: h.highBit,
    pixelRepresentation: h.pixelRepresentation,
    photometricInterpretation: h.photometric,
    planarConfiguration: h.samplesPerPixel === 3 ? h.planarConfiguration : null,
    modality: h.modality ?? null,
    rescaleSlope: h.rescaleSlope,
    rescaleIntercept: h.rescaleIntercept,
    modalityLutSequence: !!h.modalityLut,
    windows: h.windows,
    voiLutFunction: h.voiLutFunction,
    voiLutSequence: h.voiLuts.length,
    presentationLutShape: h.presentationLutShape ?? null,
    pixelPaddingValue: h.paddingValue ?? null,
    pixelSpacing: h.pixelSpacing.length ? h.pixelSpacing : null,
    imagerPixelSpacing: h.imagerPixelSpacing.length ? h.imagerPixelSpacing : null,
    spacing: info.spacing ?? null,
  };
}

function checkFrame(image: LoadedImage, frame: number): void {
  if (frame >= image.info.frames) throw new ResightError('NOT_FOUND', `This image has ${image.info.frames} frame(s); frame ${frame} does not exist (frames count from 0).`);
}

/** The array `resight decode` writes, with its NumPy shape. */
export function decodedArray(image: LoadedImage, frame: number, stage: 'stored' | 'modality'): { data: StoredArray; shape: number[] } {
  checkFrame(image, frame);
  const stored = image.storedFrame(frame);
  const { width, height } = image.info;
  const samples = stored.length / (width * height);
  const shape = samples === 1 ? [height, width] : [height, width, samples];
  if (stage === 'stored') return { data: stored, shape };
  const h = image.dicom;
  // The Modality LUT applies to grey images only (PS3.3 C.11.1); colour passes through as float.
  const grey = samples === 1 && (!h || storedPhotometric(h).startsWith('MONOCHROME'));
  return { data: grey ? modalityValues(stored, h?.rescaleSlope ?? 1, h?.rescaleIntercept ?? 0, h?.modalityLut) : Float32Array.from(stored), shape };
}

/** 8-bit display values through the whole pipeline, as `resight render` writes them. */
export function renderDisplay(image: LoadedImage, frame: number, window?: VoiWindow): { pixels: Uint8Array; channels: 1 | 3 } {
  checkFrame(image, frame);
  const { info } = image;
  const shown = image.frame(frame);
  if (info.samplesPerPixel === 3) return { pixels: Uint8Array.from(shown), channels: 3 };
  return { pixels: toGrey8(displayGrey(shown, pipelineFor(info, image.dicom, window ? { window } : {}))), channels: 1 };
}

export async function renderPng(image: LoadedImage, frame: number, window?: VoiWindow): Promise<Buffer> {
  const { pixels, channels } = renderDisplay(image, frame, window);
  const img = sharp(pixels, { raw: { width: image.info.width, height: image.info.height, channels } });
  // Without an explicit colourspace sharp writes grey input as a three-channel PNG.
  return (channels === 1 ? img.toColourspace('b-w') : img).png().toBuffer();
}
