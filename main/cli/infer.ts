// Runs in the `resight` CLI process. `resight infer`: one model over image files, findings as text
// or JSON, CAMs by any method written as .npy (raw, feature resolution) and .png (overlay at image
// resolution) into --cam-dir.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ResightError, type CamMethod } from '../../preload/api';
import { renderDisplay } from '../imaging/export';
import { loadFrameForSize, loadImage } from '../imaging/load';
import { encodeNpy } from '../imaging/npy';
import { decodeTargetFor } from '../inference/batch';
import { labelledOverlay, renderCamOverlay } from '../inference/cam/overlay';
import type { InferenceEngine } from '../inference/host/client';
import type { LoadedModel } from '../inference/registry';
import { modelInput, OCCLUSION_DEFAULTS, rawCam, rawOcclusion, runBatch, type InferenceSettings } from '../inference/service';

export interface InferOptions {
  cam: CamMethod;
  /** One label; or every label; default: the positive labels, else the top finding. */
  label?: string;
  allLabels: boolean;
  camDir?: string;
}

export async function inferFile(engine: InferenceEngine, model: LoadedModel, file: string, settings: InferenceSettings, opts: InferOptions) {
  const t0 = performance.now();
  const filePath = path.resolve(file);
  const target = decodeTargetFor(model.card);
  // The input is what the app and batch review read (a reduced decode), so all three agree; CAM
  // overlays are drawn on the whole image, so --cam-dir decodes it in full as well.
  const image = opts.camDir ? await loadImage(filePath) : undefined;
  const frame = await loadFrameForSize(filePath, target, image ? { decoded: image } : {});
  const t1 = performance.now();
  const input = modelInput(model, frame, 0);
  const t2 = performance.now();
  const [a] = await runBatch(engine, model, [input], settings);
  const analysis = a!;
  const t3 = performance.now();
  const byLabel = new Map(analysis.findings.map((f) => [f.labelId, f]));
  if (opts.label && !byLabel.has(opts.label)) {
    throw new ResightError('INVALID_ARGUMENT', `The model has no label "${opts.label}"; it knows: ${model.card.labels.map((l) => l.id).join(', ')}.`);
  }
  const positive = analysis.findings.filter((f) => f.positive).map((f) => f.labelId);
  const camLabels = opts.label ? [opts.label] : opts.allLabels ? model.card.labels.map((l) => l.id) : positive.length ? positive : [analysis.findings[0]!.labelId];

  const cams: Array<{ label: string; map: Float32Array; width: number; height: number }> = [];
  for (const label of camLabels) {
    if (opts.cam === 'occlusion') cams.push({ label, ...(await rawOcclusion(engine, model, input, analysis, label, settings, OCCLUSION_DEFAULTS)) });
    else cams.push({ label, map: rawCam(model, analysis, opts.cam, label), width: analysis.features.width, height: analysis.features.height });
  }
  const t4 = performance.now();

  if (opts.camDir && image) {
    await mkdir(opts.camDir, { recursive: true });
    const base = path.basename(file).replace(/\.[^.]+$/, '');
    const display = renderDisplay(image, 0);
    for (const c of cams) {
      await writeFile(path.join(opts.camDir, `${base}.${c.label}.npy`), encodeNpy(c.map, [c.height, c.width]));
      let max = 0;
      for (const v of c.map) max = Math.max(max, v);
      const png = await renderCamOverlay(
        display.pixels,
        display.channels,
        image.info.width,
        image.info.height,
        { values: max > 0 ? c.map.map((v) => v / max) : c.map, width: c.width, height: c.height },
        input.geometry,
        labelledOverlay(model.card, opts.cam, c.label),
      );
      await writeFile(path.join(opts.camDir, `${base}.${c.label}.png`), png);
    }
  }

  return {
    file,
    model: { id: model.card.id, version: model.card.version, sha256: model.sha256, placeholder: model.card.placeholder, notice: model.summary.notice },
    provider: analysis.providerUsed,
    providerRequested: settings.provider,
    logits: model.card.labels.map((l) => byLabel.get(l.id)!.logit),
    probabilities: Object.fromEntries(model.card.labels.map((l) => [l.id, byLabel.get(l.id)!.probability])),
    positive,
    findings: analysis.findings.map(({ labelId, name, probability, threshold, positive: p }) => ({ labelId, name, probability, threshold, positive: p })),
    cam: { method: opts.cam, labels: camLabels },
    timingsMs: { decode: t1 - t0, preprocess: t2 - t1, inference: t3 - t2, cam: t4 - t3 },
  };
}
