import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ResightError } from '../../preload/api';
import { loadImage } from '../imaging/load';
import { Deidentifier } from './deid';
import { DEID_RULES, ruleFor, tableRow } from './deid-table';
import { firstString, items, readPart10, type DicomDataset, type DicomElement } from './dicom-write';
import { repoRoot } from '../testing/fixtures';

const SECRET = new Uint8Array(32).fill(7);
const script = path.join(repoRoot, 'main', 'export', 'testdata', 'deid_inputs.py');

interface Inputs {
  dir: string;
  strings: string[];
  patientId: string;
  uids: { study: string; sop_a: string; sop_b: string };
}

function makeInputs(): Inputs {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'resight-deid-'));
  writeFileSync(path.join(dir, 'tags.json'), JSON.stringify(DEID_RULES.map((r) => [r.tag, r.action])));
  execFileSync('/usr/bin/python3', [script, path.join(dir, 'tags.json'), path.join(dir, 'in')]);
  const ids = JSON.parse(readFileSync(path.join(dir, 'in', 'identifiers.json'), 'utf8')) as Omit<Inputs, 'dir'>;
  return { dir, ...ids };
}

const read = (file: string): Uint8Array => new Uint8Array(readFileSync(file));

function contains(haystack: Uint8Array, needle: string): boolean {
  return Buffer.from(haystack).includes(Buffer.from(needle, 'latin1'));
}

/** Checks the table's action on every listed attribute of `before`, one dataset level, then kept sequences. */
function checkActions(deid: Deidentifier, patientId: string, before: DicomDataset, after: DicomDataset, seen: Set<string>, where = ''): void {
  for (const [tag, el] of Object.entries(before)) {
    const rule = ruleFor(tag);
    const out = after[tag];
    const at = `${where}${tag}`;
    if (parseInt(tag.slice(0, 4), 16) % 2 === 1) {
      expect(out, `${at} private`).toBeUndefined();
      continue;
    }
    if (!rule) {
      if (el.vr === 'SQ' && out) (el.Value as DicomDataset[]).forEach((item, i) => checkActions(deid, patientId, item, (out.Value as DicomDataset[])[i]!, seen, `${at}/`));
      continue;
    }
    seen.add(`${rule.action}:${tag}`);
    switch (rule.action) {
      case 'X':
        expect(out, `${at} removed`).toBeUndefined();
        break;
      case 'Z':
        expect(empty(out), `${at} empty`).toBe(true);
        expect(out, `${at} kept present`).toBeDefined();
        break;
      case 'D':
        expect(out, `${at} dummy`).toBeDefined();
        if (el.vr === 'SQ') expect(out!.Value).toEqual([]);
        else expect(firstString(after, tag)).toBe('ANONYMIZED');
        break;
      case 'K':
        expect(out?.Value, `${at} kept`).toEqual(el.Value);
        break;
      case 'U':
        if (el.vr === 'UI') expect(out?.Value, `${at} remapped`).toEqual((el.Value as string[]).map((u) => deid.mapUid(u)));
        else (el.Value as DicomDataset[]).forEach((item, i) => checkActions(deid, patientId, item, (out!.Value as DicomDataset[])[i]!, seen, `${at}/`));
        break;
      case 'C':
        if (el.vr === 'DA') expect(out?.Value, `${at} shifted`).toEqual((el.Value as string[]).map((d) => deid.shiftDate(patientId, d)));
        else if (el.vr === 'DT') expect(out?.Value, `${at} shifted`).toEqual((el.Value as string[]).map((d) => deid.shiftDate(patientId, d.slice(0, 8)) + d.slice(8)));
        else if (tag === '0040A730') expect(firstString(items(after, tag)[0]!, '0040A160')).toBe('ANONYMIZED');
        break;
    }
  }
}

const bytesOf = (a: ArrayBufferView): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
/** dcmjs reads a zero-length value as [''] and writes [] as zero length. */
const empty = (el: DicomElement | undefined): boolean => !!el && (el.Value ?? []).every((v) => v === '' || v === null);
const stored = (el: DicomElement | undefined): unknown => el?.Value;

describe('de-identification (PS3.15 Annex E basic profile)', () => {
  let inputs: Inputs;
  beforeAll(() => {
    inputs = makeInputs();
  });

  it('applies the table action to every listed attribute present, at the top level and in nested sequences', () => {
    const deid = new Deidentifier({}, SECRET);
    const seen = new Set<string>();
    for (const name of ['a', 'b']) {
      const input = readPart10(read(path.join(inputs.dir, 'in', 'study', `${name}.dcm`)));
      const output = readPart10(deid.deidentify(read(path.join(inputs.dir, 'in', 'study', `${name}.dcm`))).bytes);
      checkActions(deid, inputs.patientId, input.dict, output.dict, seen);
      expect(firstString(output.dict, '00120062')).toBe('YES');
      expect(output.dict['00120063']?.Value).toContain('Basic Application Confidentiality Profile');
      const codes = items(output.dict, '00120064').map((c) => `${firstString(c, '00080102')}:${firstString(c, '00080100')}`);
      expect(codes).toEqual(expect.arrayContaining(['DCM:113100', 'DCM:113107', 'DCM:113104']));
      expect(firstString(output.dict, '00280303')).toBe('MODIFIED');
      expect(firstString(output.meta, '00020003')).toBe(firstString(output.dict, '00080018'));
    }
    // The inputs exercise every kind of action, many attributes of each.
    const byAction = (a: string): number => [...seen].filter((s) => s.startsWith(`${a}:`)).length;
    expect(byAction('X')).toBeGreaterThan(100);
    for (const a of ['Z', 'D', 'K', 'U', 'C']) expect(byAction(a), a).toBeGreaterThan(2);
  });

  it('maps UIDs consistently across a study, references inside sequences included', () => {
    const deid = new Deidentifier({}, SECRET);
    const a = readPart10(deid.deidentify(read(path.join(inputs.dir, 'in', 'study', 'a.dcm'))).bytes).dict;
    const b = readPart10(deid.deidentify(read(path.join(inputs.dir, 'in', 'study', 'b.dcm'))).bytes).dict;
    expect(firstString(a, '0020000D')).toBe(firstString(b, '0020000D'));
    expect(firstString(a, '0020000D')).toMatch(/^2\.25\.\d{1,39}$/);
    expect(firstString(a, '0020000D')).not.toBe(inputs.uids.study);
    expect(firstString(a, '0020000E')).not.toBe(firstString(b, '0020000E'));
    expect(firstString(a, '00200052')).toBe(firstString(b, '00200052'));
    expect(firstString(a, '00200052')).toMatch(/^2\.25\./);
    for (const seq of ['00082112', '00081140']) {
      const ref = items(b, seq)[0]!;
      expect(firstString(ref, '00081155')).toBe(firstString(a, '00080018'));
      expect(firstString(ref, '00081150')).toBe('1.2.840.10008.5.1.4.1.1.1.1');
    }
    // Same secret, new session: same mapping; another secret: another one.
    expect(new Deidentifier({}, SECRET).mapUid(inputs.uids.study)).toBe(firstString(a, '0020000D'));
    expect(new Deidentifier({}, new Uint8Array(32).fill(8)).mapUid(inputs.uids.study)).not.toBe(firstString(a, '0020000D'));
  });

  it('leaves no identifying value anywhere in the output bytes', () => {
    const deid = new Deidentifier({}, SECRET);
    expect(inputs.strings.length).toBeGreaterThan(100);
    for (const name of ['a', 'b']) {
      const input = read(path.join(inputs.dir, 'in', 'study', `${name}.dcm`));
      const out = deid.deidentify(input).bytes;
      expect(inputs.strings.filter((s) => contains(input, s)).length).toBeGreaterThan(50);
      expect(inputs.strings.filter((s) => contains(out, s))).toEqual([]);
    }
  });

  it('keeps dates unshifted with keepDates and says so', () => {
    const deid = new Deidentifier({ keepDates: true }, SECRET);
    const input = readPart10(read(path.join(inputs.dir, 'in', 'study', 'a.dcm'))).dict;
    const out = readPart10(deid.deidentify(read(path.join(inputs.dir, 'in', 'study', 'a.dcm'))).bytes).dict;
    expect(stored(out['00080020'])).toEqual(stored(input['00080020']));
    expect(stored(out['0008002A'])).toEqual(stored(input['0008002A']));
    expect(empty(out['00100030'])).toBe(true);
    expect(firstString(out, '00280303')).toBe('UNMODIFIED');
    expect(items(out, '00120064').map((c) => firstString(c, '00080100'))).toContain('113106');
    expect(deid.method).toContain('Full Dates');
  });

  it('shifts dates by one offset per patient, 1 to 10 years back', () => {
    const deid = new Deidentifier({}, SECRET);
    const shift = (d: string): number => (Date.parse(`${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6)}`) - Date.parse('2019-03-14')) / 86_400_000;
    const days = shift(deid.shiftDate('P1', '20190314'));
    expect(days).toBeLessThanOrEqual(-365);
    expect(days).toBeGreaterThanOrEqual(-3650);
    expect(shift(deid.shiftDate('P1', '20190314'))).toBe(days);
    expect(deid.shiftDate('P1', '20200229')).toBe(new Date(Date.UTC(2020, 1, 29) + days * 86_400_000).toISOString().slice(0, 10).replace(/-/g, ''));
    expect(['P2', 'P3', 'P4', 'P5'].some((p) => shift(deid.shiftDate(p, '20190314')) !== days)).toBe(true);
    expect(deid.method).toMatch(/^PS3\.15 Annex E Basic Application Level Confidentiality Profile; Retain Longitudinal Temporal Information with Modified Dates Option \(Resight /);
    expect(deid.methodCodes.map((c) => c.value)).toEqual(['113100', '113107']);
  });

  it('refuses burned-in annotation unless allowed, and non-DICOM input', () => {
    const burned = read(path.join(inputs.dir, 'in', 'burned.dcm'));
    expect(() => new Deidentifier({}, SECRET).deidentify(burned)).toThrow(expect.objectContaining({ code: 'BURNED_IN_ANNOTATION' }));
    const allowed = new Deidentifier({ allowBurnedIn: true }, SECRET).deidentify(burned);
    expect(allowed.warnings).toHaveLength(1);
    expect(allowed.warnings[0]).not.toMatch(/IDENT/);
    try {
      new Deidentifier().deidentify(new TextEncoder().encode('IDENTSURNAME not a dicom file'));
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ResightError);
      expect((err as ResightError).code).toBe('INVALID_DICOM');
      expect((err as Error).message).not.toMatch(/IDENT/);
    }
  });

  it('refuses deflated files with UNSUPPORTED_TRANSFER_SYNTAX', () => {
    const file = path.join(inputs.dir, 'deflated.dcm');
    execFileSync('dcmconv', ['+td', path.join(inputs.dir, 'in', 'study', 'a.dcm'), file]);
    expect(() => new Deidentifier({}, SECRET).deidentify(read(file))).toThrow(expect.objectContaining({ code: 'UNSUPPORTED_TRANSFER_SYNTAX' }));
  });

  it('retainUids keeps UIDs and adds the Retain UIDs option', () => {
    const deid = new Deidentifier({ retainUids: true }, SECRET);
    const out = readPart10(deid.deidentify(read(path.join(inputs.dir, 'in', 'study', 'a.dcm'))).bytes).dict;
    expect(firstString(out, '0020000D')).toBe(inputs.uids.study);
    expect(deid.methodCodes.map((c) => c.value)).toContain('113110');
  });

  it('passes pixel data through byte for byte in explicit, implicit, big endian, RLE and JPEG 2000 files; the loader decodes identical pixels', async () => {
    const dir = path.join(inputs.dir, 'syntaxes');
    execFileSync('mkdir', ['-p', dir]);
    const src = path.join(inputs.dir, 'in', 'study', 'a.dcm');
    execFileSync('gdcmconv', ['--implicit', src, path.join(dir, 'implicit.dcm')]);
    execFileSync('dcmcrle', [src, path.join(dir, 'rle.dcm')]);
    // GDCM's encoder refuses the fixture's bare overlay group; the other encodings keep it.
    copyFileSync(src, path.join(dir, 'no-overlay.dcm'));
    execFileSync('dcmodify', ['-nb', '-ea', '(6000,3000)', '-ea', '(6000,4000)', path.join(dir, 'no-overlay.dcm')]);
    execFileSync('gdcmconv', ['--j2k', path.join(dir, 'no-overlay.dcm'), path.join(dir, 'j2k.dcm')]);
    const deid = new Deidentifier({}, SECRET);
    execFileSync('dcmconv', ['+tb', src, path.join(dir, 'big-endian.dcm')]);
    copyFileSync(src, path.join(dir, 'explicit.dcm'));
    for (const name of ['explicit', 'implicit', 'big-endian', 'rle', 'j2k']) {
      const file = path.join(dir, `${name}.dcm`);
      const before = readPart10(read(file));
      const outBytes = deid.deidentify(read(file)).bytes;
      const after = readPart10(outBytes);
      expect(after.transferSyntax, name).toBe(before.transferSyntax);
      expect(Buffer.from(after.pixelElement!).equals(Buffer.from(before.pixelElement!)), name).toBe(true);
      expect(inputs.strings.filter((s) => contains(outBytes, s)), name).toEqual([]);
      const outFile = path.join(dir, `${name}.out.dcm`);
      writeFileSync(outFile, outBytes);
      const [x, y] = await Promise.all([loadImage(file), loadImage(outFile)]);
      expect(bytesOf(y.frame(0)).equals(bytesOf(x.frame(0))), name).toBe(true);
      expect(y.info.width).toBe(48);
    }
  });
});

describe('the action table', () => {
  it('has one row per tag and every row in docs/deidentification.md', () => {
    expect(new Set(DEID_RULES.map((r) => r.tag)).size).toBe(DEID_RULES.length);
    const doc = readFileSync(path.join(repoRoot, 'docs', 'deidentification.md'), 'utf8');
    const missing = DEID_RULES.map(tableRow).filter((row) => !doc.includes(row));
    expect(missing).toEqual([]);
  });
});
