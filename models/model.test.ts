// Runs in Node (Vitest): the committed default model loads in onnxruntime-node, has the inputs and
// outputs its card declares, and reproduces the PyTorch reference logits of models/fixtures.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';

const here = path.dirname(fileURLToPath(import.meta.url));
const card = JSON.parse(readFileSync(path.join(here, 'resnet18-cxr-phantom.json'), 'utf8'));
const modelPath = path.join(here, card.file);
const LABELS = ['opacity', 'nodule', 'effusion', 'cardiomegaly'];

function output(results: ort.InferenceSession.OnnxValueMapType, name: string): ort.Tensor {
  const t = results[name];
  if (!t) throw new Error(`the model returned no output named ${name}`);
  return t;
}

function readFloat32(file: string): Float32Array {
  const bytes = readFileSync(file);
  return new Float32Array(new Uint8Array(bytes).buffer); // copy: a Buffer may be unaligned
}

describe('default model card', () => {
  it('has the required fields of resight.model-card/1', () => {
    expect(card.schema).toBe('resight.model-card/1');
    expect(card.id).toBe('resnet18-cxr-phantom');
    expect(card.version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(card.file).toBe('resnet18-cxr-phantom.onnx');
    expect(card.task).toBe('multilabel');
    expect(card.labels.map((l: { id: string }) => l.id)).toEqual(LABELS);
    for (const l of card.labels) {
      expect(typeof l.name).toBe('string');
      expect(l.threshold).toBeGreaterThan(0);
      expect(l.threshold).toBeLessThan(1);
    }
    expect(card.input).toMatchObject({ name: 'input', height: 224, width: 224, channels: 3, resize: 'stretch' });
    expect(card.input.normalize.mean).toHaveLength(3);
    expect(card.input.normalize.std).toHaveLength(3);
    expect(card.outputs).toEqual({ logits: 'logits', features: 'features' });
    expect(card.cam).toEqual({ weight: 'fc.weight', bias: 'fc.bias' });
    expect(card.intended_use).toContain('not for clinical use');
    for (const id of LABELS) expect(card.metrics.labels[id].auroc).toBeGreaterThan(0.5);
  });

  it('names the sha256 of the committed ONNX file', () => {
    const sha = createHash('sha256').update(readFileSync(modelPath)).digest('hex');
    expect(card.sha256).toBe(sha);
  });
});

describe('default model in onnxruntime-node', () => {
  it('declares the inputs and outputs of its card and has a dynamic batch', async () => {
    const session = await ort.InferenceSession.create(modelPath, { intraOpNumThreads: 2 });
    expect(session.inputNames).toEqual([card.input.name]);
    expect(session.outputNames).toEqual([card.outputs.logits, card.outputs.features]);
    for (const n of [1, 2]) {
      const input = new ort.Tensor('float32', new Float32Array(n * 3 * 224 * 224).fill(0.25), [n, 3, 224, 224]);
      const out = await session.run({ input });
      expect(output(out, 'logits').dims).toEqual([n, 4]);
      expect(output(out, 'features').dims).toEqual([n, 512, 7, 7]);
      const features = output(out, 'features').data as Float32Array;
      expect(features.every((v) => Number.isFinite(v) && v >= 0)).toBe(true); // post-ReLU
    }
  }, 60_000);

  it('reproduces the PyTorch reference logits', async () => {
    const ref = JSON.parse(readFileSync(path.join(here, 'fixtures', 'gradcam-reference.json'), 'utf8'));
    expect(ref.model.sha256).toBe(card.sha256);
    const session = await ort.InferenceSession.create(modelPath, { intraOpNumThreads: 2 });
    for (const f of ref.fixtures) {
      const input = new ort.Tensor('float32', readFloat32(path.join(here, 'fixtures', f.input)), f.input_dims);
      const logits = Array.from(output(await session.run({ input }), 'logits').data as Float32Array);
      logits.forEach((v, i) => expect(Math.abs(v - f.logits[i])).toBeLessThan(1e-4 * Math.max(1, Math.abs(f.logits[i]))));
    }
  }, 60_000);
});
