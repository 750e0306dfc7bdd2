// Runs anywhere in main. Execution-provider choices that do not need onnxruntime loaded, so
// Electron's main process never loads its native libraries.
import os from 'node:os';

/** The GPU providers worth trying first on this platform, in order. */
export function gpuProvidersFor(platform: NodeJS.Platform): string[] {
  if (platform === 'win32') return ['dml'];
  if (platform === 'darwin') return ['coreml'];
  return ['cuda', 'webgpu'];
}

/** All cores but one, so the UI and the OS keep a core while the model runs. */
export function defaultThreads(): number {
  return Math.max(1, os.availableParallelism() - 1);
}
