// Runs in tests. `resight export` as a user runs it (the built CLI): one summary line, a zip, and
// `error CODE: sentence` with exit 1 for a missing or empty database or a bad flag.
import { unzipSync } from 'fflate';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadImage } from '../imaging/load';
import { openDatabase } from '../store/database';
import { Store } from '../store/repositories';
import { runCli } from '../testing/cli';
import { repoRoot, samplesDir } from '../testing/fixtures';

let dir: string;
let db: string;
/** The bundled model's card: a result carrying its sha256 gets its notice in the manifest. */
const card = JSON.parse(readFileSync(path.join(repoRoot, 'models', 'resnet18-cxr-phantom.json'), 'utf8')) as { id: string; version: string; sha256: string };

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'resight-cli-export-'));
  db = path.join(dir, 'resight.sqlite');
  const store = new Store(await openDatabase(db));
  const file = path.join(samplesDir, 'cxr-nodule-16bit.png');
  const image = await loadImage(file);
  store.recordImage(image.info, file, 'os-user');
  store.saveResult(
    {
      imageId: image.info.imageId,
      frame: 0,
      modelId: card.id,
      modelVersion: card.version,
      modelSha256: card.sha256,
      providerRequested: 'cpu',
      providerUsed: 'cpu',
      findings: [{ labelId: 'effusion', name: 'Pleural effusion', probability: 0.9, logit: 2.2, threshold: 0.5, positive: true }],
      cams: {},
      inferenceMs: 5,
    },
    'os-user',
  );
  store.close();
});

describe('resight export', () => {
  it('writes a bundle and prints one summary line', async () => {
    const out = path.join(dir, 'review.zip');
    const r = await runCli('export', '--db', db, '--out', out);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n')).toEqual([`exported 1 case → ${out}`]);
    const written = readFileSync(out);
    const files = unzipSync(new Uint8Array(written));
    expect(Object.keys(files).sort()).toEqual(['cases.csv', 'images/case-0001.png', 'manifest.json', 'report.html']);
    const manifest = JSON.parse(Buffer.from(files['manifest.json']!).toString('utf8')) as { notice: string; models: Array<{ id: string; sha256: string }> };
    expect(manifest.models).toEqual([{ id: card.id, version: card.version, sha256: card.sha256, provider: 'cpu' }]);
    expect(manifest.notice).toContain(`${card.id} ${card.version}: `);
    // A 16-bit source stays 16-bit.
    expect(await sharp(files['images/case-0001.png']!).metadata()).toMatchObject({ depth: 'ushort', channels: 1 });
    // Exporting to the same file again is refused, and the first export stays as written.
    const again = await runCli('export', '--db', db, '--out', out);
    expect([again.code, again.stderr.split(':')[0]]).toEqual([1, 'error INVALID_ARGUMENT']);
    expect(readFileSync(out).equals(written)).toBe(true);
  });

  it('refuses a missing database without creating one, an empty one, and bad flags', async () => {
    const missing = path.join(dir, 'missing.sqlite');
    const r = await runCli('export', '--db', missing, '--out', path.join(dir, 'a.zip'));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error FILE_NOT_FOUND: /);
    expect(existsSync(missing)).toBe(false);

    const empty = path.join(dir, 'empty.sqlite');
    (await openDatabase(empty)).close();
    const none = await runCli('export', '--db', empty, '--out', path.join(dir, 'b.zip'));
    expect([none.code, none.stderr.split(':')[0]]).toEqual([1, 'error NOTHING_TO_EXPORT']);

    for (const args of [['--format', 'dicomdir', '--out', path.join(dir, 'c.zip')], ['--out', path.join(dir, 'c.tar')], []]) {
      const bad = await runCli('export', '--db', db, ...args);
      expect([bad.code, bad.stderr.split(':')[0]], args.join(' ')).toEqual([1, 'error INVALID_ARGUMENT']);
    }
    expect(existsSync(path.join(dir, 'c.zip'))).toBe(false);
  });
});
