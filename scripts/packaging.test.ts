// Runs in Vitest (Node). The packaging configuration as electron-builder itself reads and validates
// it, checked item by item against the Shipping issue; and the afterPack fuse script run against a
// stand-in Electron binary. None of this needs the Electron runtime, which these machines lack.
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveAppPaths } from '../main/electron/paths';

const repoRoot = path.resolve(__dirname, '..');
const requireHere = createRequire(__filename);
// app-builder-lib is electron-builder's own library; resolve it from there, not from the hoisting.
const requireBuilder = createRequire(requireHere.resolve('electron-builder/package.json'));
const requireAppBuilder = createRequire(requireBuilder.resolve('app-builder-lib/package.json'));
// The glob matcher electron-builder applies asarUnpack with.
const { minimatch } = requireAppBuilder('minimatch') as { minimatch(file: string, pattern: string, opts: { dot: boolean }): boolean };

type Pattern = string | { from?: string; to?: string; filter?: string[] };
interface BuilderConfig {
  appId?: string;
  publish?: unknown;
  asar?: boolean;
  npmRebuild?: boolean;
  afterPack?: string;
  files?: Pattern[];
  asarUnpack?: string[];
  extraResources?: Pattern[];
  linux?: { target?: string[]; executableName?: string };
  deb?: { depends?: string[] };
  win?: { target?: string; requestedExecutionLevel?: string };
  nsis?: { oneClick?: boolean; perMachine?: boolean; allowElevation?: boolean; deleteAppDataOnUninstall?: boolean };
  mac?: { target?: string; hardenedRuntime?: boolean; entitlements?: string; entitlementsInherit?: string };
}

const { getConfig, validateConfiguration } = requireAppBuilder('./out/util/config/config') as {
  getConfig(projectDir: string, configPath: string | null, configFromOptions: unknown): Promise<BuilderConfig>;
  validateConfiguration(config: BuilderConfig, logger: { isEnabled: boolean; add(key: string, value: unknown): void }): Promise<void>;
};

interface AfterPackModule {
  (context: unknown): Promise<void>;
  resightFuses(opts: { release: boolean }): Record<string, unknown>;
  DEBUG_PACKAGE_ENV: string;
}
const afterPack = requireHere('./after-pack.cjs') as AfterPackModule;
const { FuseV1Options, FuseVersion } = requireHere('@electron/fuses') as {
  FuseV1Options: Record<string, number> & Record<number, string>;
  FuseVersion: { V1: string };
};

let config: BuilderConfig;
/** The file patterns of `files`, flattened (electron-builder wraps them in one filter object). */
let filePatterns: string[];

beforeAll(async () => {
  config = await getConfig(repoRoot, null, null);
  filePatterns = (config.files ?? []).flatMap((p) => (typeof p === 'string' ? [p] : (p.filter ?? [])));
});

describe('electron-builder.yml', () => {
  it('is a valid configuration for the installed electron-builder', async () => {
    await expect(validateConfiguration(config, { isEnabled: false, add: () => {} })).resolves.toBeUndefined();
    expect(config.appId).toBe('org.resight.app');
    // No update feed: a build never uploads anything, and hospitals stage updates themselves.
    expect(config.publish).toBeNull();
  });

  it('makes an AppImage and a deb with its runtime dependencies on Linux', () => {
    expect(config.linux?.target).toEqual(expect.arrayContaining(['AppImage', 'deb']));
    const depends = config.deb?.depends ?? [];
    for (const lib of ['libgtk-3-0', 'libnss3', 'libsecret-1-0', 'libgbm1', 'libasound2', 'xdg-utils']) {
      expect(depends.some((d) => d.split('|').map((alt) => alt.trim()).includes(lib)), lib).toBe(true);
    }
  });

  it('makes a per-user NSIS installer on Windows that never asks for administrator rights', () => {
    expect(config.win?.target).toBe('nsis');
    expect(config.win?.requestedExecutionLevel).toBe('asInvoker');
    expect(config.nsis).toMatchObject({ oneClick: true, perMachine: false, allowElevation: false, deleteAppDataOnUninstall: false });
  });

  it('makes a dmg with the hardened runtime and only the JIT entitlement on macOS', () => {
    expect(config.mac).toMatchObject({ target: 'dmg', hardenedRuntime: true });
    for (const file of [config.mac?.entitlements, config.mac?.entitlementsInherit]) {
      expect(file).toBeTruthy();
      const keys = [...readFileSync(path.join(repoRoot, file!), 'utf8').matchAll(/<key>([^<]+)<\/key>/g)].map((m) => m[1]);
      expect(keys).toEqual(['com.apple.security.cs.allow-jit']);
    }
  });

  it('packs the app into an asar archive with only the built output and package.json', () => {
    expect(config.asar).toBe(true);
    expect(filePatterns).toEqual(expect.arrayContaining(['dist/**', 'package.json', '!dist/bench/**']));
  });

  it('unpacks every native addon, shared library and WASM codec of the runtime dependencies', () => {
    const pkg = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    const unpack = config.asarUnpack ?? [];
    const unpacked = (rel: string) => unpack.some((p) => minimatch(rel, p, { dot: true }));
    const loadable = /\.(node|so(\.\d+)*|dylib|dll|wasm)$/;
    const found: string[] = [];
    const walk = (dir: string, depth: number): void => {
      if (depth > 8) return;
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) walk(full, depth + 1);
        else if (loadable.test(entry.name)) found.push(path.relative(repoRoot, full).split(path.sep).join('/'));
      }
    };
    for (const name of Object.keys(pkg.dependencies)) {
      const dir = path.join(repoRoot, 'node_modules', name);
      if (existsSync(dir)) walk(dir, 0);
    }
    // The three native packages the issue names, at least, must have been seen.
    for (const name of ['onnxruntime-node', 'better-sqlite3-multiple-ciphers', '@cornerstonejs/codec-openjpeg']) {
      expect(found.some((f) => f.startsWith(`node_modules/${name}/`)), name).toBe(true);
    }
    expect(found.filter((f) => !unpacked(f))).toEqual([]);
    expect(unpack).toEqual(expect.arrayContaining(['node_modules/sharp/**', 'node_modules/@img/**', 'dist/imaging/**']));
  });

  it('ships models and samples as extra resources where the packaged app looks for them', () => {
    const resources = (config.extraResources ?? []).filter((r): r is Exclude<Pattern, string> => typeof r !== 'string');
    const models = resources.find((r) => r.from === 'models');
    const samples = resources.find((r) => r.from === 'assets/samples');
    expect(models?.filter).toEqual(expect.arrayContaining(['*.onnx', '*.json']));
    // The training code and its data never ship.
    expect(models?.filter?.some((f) => f.includes('training'))).toBe(false);
    const resourcesPath = path.resolve('/opt/Resight/resources');
    const paths = resolveAppPaths({ distElectronDir: path.join(resourcesPath, 'app.asar', 'dist', 'electron'), isPackaged: true, resourcesPath });
    expect(paths.modelsDir).toBe(path.join(resourcesPath, models!.to!));
    expect(paths.samplesDir).toBe(path.join(resourcesPath, samples!.to!));
  });

  it('rebuilds native modules for the Electron ABI and flips the fuses after packing', () => {
    expect(config.npmRebuild).toBe(true);
    expect(config.afterPack).toBe('scripts/after-pack.cjs');
    expect(existsSync(path.join(repoRoot, config.afterPack!))).toBe(true);
  });
});

describe('afterPack fuses', () => {
  const wanted: Record<string, boolean> = {
    RunAsNode: false,
    EnableNodeOptionsEnvironmentVariable: false,
    EnableNodeCliInspectArguments: false,
    OnlyLoadAppFromAsar: true,
    EnableEmbeddedAsarIntegrityValidation: true,
    GrantFileProtocolExtraPrivileges: false,
  };

  it('sets every fuse the issue names, and keeps --inspect only in a debug package', () => {
    const release = afterPack.resightFuses({ release: true });
    const debug = afterPack.resightFuses({ release: false });
    expect(release.version).toBe(FuseVersion.V1);
    for (const [name, value] of Object.entries(wanted)) expect(release[FuseV1Options[name]!], name).toBe(value);
    // Every fuse @electron/fuses knows is set explicitly, none left to Electron's default.
    const known = Object.keys(FuseV1Options).filter((k) => Number.isNaN(Number(k)));
    for (const name of known) expect(typeof release[FuseV1Options[name]!], name).toBe('boolean');
    expect(debug[FuseV1Options.EnableNodeCliInspectArguments!]).toBe(true);
    expect({ ...debug, [FuseV1Options.EnableNodeCliInspectArguments!]: false }).toEqual(release);
  });

  /** A file with Electron's fuse sentinel and a wire of `length` fuses, all on, like a fresh download. */
  function standInElectron(dir: string, name: string, length: number): string {
    const file = path.join(dir, name);
    const sentinel = Buffer.from('dL7pKGdnNz796PbbjQWNKmHXBZaB9tsX');
    writeFileSync(file, Buffer.concat([Buffer.from('\x7fELF stand-in '), sentinel, Buffer.from([1, length]), Buffer.from('1'.repeat(length)), Buffer.from(' end')]));
    chmodSync(file, 0o755);
    return file;
  }

  function wire(file: string, length: number): string {
    const bytes = readFileSync(file);
    const at = bytes.indexOf('dL7pKGdnNz796PbbjQWNKmHXBZaB9tsX') + 32 + 2;
    return bytes.subarray(at, at + length).toString('latin1');
  }

  const linuxContext = (appOutDir: string) => ({
    appOutDir,
    electronPlatformName: 'linux',
    packager: { executableName: 'resight', appInfo: { productFilename: 'Resight' } },
  });

  it('flips the fuses of the packaged Linux binary and leaves fuses it does not know alone', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'resight-fuses-'));
    // Electron 41 may carry more fuses than @electron/fuses 1.8 names; the extra one stays as it was.
    const binary = standInElectron(dir, 'resight', 9);
    const before = process.env[afterPack.DEBUG_PACKAGE_ENV];
    delete process.env[afterPack.DEBUG_PACKAGE_ENV];
    try {
      await afterPack(linuxContext(dir));
    } finally {
      if (before !== undefined) process.env[afterPack.DEBUG_PACKAGE_ENV] = before;
    }
    const flipped = wire(binary, 9);
    for (const [name, value] of Object.entries(wanted)) expect(flipped[FuseV1Options[name]!], name).toBe(value ? '1' : '0');
    expect(flipped[8]).toBe('1');
  });

  it('fails the build when the binary has no fuse wire', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'resight-fuses-'));
    writeFileSync(path.join(dir, 'resight'), 'not electron');
    await expect(afterPack(linuxContext(dir))).rejects.toThrow(/sentinel/i);
  });
});
