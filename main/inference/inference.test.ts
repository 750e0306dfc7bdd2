// Runs in tests. The inference pieces against independent computations: the closed-form Grad-CAM
// against finite differences, the ONNX initializer reader against the model's own logits (run by
// onnxruntime), preprocessing and postprocessing against hand-worked cases, card validation.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadImage } from '../imaging/load';
import { displayIntensities, displaySource } from '../imaging/voi';
import { modelsDir, repoRoot } from '../testing/fixtures';
import { camFromFeatures } from './cam/methods';
import { inputGeometry } from './geometry';
import { parseModelCard } from './card';
import { InProcessEngine } from './host/client';
import { readOnnxInitializer } from './onnx-initializer';
import { findingsFromLogits } from './postprocess';
import { resizeArea } from './preprocess';
import { ModelRegistry } from './registry';
import { modelInput, rawCam, runBatch, runTensors } from './service';

/** Cosine similarity of two maps; two all-zero maps agree. */
function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return na === 0 && nb === 0 ? 1 : dot / Math.sqrt(na * nb);
}

const validCard = {
  schema: 'resight.model-card/1',
  id: 'm',
  version: '1',
  file: 'm.onnx',
  task: 'multilabel',
  labels: [
    { id: 'a', name: 'A', threshold: 0.3 },
    { id: 'b', name: 'B' },
  ],
  input: { name: 'input', height: 224, width: 224, channels: 3, normalize: { mean: [0.5, 0.5, 0.5], std: [0.2, 0.2, 0.2] } },
  outputs: { logits: 'logits', features: 'features' },
  cam: { weight: 'fc.weight' },
};

describe('closed-form Grad-CAM', () => {
  it('equals ReLU of the gradient-weighted features, gradient by finite differences of the head', () => {
    const k = 3;
    const h = 2;
    const w = 2;
    const A = Float32Array.from({ length: k * h * w }, (_, i) => Math.abs(Math.sin(i + 1)) * 2);
    const W = Float32Array.from([0.5, -1, 2, 1, 1, -3]);
    const head = (feat: Float32Array, c: number): number => {
      let y = 0;
      for (let ch = 0; ch < k; ch++) {
        let mean = 0;
        for (let i = 0; i < h * w; i++) mean += feat[ch * h * w + i]!;
        y += W[c * k + ch]! * (mean / (h * w));
      }
      return y;
    };
    for (const c of [0, 1]) {
      const cam = camFromFeatures('gradcam', { data: A, channels: k, height: h, width: w }, W, c);
      for (let i = 0; i < h * w; i++) {
        let expected = 0;
        for (let ch = 0; ch < k; ch++) {
          const eps = 1e-3;
          const plus = Float32Array.from(A);
          plus[ch * h * w + i]! += eps;
          const grad = (head(plus, c) - head(A, c)) / eps;
          expected += grad * A[ch * h * w + i]!;
        }
        expect(cam[i]!).toBeCloseTo(Math.max(0, expected), 3);
      }
    }
  });
});

describe('preprocess and postprocess', () => {
  it('area-averages when downscaling and keeps constants constant', () => {
    const src = Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]);
    expect(Array.from(resizeArea(src, 4, 4, 2, 2))).toEqual([3.5, 5.5, 11.5, 13.5]);
    const flat = resizeArea(new Float32Array(1000 * 700).fill(0.25), 1000, 700, 224, 224);
    expect(flat.every((v) => Math.abs(v - 0.25) < 1e-6)).toBe(true);
    const up = resizeArea(Float32Array.from([0, 1]), 2, 1, 4, 1);
    expect(Array.from(up)).toEqual([0, 0.25, 0.75, 1]);
  });

  it('reads stored values through the display table exactly as it reads the intensities they map to', () => {
    const w = 517;
    const h = 389;
    const stored = new Uint16Array(w * h).map((_, i) => (i * 7919) % 4096);
    const min = 0;
    const table = new Float32Array(4096).map((_, v) => Math.min(1, Math.max(0, (v - 1000) / 2000)));
    const floats = Float32Array.from(stored, (v) => table[v - min]!);
    for (const [dw, dh] of [[224, 224], [100, 300], [600, 400]] as const) {
      const viaTable = resizeArea({ stored, table, min }, w, h, dw, dh);
      const viaFloats = resizeArea(floats, w, h, dw, dh);
      expect(viaTable).toEqual(viaFloats);
    }
  });

  it('reads a PNG\'s stored values under its affine display map as it reads the intensities they map to', async () => {
    for (const name of ['cxr-cardiomegaly-16bit.png', 'cxr-normal-8bit.png']) {
      const image = await loadImage(path.join(repoRoot, 'assets', 'samples', name));
      const source = displaySource(image.frame(0), image.info);
      expect('scale' in source, name).toBe(true);
      const floats = displayIntensities(image.frame(0), image.info);
      const { width, height } = image.info;
      for (const [dw, dh] of [[224, 224], [100, 300], [width * 2, height]] as const) {
        const viaMap = resizeArea(source, width, height, dw, dh);
        const viaFloats = resizeArea(floats, width, height, dw, dh);
        let worst = 0;
        for (let i = 0; i < viaMap.length; i++) worst = Math.max(worst, Math.abs(viaMap[i]! - viaFloats[i]!));
        expect(worst, `${name} → ${dw} × ${dh}`).toBeLessThan(1e-6);
      }
    }
    // A window narrower than the data clips, which no affine map does: that goes through a table.
    const dx = await loadImage(path.join(repoRoot, 'assets', 'samples', 'cxr-opacity-dx.dcm'));
    expect('table' in displaySource(dx.frame(0), dx.info)).toBe(true);
  });

  it('applies sigmoid per label with card thresholds and sorts; softmax for multiclass', () => {
    const card = parseModelCard(validCard, 'm.json');
    const f = findingsFromLogits(card, [0, 2]);
    expect(f.map((x) => x.labelId)).toEqual(['b', 'a']);
    expect(f[1]).toMatchObject({ probability: 0.5, threshold: 0.3, positive: true });
    const mc = parseModelCard({ ...validCard, task: 'multiclass' }, 'm.json');
    const g = findingsFromLogits(mc, [1, 1]);
    expect(g[0]!.probability + g[1]!.probability).toBeCloseTo(1, 10);
  });

  it('names the field and the reason when a card is invalid', () => {
    expect(() => parseModelCard({ ...validCard, labels: [] }, 'bad.json')).toThrow(/field "labels"/);
    expect(() => parseModelCard({ ...validCard, input: { ...validCard.input, channels: 2 } }, 'bad.json')).toThrow(/input\.channels/);
    expect(() => parseModelCard({ ...validCard, labels: [validCard.labels[0], validCard.labels[0]] }, 'bad.json')).toThrow(/unique/);
    expect(() => parseModelCard({ ...validCard, schema: 'other' }, 'bad.json')).toThrow(expect.objectContaining({ code: 'MODEL_CARD_INVALID' }));
  });
});

describe('the bundled model through onnxruntime', () => {
  it('reproduces its own logits from the features and the classifier weights read from the ONNX file', async () => {
    const model = await new ModelRegistry([modelsDir]).active();
    const bytes = new Uint8Array(readFileSync(model.onnxPath));
    const bias = model.card.cam.bias ? readOnnxInitializer(bytes, model.card.cam.bias).data : undefined;
    const { channels, height, width } = model.card.input;
    const x = Float32Array.from({ length: channels * height * width }, (_, i) => Math.cos(i * 0.001));
    const engine = new InProcessEngine();
    const outcome = await engine.run({
      modelPath: model.onnxPath,
      inputName: model.card.input.name,
      outputNames: [model.card.outputs.logits, model.card.outputs.features],
      dims: [1, channels, height, width],
      data: x,
      provider: 'cpu',
      threads: 1,
    });
    await engine.close();
    const logits = outcome.outputs[model.card.outputs.logits]!.data;
    const features = outcome.outputs[model.card.outputs.features]!;
    const [, k, fh, fw] = features.dims as [number, number, number, number];
    for (let c = 0; c < model.card.labels.length; c++) {
      let y = bias ? bias[c]! : 0;
      for (let ch = 0; ch < k; ch++) {
        let mean = 0;
        for (let i = 0; i < fh * fw; i++) mean += features.data[ch * fh * fw + i]!;
        y += model.weight[c * k + ch]! * (mean / (fh * fw));
      }
      expect(y).toBeCloseTo(logits[c]!, 3);
    }
  });

  const referencePath = path.join(modelsDir, 'fixtures', 'gradcam-reference.json');
  it('ships PyTorch reference fixtures with the bundled model', () => {
    if (modelsDir === path.join(repoRoot, 'models')) expect(existsSync(referencePath)).toBe(true);
  });

  it.runIf(existsSync(referencePath))('matches the PyTorch autograd Grad-CAM reference: logits within 1e-4 relative, CAM cosine ≥ 0.999', async () => {
    const ref = JSON.parse(readFileSync(referencePath, 'utf8')) as {
      model: { sha256: string };
      labels: string[];
      fixtures: Array<{ input: string; logits: number[]; cam: Record<string, number[][]> }>;
    };
    const model = await new ModelRegistry([modelsDir]).active();
    expect(model.sha256).toBe(ref.model.sha256);
    const engine = new InProcessEngine();
    for (const c of ref.fixtures) {
      const buf = readFileSync(path.join(modelsDir, 'fixtures', c.input));
      const x = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
      const [a] = await runTensors(engine, model, x, [inputGeometry('stretch', 224, 224, 224, 224)], { provider: 'cpu', threads: 1 });
      ref.labels.forEach((label, i) => {
        const ours = a!.logits[model.card.labels.findIndex((l) => l.id === label)]!;
        expect(Math.abs(ours - c.logits[i]!)).toBeLessThanOrEqual(1e-4 * Math.max(1, Math.abs(c.logits[i]!)));
      });
      for (const [labelId, rows] of Object.entries(c.cam)) {
        const expected = rows.flat();
        const ours = rawCam(model, a!, 'gradcam', labelId);
        expect(cosine(expected, ours), `${c.input} ${labelId}`).toBeGreaterThanOrEqual(0.999);
        expect(Math.max(...ours)).toBeCloseTo(Math.max(...expected), 4);
      }
    }
    await engine.close();
  });
});

describe('CAM methods against their published definitions (PyTorch autograd)', () => {
  const methodsPath = path.join(modelsDir, 'fixtures', 'cam-methods-reference.json');
  it('ships the method reference fixtures with the bundled model', () => {
    if (modelsDir === path.join(repoRoot, 'models')) expect(existsSync(methodsPath)).toBe(true);
  });

  it.runIf(existsSync(methodsPath))('each method matches its reference with cosine ≥ 0.999', async () => {
    const ref = JSON.parse(readFileSync(methodsPath, 'utf8')) as {
      model: { sha256: string };
      cases: Array<{ input: string; maps: Record<string, Record<string, number[][]>> }>;
    };
    const model = await new ModelRegistry([modelsDir]).active();
    expect(model.sha256).toBe(ref.model.sha256);
    const engine = new InProcessEngine();
    for (const c of ref.cases) {
      const buf = readFileSync(path.join(modelsDir, 'fixtures', c.input));
      const x = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
      const [a] = await runTensors(engine, model, x, [inputGeometry('stretch', 224, 224, 224, 224)], { provider: 'cpu', threads: 1 });
      for (const [labelId, byMethod] of Object.entries(c.maps)) {
        for (const [method, rows] of Object.entries(byMethod)) {
          const ours = rawCam(model, a!, method as 'gradcampp', labelId);
          expect(cosine(rows.flat(), ours), `${c.input} ${labelId} ${method}`).toBeGreaterThanOrEqual(0.999);
        }
      }
    }
    await engine.close();
  });
});

describe('execution providers and caching', () => {
  it('falls back to CPU with a reason when the requested GPU provider cannot run, never crashing', async () => {
    const model = await new ModelRegistry([modelsDir]).active();
    const { channels, height, width } = model.card.input;
    const engine = new InProcessEngine();
    const x = new Float32Array(channels * height * width);
    const outcome = await engine.run({
      modelPath: model.onnxPath,
      inputName: model.card.input.name,
      outputNames: [model.card.outputs.logits],
      dims: [1, channels, height, width],
      data: x,
      provider: 'cuda',
      threads: 1,
    });
    await engine.close();
    // This build bundles no CUDA libraries (they are an opt-in download), so CUDA always falls back here.
    expect(outcome.providerUsed).toBe('cpu');
    expect(outcome.fallbackReason).toMatch(/cuda/);
  });

  it('gives the same logits whether the host gets the grey plane or the whole normalised tensor', async () => {
    const { preprocess } = await import('./preprocess');
    const model = await new ModelRegistry([modelsDir]).active();
    const image = await loadImage(path.join(repoRoot, 'assets', 'samples', 'cxr-opacity-dx.dcm'));
    const { input, geometry } = preprocess(model.card, displaySource(image.frame(0), image.info), image.info.width, image.info.height);
    const engine = new InProcessEngine();
    const [fromGrey] = await runBatch(engine, model, [modelInput(model, image, 0)], { provider: 'cpu', threads: 1 });
    const [fromTensor] = await runTensors(engine, model, input, [geometry], { provider: 'cpu', threads: 1 });
    await engine.close();
    expect(Array.from(fromGrey!.logits)).toEqual(Array.from(fromTensor!.logits));
  });

  it('letterboxes when the card asks: padding at the normalised black level, image centred', async () => {
    const { preprocess } = await import('./preprocess');
    const card = parseModelCard({ ...validCard, input: { ...validCard.input, channels: 1, normalize: { mean: [0.5], std: [0.25] }, resize: 'letterbox' } }, 'm.json');
    const { input, geometry } = preprocess(card, new Float32Array(400 * 200).fill(1), 400, 200);
    expect(geometry.offsetY).toBeCloseTo(56, 6);
    expect(input[10 * 224 + 112]).toBeCloseTo((0 - 0.5) / 0.25, 6);
    expect(input[112 * 224 + 112]).toBeCloseTo((1 - 0.5) / 0.25, 6);
  });

  it('serves a repeated CAM request from the cache', async () => {
    const { InferenceCache } = await import('./service');
    const cache = new InferenceCache();
    let computed = 0;
    const make = () => {
      computed++;
      return { labelId: 'a', method: 'layercam' as const, width: 1, height: 1, values: [1], rawMax: 1, extent: { x0: 0, y0: 0, x1: 1, y1: 1 } };
    };
    const key = InferenceCache.key('a'.repeat(64), 0, 'b'.repeat(64));
    await cache.cam(key, 'layercam', 'a', make);
    await cache.cam(key, 'layercam', 'a', make);
    await cache.cam(key, 'layercam', 'b', make);
    await cache.cam(InferenceCache.key('a'.repeat(64), 1, 'b'.repeat(64)), 'layercam', 'a', make);
    expect(computed).toBe(3);
    expect(cache.hits).toBe(1);
  });
});
