// Runs on the build machine, in electron-builder's afterPack hook (electron-builder.yml): after the
// app is packed and before it is signed, so the signature covers the flipped fuses. Turns off the
// ways a local process could run its own code inside Resight's signed binary, then reads the wire
// back and fails the build if any fuse is not as set.
const path = require('node:path');
const { flipFuses, getCurrentFuseWire, FuseV1Options, FuseVersion } = require('@electron/fuses');

/** Set to 1 for a debug package that keeps `--inspect`; release packages never accept it. */
const DEBUG_PACKAGE_ENV = 'RESIGHT_DEBUG_PACKAGE';

/** The fuse wire stores each fuse as an ASCII digit. */
const FUSE_ON = '1'.charCodeAt(0);
const FUSE_OFF = '0'.charCodeAt(0);

/**
 * Every fuse @electron/fuses knows, set explicitly. A fuse a newer Electron adds keeps its
 * default until it is reviewed here.
 */
function resightFuses({ release }) {
  return {
    version: FuseVersion.V1,
    // ELECTRON_RUN_AS_NODE would turn the signed binary into a general-purpose Node.
    [FuseV1Options.RunAsNode]: false,
    [FuseV1Options.EnableCookieEncryption]: true,
    // NODE_OPTIONS could preload any script into the main process.
    [FuseV1Options.EnableNodeOptionsEnvironmentVariable]: false,
    [FuseV1Options.EnableNodeCliInspectArguments]: !release,
    // Refuses an app.asar whose header hash differs from the one recorded at packing (macOS, Windows).
    [FuseV1Options.EnableEmbeddedAsarIntegrityValidation]: true,
    // With integrity validation, the app code cannot be swapped for a loose folder.
    [FuseV1Options.OnlyLoadAppFromAsar]: true,
    [FuseV1Options.LoadBrowserProcessSpecificV8Snapshot]: false,
    // The app is served from resight://app; file:// pages get no extra powers.
    [FuseV1Options.GrantFileProtocolExtraPrivileges]: false,
  };
}

/** The file electron-builder wrote the Electron executable to (the .app bundle on macOS). */
function electronBinaryPath(context) {
  const { appOutDir, electronPlatformName, packager } = context;
  if (electronPlatformName === 'linux') return path.join(appOutDir, packager.executableName);
  const ext = electronPlatformName === 'win32' ? '.exe' : '.app';
  return path.join(appOutDir, `${packager.appInfo.productFilename}${ext}`);
}

/** The fuses of `config` the binary does not carry as set; empty when all match. */
async function fuseMismatches(binaryPath, config) {
  const wire = await getCurrentFuseWire(binaryPath);
  const wrong = [];
  for (const [key, wanted] of Object.entries(config)) {
    const index = Number(key);
    if (!Number.isInteger(index)) continue;
    if (wire[index] !== (wanted ? FUSE_ON : FUSE_OFF)) wrong.push(FuseV1Options[index]);
  }
  return wrong;
}

async function afterPack(context) {
  const release = process.env[DEBUG_PACKAGE_ENV] !== '1';
  const config = resightFuses({ release });
  const binary = electronBinaryPath(context);
  // Arm64 macOS will not start a binary whose ad-hoc signature no longer matches its bytes.
  await flipFuses(binary, { ...config, resetAdHocDarwinSignature: context.electronPlatformName === 'darwin' });
  const wrong = await fuseMismatches(binary, config);
  if (wrong.length > 0) throw new Error(`Electron fuses not set as required: ${wrong.join(', ')}`);
}

module.exports = afterPack;
module.exports.default = afterPack;
module.exports.resightFuses = resightFuses;
module.exports.electronBinaryPath = electronBinaryPath;
module.exports.fuseMismatches = fuseMismatches;
module.exports.DEBUG_PACKAGE_ENV = DEBUG_PACKAGE_ENV;
