// Runs under plain Node (`npm run audit:electron`, part of `npm test`). Scans the shipped sources of
// main/ and preload/ with Doyensec's Electronegativity and fails on any finding above
// informational that SECURITY.md does not justify, on any file the scanner could not parse, and on
// any justification that no longer matches a finding (so the list cannot go stale).
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const require = createRequire(import.meta.url);
const run = require('@doyensec/electronegativity');
const electronVersion = require('electron/package.json').version;

/**
 * Findings reviewed and accepted, by check and file; each is explained in SECURITY.md under
 * "Electronegativity". The scanner reads one file at a time and cannot follow a function call.
 */
const ACCEPTED = [
  // webPreferences come from secureWebPreferences() (contextIsolation, sandbox, Auxclick off), which
  // web-security.test.ts pins and shows is what the window is created with.
  { id: 'CONTEXT_ISOLATION_JS_CHECK', file: 'main/electron/window.ts' },
  { id: 'SANDBOX_JS_CHECK', file: 'main/electron/window.ts' },
  { id: 'AUXCLICK_JS_CHECK', file: 'main/electron/window.ts' },
  // shell.openExternal is reached only with an exact https URL from a fixed allowlist.
  { id: 'OPEN_EXTERNAL_JS_CHECK', file: 'main/electron/external-links.ts' },
  // The CSP it found is the app's own; its one relaxation, style-src 'unsafe-inline', is explained.
  { id: 'CSP_GLOBAL_CHECK', file: 'main/electron/web-security.ts' },
];

/** Test code, fakes and test fixtures are not shipped, so they are not scanned. */
const shipped = (src) => !/\.test\.tsx?$/.test(src) && !src.includes(`${path.sep}testing${path.sep}`) && !src.endsWith('fake-electron.ts') && !src.includes(`${path.sep}testdata`);

// One scan over both folders, so checks that look at the whole app (CSP, navigation limits,
// permission handler) see main/ and preload/ together.
const stage = mkdtempSync(path.join(os.tmpdir(), 'resight-electronegativity-'));
try {
  for (const dir of ['main', 'preload']) {
    cpSync(path.join(root, dir), path.join(stage, dir), { recursive: true, filter: (src) => shipped(src) });
  }
  const result = await run({ input: stage, electronVersionOverride: electronVersion, isRelative: true, severitySet: 'informational', confidenceSet: 'tentative' });

  const failures = [];
  for (const error of result.errors) {
    if (!error.tolerable) failures.push(`could not parse ${path.relative(stage, error.file)}: ${error.message}`);
  }
  const seen = new Set();
  for (const issue of result.issues) {
    const file = issue.file === 'N/A' ? 'N/A' : issue.file.split(path.sep).join('/');
    const where = `${issue.id} ${file}:${issue.location.line} (${issue.severity.name}, ${issue.confidence.name})`;
    const accepted = ACCEPTED.find((a) => a.id === issue.id && a.file === file);
    if (accepted) {
      seen.add(accepted);
      console.log(`accepted  ${where} — see SECURITY.md`);
    } else if (issue.severity.name === 'INFORMATIONAL') {
      console.log(`info      ${where}`);
    } else {
      failures.push(`${where}: ${issue.description}`);
    }
  }
  for (const a of ACCEPTED) if (!seen.has(a)) failures.push(`stale justification: ${a.id} ${a.file} is no longer reported; remove it here and in SECURITY.md`);

  console.log(`Electronegativity ${require('@doyensec/electronegativity/package.json').version}: ${result.globalChecks + result.atomicChecks} checks over main/ and preload/ (Electron ${electronVersion}).`);
  if (failures.length > 0) {
    for (const f of failures) console.error(`FAIL      ${f}`);
    process.exitCode = 1;
  } else {
    console.log('No finding above informational without a justification in SECURITY.md.');
  }
} finally {
  rmSync(stage, { recursive: true, force: true });
}
