// Runs in Vitest (Node). Keeps SECURITY.md true to the code: every file it names exists, every test
// title it quotes is in the test file of the same row, the checklist has all 20 items, and every
// Electronegativity finding the audit script accepts is justified there.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const repoRoot = path.resolve(__dirname, '..');
const doc = readFileSync(path.join(repoRoot, 'SECURITY.md'), 'utf8');
const rows = doc.split('\n').filter((line) => line.startsWith('|'));

describe('SECURITY.md', () => {
  it('names only files that exist', () => {
    const named = [...doc.matchAll(/`((?:main|preload|scripts|renderer|e2e)\/[\w./-]+\.(?:ts|tsx|cjs|mjs))`/g)].map((m) => m[1]!);
    expect(named.length).toBeGreaterThan(20);
    expect(named.filter((file) => !existsSync(path.join(repoRoot, file)))).toEqual([]);
  });

  it('quotes only test titles that the test file of the same row contains', () => {
    const missing: string[] = [];
    let quoted = 0;
    for (const row of rows) {
      const files = [...row.matchAll(/`([\w/.-]+\.test\.ts)`/g)].map((m) => m[1]!);
      // A title may be shortened with an ellipsis; the longest part before or after it is checked.
      const titles = [...row.matchAll(/"([^"]{12,})"/g)].map((m) => m[1]!.split('…').sort((a, b) => b.length - a.length)[0]!);
      for (const title of titles) {
        quoted++;
        if (!files.some((f) => readFileSync(path.join(repoRoot, f), 'utf8').includes(title))) missing.push(title);
      }
    }
    expect(quoted).toBeGreaterThan(10);
    expect(missing).toEqual([]);
  });

  it("lists all 20 items of Electron's security checklist, each with a place in the code", () => {
    const numbers = rows.map((r) => /^\| (\d+) \|/.exec(r)?.[1]).filter(Boolean).map(Number);
    expect(numbers).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
  });

  it('justifies every Electronegativity finding the audit accepts', () => {
    const script = readFileSync(path.join(repoRoot, 'scripts', 'electronegativity.mjs'), 'utf8');
    const accepted = [...script.matchAll(/\{ id: '(\w+)', file: '([^']+)' \}/g)].map((m) => ({ id: m[1]!, file: m[2]! }));
    expect(accepted.length).toBeGreaterThan(0);
    const section = doc.slice(doc.indexOf('## Electronegativity'));
    for (const { id, file } of accepted) {
      expect(section.split('\n').some((line) => line.includes(id) && line.includes(file)), `${id} ${file}`).toBe(true);
    }
  });
});
