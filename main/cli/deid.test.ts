// Needs the built CLI: node scripts/build.mjs main
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEID_RULES } from '../export/deid-table';
import { firstString, readPart10 } from '../export/dicom-write';
import { runCli } from '../testing/cli';
import { repoRoot } from '../testing/fixtures';

interface Inputs {
  root: string;
  strings: string[];
  uids: { study: string; sop_a: string; sop_b: string };
}

/** Every file under `dir`, relative, with / separators. */
function walk(dir: string, rel = ''): string[] {
  return readdirSync(path.join(dir, rel), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(dir, path.posix.join(rel, e.name)) : [path.posix.join(rel, e.name)],
  );
}

describe('resight deid', () => {
  let inputs: Inputs;
  let input: string;

  beforeAll(() => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'resight-deid-cli-'));
    writeFileSync(path.join(root, 'tags.json'), JSON.stringify(DEID_RULES.map((r) => [r.tag, r.action])));
    execFileSync('/usr/bin/python3', [path.join(repoRoot, 'main', 'export', 'testdata', 'deid_inputs.py'), path.join(root, 'tags.json'), path.join(root, 'gen')]);
    const ids = JSON.parse(readFileSync(path.join(root, 'gen', 'identifiers.json'), 'utf8')) as Omit<Inputs, 'root'>;
    inputs = { root, ...ids };
    // Names as an archive would have them: the patient's name on folders and files.
    input = path.join(root, 'in');
    const study = path.join(input, 'IDENTSURNAME^IDENTGIVEN', 'IDENTPID0042 chest');
    mkdirSync(study, { recursive: true });
    mkdirSync(path.join(input, 'IDENTEMPTY'), { recursive: true });
    copyFileSync(path.join(root, 'gen', 'study', 'a.dcm'), path.join(study, 'IDENTSURNAME-1.dcm'));
    copyFileSync(path.join(root, 'gen', 'study', 'b.dcm'), path.join(study, 'IDENTSURNAME-2.dcm'));
    copyFileSync(path.join(root, 'gen', 'burned.dcm'), path.join(input, 'IDENTSURNAME^IDENTGIVEN', 'IDENTSURNAME-3.dcm'));
    writeFileSync(path.join(study, 'IDENTSURNAME notes.txt'), 'IDENTSURNAME was here');
  });

  it('copies a folder with pseudonymous names, consistent UIDs and a one-line summary', async () => {
    const out = path.join(inputs.root, 'out1');
    const r = await runCli('deid', input, out);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(`de-identified 2 files, excluded 1 (burned-in annotation), 0 failed, skipped 1 (not DICOM) → ${out}/`);
    expect(`${r.stdout}${r.stderr}`).not.toMatch(/IDENT/);
    const files = walk(out).sort();
    expect(files).toEqual(['dir-0002/dir-0001/img-00001.dcm', 'dir-0002/dir-0001/img-00002.dcm']);
    const [a, b] = files.map((f) => readFileSync(path.join(out, f)));
    for (const bytes of [a!, b!]) expect(inputs.strings.filter((s) => bytes.includes(s))).toEqual([]);
    const [da, db] = [a!, b!].map((bytes) => readPart10(new Uint8Array(bytes)).dict);
    expect(firstString(da!, '0020000D')).toBe(firstString(db!, '0020000D'));
    expect(firstString(da!, '0020000D')).not.toBe(inputs.uids.study);
    expect(firstString(db!, '0008002A')).toBe(firstString(da!, '0008002A'));
  });

  it('includes burned-in images with --allow-burned-in (with a warning) and keeps dates with --keep-dates', async () => {
    const out = path.join(inputs.root, 'out2');
    const r = await runCli('deid', input, out, '--allow-burned-in', '--keep-dates');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^de-identified 3 files, excluded 0 \(burned-in annotation\), 0 failed, skipped 1 \(not DICOM\) → /);
    expect(r.stderr).toMatch(/^warning: dir-0002\/img-00001\.dcm: .*burned-in annotation/m);
    expect(`${r.stdout}${r.stderr}`).not.toMatch(/IDENT/);
    const before = readPart10(new Uint8Array(readFileSync(path.join(inputs.root, 'gen', 'study', 'a.dcm')))).dict;
    const after = readPart10(new Uint8Array(readFileSync(path.join(out, 'dir-0002', 'dir-0001', 'img-00001.dcm')))).dict;
    expect(firstString(after, '00080020')).toBe(firstString(before, '00080020'));
    expect(firstString(after, '00280303')).toBe('UNMODIFIED');
  });

  it('de-identifies one file to the path given', async () => {
    const out = path.join(inputs.root, 'single.dcm');
    const r = await runCli('deid', path.join(inputs.root, 'gen', 'study', 'a.dcm'), out);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^de-identified 1 file/);
    const bytes = readFileSync(out);
    expect(inputs.strings.filter((s) => bytes.includes(s))).toEqual([]);
    expect(firstString(readPart10(new Uint8Array(bytes)).dict, '00120062')).toBe('YES');
  });

  it('reports refusals and bad arguments as error CODE lines, naming no input', async () => {
    const burned = await runCli('deid', path.join(input, 'IDENTSURNAME^IDENTGIVEN', 'IDENTSURNAME-3.dcm'), path.join(inputs.root, 'b.dcm'));
    expect(burned.code).toBe(1);
    expect(burned.stderr).toMatch(/^error BURNED_IN_ANNOTATION: /);
    const text = await runCli('deid', path.join(input, 'IDENTSURNAME^IDENTGIVEN', 'IDENTPID0042 chest', 'IDENTSURNAME notes.txt'), path.join(inputs.root, 't.dcm'));
    expect(text.code).toBe(1);
    expect(text.stderr).toMatch(/^error INVALID_DICOM: /);
    const missing = await runCli('deid', path.join(inputs.root, 'IDENTNOPE'), path.join(inputs.root, 'x'));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^error FILE_NOT_FOUND: /);
    const notEmpty = await runCli('deid', input, path.join(inputs.root, 'gen'));
    expect(notEmpty.code).toBe(1);
    expect(notEmpty.stderr).toMatch(/^error INVALID_ARGUMENT: /);
    for (const r of [burned, text, missing, notEmpty]) expect(`${r.stdout}${r.stderr}`).not.toMatch(/IDENT/);
  });
});
