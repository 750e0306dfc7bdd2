// Runs in tests. Keeps DESIGN.md's import rules true: only main/electron (and the preload entry,
// and e2e) import 'electron'; renderer and main never import each other; services import neither
// the API layer nor Electron; the contract imports nothing but zod and its channel names.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './testing/fixtures';

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(path.join(repoRoot, dir))) {
    const rel = path.join(dir, name);
    if (statSync(path.join(repoRoot, rel)).isDirectory()) out.push(...sources(rel));
    else if (/\.(ts|tsx|mts|cts|js|mjs|cjs)$/.test(name)) out.push(rel);
  }
  return out;
}

function specifiers(file: string): string[] {
  const text = readFileSync(path.join(repoRoot, file), 'utf8');
  const found: string[] = [];
  for (const m of text.matchAll(/(?:from\s+|import\s*\(\s*|require\s*\(\s*|import\s+)['"]([^'"]+)['"]/g)) found.push(m[1]!);
  return found;
}

/** The repository folder a relative import lands in, or the package name. */
function target(file: string, spec: string): string {
  if (!spec.startsWith('.')) return spec;
  return path.relative(repoRoot, path.resolve(repoRoot, path.dirname(file), spec));
}

const self = 'main/import-rules.test.ts';
const all = ['main', 'preload', 'renderer', 'e2e', 'scripts', 'bench'].flatMap((d) => {
  try {
    return sources(d);
  } catch {
    return [];
  }
}).filter((f) => f !== self);

describe('import rules', () => {
  it('only main/electron, preload/index.ts and e2e import electron', () => {
    const offenders = all.filter((f) => specifiers(f).includes('electron'));
    const allowed = (f: string): boolean => f.startsWith('main/electron/') || f === 'preload/index.ts' || f.startsWith('e2e/');
    expect(offenders.filter((f) => !allowed(f))).toEqual([]);
  });

  it('renderer never imports main, and main never imports renderer', () => {
    const bad: string[] = [];
    for (const f of all) {
      for (const spec of specifiers(f)) {
        const t = target(f, spec);
        // vite.config.mts is build tooling that runs in Node, not renderer code.
        const rendererCode = f.startsWith('renderer/') && f !== 'renderer/vite.config.mts';
        if (rendererCode && (t.startsWith('main/') || t === 'main' || spec.startsWith('node:'))) bad.push(`${f} → ${spec}`);
        if (f.startsWith('main/') && t.startsWith('renderer/')) bad.push(`${f} → ${spec}`);
      }
    }
    expect(bad).toEqual([]);
  });

  it('services import neither the API layer nor Electron code', () => {
    const services = ['main/imaging/', 'main/inference/', 'main/store/', 'main/export/', 'main/pacs/', 'main/review/'];
    const bad: string[] = [];
    // Tests beside a service may drive it through the API; the rule is about the service's own code.
    for (const f of all.filter((f) => services.some((s) => f.startsWith(s)) && !f.endsWith('.test.ts'))) {
      for (const spec of specifiers(f)) {
        const t = target(f, spec);
        if (t.startsWith('main/api/') || t.startsWith('main/electron/') || t.startsWith('main/server/') || t.startsWith('main/cli/')) bad.push(`${f} → ${spec}`);
      }
    }
    expect(bad).toEqual([]);
  });

  it('the contract imports nothing but zod and its channel names', () => {
    expect(specifiers('preload/api.ts').sort()).toEqual(['./channels', 'zod']);
    expect(specifiers('preload/channels.ts')).toEqual([]);
  });
});
