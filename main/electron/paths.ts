// Runs in the Electron main process. Where the built app finds its parts, in development
// (repo checkout, main at dist/electron/main.cjs) and packaged (resources next to app.asar).
import path from 'node:path';

export interface AppPaths {
  rendererDir: string;
  preloadPath: string;
  hostEntry: string;
  modelsDir: string;
  samplesDir: string;
}

export interface PathInputs {
  /** The folder holding main.cjs (dist/electron). */
  distElectronDir: string;
  isPackaged: boolean;
  /** process.resourcesPath; only read when packaged. */
  resourcesPath: string;
}

export function resolveAppPaths({ distElectronDir, isPackaged, resourcesPath }: PathInputs): AppPaths {
  const dist = path.resolve(distElectronDir, '..');
  const repoRoot = path.resolve(dist, '..');
  return {
    rendererDir: path.join(dist, 'renderer'),
    preloadPath: path.join(distElectronDir, 'preload.cjs'),
    hostEntry: path.join(dist, 'host', 'inference-host.cjs'),
    // electron-builder.yml copies models/ and assets/samples/ to these resource folders.
    modelsDir: isPackaged ? path.join(resourcesPath, 'models') : path.join(repoRoot, 'models'),
    samplesDir: isPackaged ? path.join(resourcesPath, 'samples') : path.join(repoRoot, 'assets', 'samples'),
  };
}
