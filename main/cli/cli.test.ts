// Runs in tests. The built `resight` command, as a user runs it.
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { runCli } from '../testing/cli';
import { modelsDir, repoRoot } from '../testing/fixtures';

const run = runCli;
const card = path.join(modelsDir, readdirSync(modelsDir).filter((f) => f.endsWith('.json')).sort()[0]!);

describe('resight CLI', () => {
  it('prints its version and lists its commands', async () => {
    const pkg = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string };
    expect((await run('--version')).stdout.trim()).toBe(pkg.version);
    const help = (await run('--help')).stdout;
    for (const command of ['web', 'infer', 'models']) expect(help).toContain(command);
    expect(help).toMatch(/not a diagnosis/);
  });

  it('runs the model on an image and prints JSON findings with the model identity', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'resight-cli-'));
    const png = path.join(dir, 'film.png');
    const px = Uint8Array.from({ length: 256 * 256 }, (_, i) => (i % 256) ^ (i >> 8));
    await sharp(px, { raw: { width: 256, height: 256, channels: 1 } }).png().toFile(png);
    const r = await run('infer', png, '--model', card, '--provider', 'cpu', '--threads', '1', '--json');
    expect(r.code).toBe(0);
    const [out] = (JSON.parse(r.stdout) as { results: Array<{ model: { id: string; sha256: string }; provider: string; logits: number[]; probabilities: Record<string, number>; findings: Array<{ probability: number }> }> }).results;
    expect(out!.model.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(out!.provider).toBe('cpu');
    expect(Object.keys(out!.probabilities)).toHaveLength(out!.logits.length);
    expect(out!.findings.length).toBeGreaterThan(0);
    for (const f of out!.findings) expect(f.probability).toBeGreaterThanOrEqual(0);
  });

  it('reports bad input with a code and a non-zero exit, without crashing', async () => {
    const missing = await run('infer', '/no/such/film.dcm', '--model', card, '--json');
    expect(missing.code).toBe(1);
    expect(JSON.parse(missing.stdout).results[0].error.code).toBe('FILE_NOT_FOUND');
    const badProvider = await run('infer', 'x.png', '--provider', 'quantum');
    expect(badProvider.code).not.toBe(0);
    expect(badProvider.stderr).toMatch(/provider/);
    const badCard = await run('infer', 'x.png', '--model', path.join(repoRoot, 'package.json'));
    expect(badCard.code).toBe(1);
    expect(badCard.stderr).toMatch(/MODEL_CARD_INVALID/);
  });
});
