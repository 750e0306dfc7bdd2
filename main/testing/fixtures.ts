// Runs in tests only. Where the real parts the tests use live: the repository's models, samples
// and the built inference host. RESIGHT_TEST_MODELS_DIR lets a developer point the suite at
// another model folder while a new model is being trained.
import path from 'node:path';

export const repoRoot = path.resolve(__dirname, '..', '..');
export const modelsDir = process.env.RESIGHT_TEST_MODELS_DIR ?? path.join(repoRoot, 'models');
export const samplesDir = path.join(repoRoot, 'assets', 'samples');
export const hostEntry = path.join(repoRoot, 'dist', 'host', 'inference-host.cjs');
