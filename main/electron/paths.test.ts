// Runs in Vitest (Node). Where the app finds its parts, in a checkout and packaged.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveAppPaths } from './paths';

describe('resolveAppPaths', () => {
  it('uses the checkout in development', () => {
    const repo = path.resolve('/work/resight');
    const paths = resolveAppPaths({ distElectronDir: path.join(repo, 'dist', 'electron'), isPackaged: false, resourcesPath: '/ignored' });
    expect(paths).toEqual({
      rendererDir: path.join(repo, 'dist', 'renderer'),
      preloadPath: path.join(repo, 'dist', 'electron', 'preload.cjs'),
      hostEntry: path.join(repo, 'dist', 'host', 'inference-host.cjs'),
      modelsDir: path.join(repo, 'models'),
      samplesDir: path.join(repo, 'assets', 'samples'),
    });
  });

  it('uses the resources folder for models and samples when packaged', () => {
    const resources = path.resolve('/opt/Resight/resources');
    const app = path.join(resources, 'app.asar');
    const paths = resolveAppPaths({ distElectronDir: path.join(app, 'dist', 'electron'), isPackaged: true, resourcesPath: resources });
    expect(paths.rendererDir).toBe(path.join(app, 'dist', 'renderer'));
    expect(paths.hostEntry).toBe(path.join(app, 'dist', 'host', 'inference-host.cjs'));
    expect(paths.modelsDir).toBe(path.join(resources, 'models'));
    expect(paths.samplesDir).toBe(path.join(resources, 'samples'));
  });
});
