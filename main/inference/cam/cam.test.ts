// Runs in tests. CAM methods on hand-made feature maps, alignment of maps back onto letterboxed
// and stretched images, and occlusion sensitivity's progress and cancellation.
import { describe, expect, it } from 'vitest';
import { inputExtentOnImage, inputGeometry, mapOntoImage } from '../geometry';
import { camFromFeatures, eigenCam, GRADIENT_CAM_METHODS } from './methods';
import { occlusionSensitivity } from './occlusion';

const K = 4;
const H = 3;
const W = 3;
// Channel 0 fires at the centre, channel 1 at the top-left corner, 2 and 3 weakly everywhere.
const A = new Float32Array(K * H * W);
A[0 * 9 + 4] = 5;
A[1 * 9 + 0] = 3;
for (let i = 0; i < 9; i++) {
  A[2 * 9 + i] = 0.5;
  A[3 * 9 + i] = 0.1 * i;
}
const features = { data: A, channels: K, height: H, width: W };
const weight = Float32Array.from([2, -1, 0.5, 0, -1, 3, 0, 0.2]);
const argmax = (m: ArrayLike<number>): number => Array.from(m).reduce((best, v, i, arr) => (v > arr[best]! ? i : best), 0);

describe('gradient CAM methods', () => {
  it('Grad-CAM, HiResCAM and XGrad-CAM coincide for a global-average-pool head', () => {
    const g = camFromFeatures('gradcam', features, weight, 0);
    for (const m of ['hirescam', 'xgradcam'] as const) expect(Array.from(camFromFeatures(m, features, weight, 0))).toEqual(Array.from(g));
    expect(argmax(g)).toBe(4);
    expect(argmax(camFromFeatures('gradcam', features, weight, 1))).toBe(0);
  });

  it('LayerCAM keeps only positively weighted channels', () => {
    const map = camFromFeatures('layercam', features, weight, 0);
    // Channel 1 weighs against class 0: Grad-CAM's corner goes negative (then 0); LayerCAM drops it.
    expect(camFromFeatures('gradcam', features, weight, 0)[0]).toBe(0);
    expect(map[0]).toBeCloseTo((0.5 / 9) * 0.5, 6);
    expect(map[4]).toBeCloseTo((2 / 9) * 5 + (0.5 / 9) * 0.5, 6);
  });

  it('Grad-CAM++ follows its closed form and points where the positive evidence is', () => {
    const map = camFromFeatures('gradcampp', features, weight, 0);
    const g0 = 2 / 9;
    const a0 = (g0 * g0) / (2 * g0 * g0 + 5 * g0 ** 3);
    const g2 = 0.5 / 9;
    const a2 = (g2 * g2) / (2 * g2 * g2 + 4.5 * g2 ** 3);
    expect(map[4]).toBeCloseTo(9 * a0 * g0 * 5 + 9 * a2 * g2 * 0.5, 5);
    expect(argmax(map)).toBe(4);
  });

  it('Eigen-CAM is the first principal component, signed to agree with the activations', () => {
    const map = eigenCam(features);
    expect(argmax(map)).toBe(4);
    // It does not depend on the classifier at all.
    expect(Array.from(camFromFeatures('eigencam', features, weight, 1))).toEqual(Array.from(map));
    expect(GRADIENT_CAM_METHODS).toContain('eigencam');
  });
});

describe('maps laid back onto the image', () => {
  it('undoes a letterbox: a hot input cell lands on the image point it came from', () => {
    // 400 × 200 image letterboxed into 224 × 224: scale 0.56, 56 px bars above and below.
    const g = inputGeometry('letterbox', 400, 200, 224, 224);
    expect(g.offsetY).toBeCloseTo(56, 6);
    const e = inputExtentOnImage(g);
    [e.x0, e.y0, e.x1, e.y1].forEach((v, i) => expect(v).toBeCloseTo([0, -100, 400, 300][i]!, 6));
    const map = new Float32Array(7 * 7);
    map[2 * 7 + 5] = 1; // centre at input (176, 80) → image (314.3, 42.9)
    const onImage = mapOntoImage(map, 7, 7, g, 400, 200);
    const peak = argmax(onImage);
    expect(Math.abs((peak % 400) + 0.5 - 176 / 0.56)).toBeLessThan(1.5);
    expect(Math.abs(Math.floor(peak / 400) + 0.5 - (80 - 56) / 0.56)).toBeLessThan(1.5);
  });

  it('for a stretched input the grid covers exactly the image', () => {
    const g = inputGeometry('stretch', 1000, 500, 224, 224);
    const e = inputExtentOnImage(g);
    [e.x0, e.y0, e.x1, e.y1].forEach((v, i) => expect(v).toBeCloseTo([0, 0, 1000, 500][i]!, 6));
    const map = new Float32Array(49);
    map[3 * 7 + 3] = 1;
    const onImage = mapOntoImage(map, 7, 7, g, 1000, 500);
    const peak = argmax(onImage);
    expect(Math.abs((peak % 1000) - 500)).toBeLessThanOrEqual(1);
    expect(Math.abs(Math.floor(peak / 1000) - 250)).toBeLessThanOrEqual(1);
  });
});

describe('occlusion sensitivity', () => {
  const size = 32;
  // A "model" whose logit 0 is the mean of the input's top-right quadrant and logit 1 a constant.
  const model = async (inputs: Float32Array[]): Promise<Float32Array[]> =>
    inputs.map((x) => {
      let s = 0;
      for (let y = 0; y < size / 2; y++) for (let xx = size / 2; xx < size; xx++) s += x[y * size + xx]!;
      return Float32Array.from([s / (size * size / 4), 1]);
    });
  const input = new Float32Array(size * size).fill(1);

  it('finds the region the model depends on, reporting progress after each batch', async () => {
    const progress: number[] = [];
    const [baseline] = await model([input]);
    const r = await occlusionSensitivity(input, baseline!, model, {
      channels: 1,
      height: size,
      width: size,
      patch: 8,
      stride: 4,
      batchSize: 10,
      onProgress: (done) => progress.push(done),
    });
    expect(r.gridWidth).toBe(8);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    expect(progress.at(-1)).toBe(49);
    const m = r.maps[0]!;
    expect(m[0 * 8 + 7]!).toBeGreaterThan(0);
    expect(m[7 * 8 + 0]).toBe(0);
    expect(r.maps[1]!.every((v) => v === 0)).toBe(true);
  });

  it('stops between batches when cancelled', async () => {
    const controller = new AbortController();
    const [baseline] = await model([input]);
    let batches = 0;
    const counting = async (x: Float32Array[]): Promise<Float32Array[]> => {
      batches++;
      if (batches === 2) controller.abort();
      return model(x);
    };
    await expect(
      occlusionSensitivity(input, baseline!, counting, { channels: 1, height: size, width: size, patch: 8, stride: 4, batchSize: 5, signal: controller.signal }),
    ).rejects.toMatchObject({ code: 'INFERENCE_CANCELLED' });
    expect(batches).toBe(2);
  });
});
