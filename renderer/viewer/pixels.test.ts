import { describe, expect, it } from 'vitest';
import type { FrameData, ImageInfo, PixelDataType } from '../../preload/api';
import { ApiError } from '../api/errors';
import { isReduced, toViewImage } from './pixels';

const info = (over: Partial<ImageInfo> = {}): ImageInfo => ({
  imageId: 'a'.repeat(64),
  format: 'dicom',
  fileName: 'x.dcm',
  width: 2,
  height: 2,
  frames: 1,
  samplesPerPixel: 1,
  bitsStored: 16,
  pixelDataType: 'int16',
  photometric: 'MONOCHROME2',
  rescaleSlope: 1,
  rescaleIntercept: 0,
  windows: [{ center: 0, width: 100 }],
  ...over,
});

const frame = (type: PixelDataType, bytes: number[], w = 2, h = 2, spp = 1, offset = 0): FrameData => {
  // An offset inside a larger buffer reproduces bytes that arrive unaligned.
  const buf = new Uint8Array(offset + bytes.length);
  buf.set(bytes, offset);
  return {
    meta: { imageId: 'a'.repeat(64), frame: 0, width: w, height: h, samplesPerPixel: spp, pixelDataType: type },
    data: buf.subarray(offset),
  };
};

describe('toViewImage', () => {
  it('reads little-endian signed 16-bit values and their range', () => {
    // -1024, 0, 1, 32767
    const img = toViewImage(info(), frame('int16', [0x00, 0xfc, 0, 0, 1, 0, 0xff, 0x7f]));
    expect(img.kind).toBe('grey');
    if (img.kind !== 'grey') return;
    expect(Array.from(img.values)).toEqual([-1024, 0, 1, 32767]);
    expect([img.min, img.max]).toEqual([-1024, 32767]);
  });

  it('reads unsigned 16-bit values from unaligned bytes', () => {
    const img = toViewImage(info({ pixelDataType: 'uint16' }), frame('uint16', [0xff, 0xff, 0, 0x10, 2, 0, 0, 0], 2, 2, 1, 1));
    if (img.kind !== 'grey') throw new Error('grey expected');
    expect(Array.from(img.values)).toEqual([65535, 4096, 2, 0]);
  });

  it('reads 8-bit values', () => {
    const img = toViewImage(info({ pixelDataType: 'uint8' }), frame('uint8', [0, 128, 255, 7]));
    if (img.kind !== 'grey') throw new Error('grey expected');
    expect(Array.from(img.values)).toEqual([0, 128, 255, 7]);
  });

  it('expands 8-bit RGB to RGBA', () => {
    const img = toViewImage(
      info({ samplesPerPixel: 3, pixelDataType: 'uint8', photometric: 'RGB' }),
      frame('uint8', [1, 2, 3, 4, 5, 6], 2, 1, 3),
    );
    if (img.kind !== 'rgb') throw new Error('rgb expected');
    expect(Array.from(img.rgba)).toEqual([1, 2, 3, 255, 4, 5, 6, 255]);
  });

  it('refuses a frame shorter than its header says, with a sentence', () => {
    expect(() => toViewImage(info(), frame('int16', [0, 0, 0, 0]))).toThrow(ApiError);
  });

  it('refuses colour layouts it cannot draw', () => {
    expect(() =>
      toViewImage(info({ samplesPerPixel: 3, photometric: 'YBR_FULL' }), frame('uint8', [1, 2, 3, 4, 5, 6], 2, 1, 3)),
    ).toThrow(/cannot show/);
  });
});

describe('toViewImage of a reduced frame', () => {
  it('keeps its texel size and the full image size it covers', () => {
    const image = toViewImage(info({ width: 4, height: 4 }), frame('int16', [1, 0, 2, 0, 3, 0, 4, 0]));
    expect([image.width, image.height, image.fullWidth, image.fullHeight]).toEqual([2, 2, 4, 4]);
    expect(isReduced(image)).toBe(true);
    expect(isReduced(toViewImage(info(), frame('int16', [1, 0, 2, 0, 3, 0, 4, 0])))).toBe(false);
  });
});
