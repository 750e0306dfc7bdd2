// Runs in tests. Batches over real files through the real host process: order kept, bad files
// reported in place without stopping the run, results equal to one-by-one inference.
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadFrameForSize } from '../imaging/load';
import { hostEntry, modelsDir, samplesDir } from '../testing/fixtures';
import { analyseMany, decodeTargetFor } from './batch';
import { HostClient } from './host/client';
import { forkSpawner } from './host/fork';
import { ModelRegistry } from './registry';
import { modelInput, runBatch } from './service';

const client = new HostClient(forkSpawner(hostEntry));
afterAll(() => client.close());

describe('batch inference', () => {
  it('keeps input order, reports bad files in place, and matches single-image results', async () => {
    const model = await new ModelRegistry([modelsDir]).active();
    const samples = readdirSync(samplesDir).filter((f) => /\.(dcm|png)$/.test(f) && !f.includes('.mask')).slice(0, 4).map((f) => path.join(samplesDir, f));
    const bad = path.join(mkdtempSync(path.join(os.tmpdir(), 'resight-batch-')), 'broken.dcm');
    writeFileSync(bad, 'not dicom');
    const files = [samples[0]!, bad, ...samples.slice(1)];
    const settings = { provider: 'cpu' as const, threads: 1 };
    const items = [];
    for await (const batch of analyseMany(client, model, files, settings, { batchSize: 2 })) items.push(...batch);
    expect(items.map((i) => i.file)).toEqual(files);
    expect(items[1]!.error?.code).toBe('UNSUPPORTED_FORMAT');
    // The batch decodes for the model's input size; one-by-one through the same decode must agree.
    const target = decodeTargetFor(model.card);
    const [single] = await runBatch(client, model, [modelInput(model, await loadFrameForSize(samples[1]!, target), 0)], settings);
    const batched = items[2]!.analysis!;
    batched.logits.forEach((v, i) => expect(v).toBeCloseTo(single!.logits[i]!, 4));
  });
});
