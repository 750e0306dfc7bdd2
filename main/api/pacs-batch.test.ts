// Runs in tests. The PACS and batch-review calls through the real backend: a real Orthanc with basic
// auth, a real SQLite file, the model in the host process. Credentials are sealed by a SecretBox
// (the Electron keychain cannot run here, so a reversible stand-in plays it) and refused without
// one; a retrieved study opens with the PACS's pixels; a result goes back as an SR Orthanc lists;
// a batch job pauses, survives a restart as paused, and resumes without redoing work.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BatchJob } from '../../preload/api';
import { loadImage } from '../imaging/load';
import { forkSpawner } from '../inference/host/fork';
import type { SecretBox } from '../pacs/credentials';
import { hostEntry, modelsDir, samplesDir } from '../testing/fixtures';
import { fakeKeychain } from '../testing/keychain';
import { orthancAvailable, orthancGet, type OrthancServer } from '../testing/orthanc';
import { SAMPLE_DICOM, startSamplePacs } from '../testing/sample-pacs';
import { createBackend, type Backend } from './backend';
import { dispatch } from './dispatch';

const ctx = { frontDoor: 'electron' as const, reader: 'dr-pacs' };

const testBox = fakeKeychain();

function backendAt(dataDir: string, secrets?: SecretBox): Promise<Backend> {
  return createBackend({ dataDir, modelsDir, samplesDir, frontDoor: 'electron', hostSpawner: forkSpawner(hostEntry), log: () => {}, inference: { provider: 'cpu', threads: 1 }, ...(secrets ? { secrets } : {}) });
}

/** Resolves with the job once it reaches `state` (or stops in another final state, for the assertion to report). */
function until(b: Backend, jobId: string, state: BatchJob['state'], seen: BatchJob[] = []): Promise<BatchJob> {
  return new Promise((resolve) => {
    const off = b.events.subscribe((name, payload) => {
      if (name !== 'batch.progress') return;
      const job = payload as BatchJob;
      if (job.jobId !== jobId) return;
      seen.push(job);
      if (job.state === state || job.state === 'failed' || job.state === 'finished' || job.state === 'paused') {
        off();
        resolve(job);
      }
    });
  });
}

describe.skipIf(!orthancAvailable())('PACS calls against Orthanc', () => {
  let pacs: OrthancServer;
  beforeAll(async () => {
    pacs = await startSamplePacs();
  }, 60_000);
  afterAll(async () => pacs?.stop());

  it('refuses credentials without a keychain, and never returns a stored secret', async () => {
    const b = await backendAt(mkdtempSync(path.join(os.tmpdir(), 'resight-pacs-nobox-')));
    const env = await dispatch(b.handlers, 'pacs.saveServer', { name: 'Orthanc', url: pacs.url, auth: 'basic', user: pacs.user, secret: pacs.password }, ctx);
    expect(env).toMatchObject({ ok: false, error: { code: 'CREDENTIALS_UNAVAILABLE' } });
    expect(await b.handlers['pacs.servers']({}, ctx)).toEqual([]);
    await b.close();
  });

  it('searches, retrieves a study with the PACS pixels, and sends a result back as an SR', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'resight-pacs-'));
    const b = await backendAt(dataDir, testBox);
    try {
      const saved = await b.handlers['pacs.saveServer']({ name: 'Orthanc', url: pacs.url, auth: 'basic', user: pacs.user, secret: pacs.password }, ctx);
      expect(saved).toMatchObject({ name: 'Orthanc', auth: 'basic', user: pacs.user, hasSecret: true });
      expect(JSON.stringify(await b.handlers['pacs.servers']({}, ctx))).not.toContain(pacs.password);
      expect(JSON.stringify(b.store.getSetting('pacs.servers'))).not.toContain(pacs.password);

      const { studies } = await b.handlers['pacs.query']({ serverId: saved.id, limit: 50, offset: 0 }, ctx);
      expect(studies.length).toBe(SAMPLE_DICOM.length);
      const cr = await b.handlers['pacs.query']({ serverId: saved.id, modality: 'CR', limit: 50, offset: 0 }, ctx);
      expect(cr.studies.every((s) => s.modalities.includes('CR'))).toBe(true);
      expect(cr.studies.length).toBeGreaterThan(0);

      const study = studies[0]!;
      const progress: number[] = [];
      const off = b.events.subscribe((name, p) => name === 'pacs.progress' && progress.push((p as { done: number }).done));
      const { images, failed } = await b.handlers['pacs.retrieve']({ serverId: saved.id, studyInstanceUid: study.studyInstanceUid, requestId: 'r1' }, ctx);
      off();
      expect(failed).toBe(0);
      expect(images.length).toBe(study.instances);
      expect(progress.at(-1)).toBe(images.length);
      const local = await Promise.all(SAMPLE_DICOM.map((n) => loadImage(path.join(samplesDir, n))));
      const same = local.find((l) => l.info.sopInstanceUid === images[0]!.sopInstanceUid)!;
      const frame = await b.handlers['studies.getFrame']({ imageId: images[0]!.imageId, frame: 0 }, ctx);
      expect(Buffer.from(frame.data).equals(Buffer.from(same.frame(0).buffer, same.frame(0).byteOffset, same.frame(0).byteLength))).toBe(true);

      const result = await b.handlers['inference.run']({ imageId: images[0]!.imageId, frame: 0 }, ctx);
      const before = ((await orthancGet(pacs, '/instances')) as string[]).length;
      const sent = await b.handlers['pacs.sendResult']({ serverId: saved.id, resultId: result.resultId, overlays: true }, ctx);
      const positives = result.findings.filter((f) => f.positive).length;
      expect(sent.failed).toEqual([]);
      expect(sent.stored).toEqual(['SR', ...result.findings.filter((f) => f.positive).map((f) => `overlay ${f.name}`)]);
      const after = (await orthancGet(pacs, '/instances')) as string[];
      expect(after.length).toBe(before + 1 + positives);
      const series = (await orthancGet(pacs, `/studies/${(await orthancGet(pacs, `/instances/${after.at(-1)}/study`) as { ID: string }).ID}/series?expand`)) as Array<{
        MainDicomTags: { Modality: string };
      }>;
      expect(series.map((s) => s.MainDicomTags.Modality)).toContain('SR');
    } finally {
      await b.close();
    }
  });
});

describe('batch review jobs', () => {
  let folder: string;
  beforeAll(() => {
    folder = mkdtempSync(path.join(os.tmpdir(), 'resight-batch-api-'));
    for (let c = 0; c < 8; c++) {
      mkdirSync(path.join(folder, `part-${c}`));
      for (const name of [...SAMPLE_DICOM, 'cxr-effusion-8bit.png']) copyFileSync(path.join(samplesDir, name), path.join(folder, `part-${c}`, name));
    }
  });

  it('runs a folder in the background, pauses, comes back paused after a restart, and resumes to the end', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'resight-batch-jobs-'));
    let b = await backendAt(dataDir);
    const started = await b.handlers['batch.start']({ source: { kind: 'folder', path: folder }, cam: 'gradcam' }, ctx);
    expect(started.state).toBe('running');
    const seen: BatchJob[] = [];
    const paused = until(b, started.jobId, 'paused', seen);
    // Pause once the first batch is committed.
    await new Promise<void>((resolve) => {
      const off = b.events.subscribe((name, p) => {
        if (name === 'batch.progress' && (p as BatchJob).done > 0) {
          off();
          resolve();
        }
      });
    });
    expect((await b.handlers['batch.pause']({ jobId: started.jobId }, ctx)).state).toBe('pausing');
    const atPause = await paused;
    expect(atPause.state).toBe('paused');
    expect(atPause.done).toBeGreaterThan(0);
    expect(atPause.done).toBeLessThan(32);
    await b.close();

    b = await backendAt(dataDir);
    const [listed] = await b.handlers['batch.list']({}, ctx);
    expect(listed).toMatchObject({ jobId: started.jobId, state: 'paused', done: atPause.done, total: 32 });
    const finished = until(b, started.jobId, 'finished');
    await b.handlers['batch.resume']({ jobId: started.jobId }, ctx);
    const done = await finished;
    expect(done).toMatchObject({ state: 'finished', done: 32, total: 32, resumed: atPause.done, failed: 0 });
    expect(b.store.db.prepare('SELECT COUNT(*) AS n FROM model_results').get()).toEqual({ n: 32 });
    const csv = readFileSync(path.join(done.outDir, 'results.csv'), 'utf8').trim().split('\n');
    expect(csv.length - 1).toBe(32 * 4);
    // Only the PNGs are in the de-identified bundle: the sample DICOMs say they carry burned-in text.
    expect(done.bundle).toBe(path.join(done.outDir, 'case-review.zip'));
    await expect(b.handlers['batch.resume']({ jobId: started.jobId }, ctx)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await b.close();
  }, 180_000);
});
