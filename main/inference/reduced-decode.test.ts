// Runs in tests. The model fed from a reduced-resolution JPEG 2000 decode agrees with the model fed
// from the full decode plus resize within 0.01, on every sample transcoded to JPEG 2000 by GDCM and
// on a large phantom radiograph, and its CAM geometry still refers to the full image's pixels.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadFrameForSize, loadImage, reducedFrameCache } from '../imaging/load';
import { fixturesScript } from '../imaging/testdata/fixtures';
import { modelsDir, samplesDir } from '../testing/fixtures';
import { decodeTargetFor } from './batch';
import { inputExtentOnImage } from './geometry';
import { InProcessEngine } from './host/client';
import { ModelRegistry } from './registry';
import { modelInput, runBatch, type ModelInput } from './service';

const dir = mkdtempSync(path.join(os.tmpdir(), 'resight-reduced-'));
const engine = new InProcessEngine();
afterAll(() => engine.close());

/** A PNG sample as an uncompressed DICOM with the same pixels and the same full-range window. */
async function pngAsDicom(name: string): Promise<string> {
  const png = await loadImage(path.join(samplesDir, `${name}.png`));
  const { width, height, bitsStored, windows } = png.info;
  const pixels = png.frame(0);
  const raw = path.join(dir, `${name}.raw`);
  writeFileSync(raw, new Uint8Array(pixels.buffer, pixels.byteOffset, pixels.byteLength));
  const bits = pixels.BYTES_PER_ELEMENT * 8;
  const txt = path.join(dir, `${name}.txt`);
  writeFileSync(
    txt,
    [
      '(0008,0016) UI =SecondaryCaptureImageStorage',
      `(0008,0018) UI [1.2.826.0.1.3680043.8.498.${width}.${height}.${bitsStored}]`,
      '(0028,0002) US 1',
      '(0028,0004) CS [MONOCHROME2]',
      `(0028,0010) US ${height}`,
      `(0028,0011) US ${width}`,
      `(0028,0100) US ${bits}`,
      `(0028,0101) US ${bits}`,
      `(0028,0102) US ${bits - 1}`,
      '(0028,0103) US 0',
      `(0028,1050) DS [${windows[0]!.center}]`,
      `(0028,1051) DS [${windows[0]!.width}]`,
      `(7fe0,0010) ${bits === 8 ? 'OB' : 'OW'} =${raw}`,
    ].join('\n') + '\n',
  );
  const out = path.join(dir, `${name}.dcm`);
  execFileSync('dump2dcm', ['+te', txt, out]);
  return out;
}

const j2kFiles: string[] = [];
beforeAll(async () => {
  for (const f of readdirSync(samplesDir).sort()) {
    const name = f.replace(/\.(dcm|png)$/, '');
    if (name === f || name.includes('.mask')) continue;
    const source = f.endsWith('.dcm') ? path.join(dir, f) : await pngAsDicom(name);
    if (f.endsWith('.dcm')) copyFileSync(path.join(samplesDir, f), source);
    const j2k = path.join(dir, `${name}.j2k.dcm`);
    execFileSync('gdcmconv', ['--j2k', source, j2k]);
    j2kFiles.push(j2k);
  }
  // The samples are 512–1,024 px: too small to skip a level at twice a 224 px input. A 1,536 px
  // phantom is decoded at level 1.
  const big = path.join(dir, 'big.dcm');
  execFileSync('/usr/bin/python3', [fixturesScript, 'big', big, '1536', '1536']);
  execFileSync('gdcmconv', ['--j2k', big, path.join(dir, 'big.j2k.dcm')]);
  j2kFiles.push(path.join(dir, 'big.j2k.dcm'));
}, 60_000);

describe('model input from a reduced JPEG 2000 decode', () => {
  it('gives probabilities within 0.01 of full decode + resize on every sample, with the full image geometry', async () => {
    expect(j2kFiles.length).toBeGreaterThanOrEqual(3);
    const model = await new ModelRegistry([modelsDir]).active();
    const target = decodeTargetFor(model.card);
    const inputs: ModelInput[] = [];
    let skipped = 0;
    for (const file of j2kFiles) {
      const full = await loadImage(file);
      expect(full.dicom?.transferSyntax).toBe('1.2.840.10008.1.2.4.90');
      const reduced = await loadFrameForSize(file, target, { cache: reducedFrameCache(0) });
      // What was decoded covers the target (or is the whole image when that is smaller).
      expect(reduced.width).toBeGreaterThanOrEqual(Math.min(target.width, full.info.width));
      expect(reduced.height).toBeGreaterThanOrEqual(Math.min(target.height, full.info.height));
      if (reduced.width < full.info.width) skipped++;
      const a = modelInput(model, full, 0);
      const b = modelInput(model, reduced, 0);
      expect(b.geometry).toEqual(a.geometry);
      // The CAM's extent is in full-image pixels (a stretched input spans the whole image).
      expect(b.geometry).toMatchObject({ imageWidth: full.info.width, imageHeight: full.info.height });
      const extent = inputExtentOnImage(b.geometry);
      if (model.card.input.resize === 'stretch') {
        [extent.x0, extent.y0, extent.x1 - full.info.width, extent.y1 - full.info.height].forEach((v) => expect(v).toBeCloseTo(0, 6));
      }
      inputs.push(a, b);
    }
    expect(skipped).toBeGreaterThanOrEqual(1);
    const analyses = await runBatch(engine, model, inputs, { provider: 'cpu', threads: 1 });
    let worst = 0;
    for (let i = 0; i < analyses.length; i += 2) {
      const full = analyses[i]!.findings;
      const reduced = analyses[i + 1]!.findings;
      full.forEach((f, k) => (worst = Math.max(worst, Math.abs(f.probability - reduced[k]!.probability))));
    }
    expect(worst).toBeLessThanOrEqual(0.01);
  });
});
