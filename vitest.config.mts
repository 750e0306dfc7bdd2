import { defineConfig } from 'vitest/config';
import { readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8')) as { version: string };

export default defineConfig({
  define: { __RESIGHT_VERSION__: JSON.stringify(pkg.version) },
  test: {
    include: ['main/**/*.test.ts', 'preload/**/*.test.ts', 'renderer/**/*.test.ts', 'models/**/*.test.ts', 'scripts/**/*.test.ts'],
    // The machines have 2 cores; the responsiveness test and ONNX sessions need one to themselves.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
