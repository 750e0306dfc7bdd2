import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { TagNode } from '../../preload/api';
import { tagTree } from './tags';
import { makeSources } from './testdata/fixtures';

const SAMPLES = path.join(__dirname, '..', '..', 'assets', 'samples');
const flat = (nodes: TagNode[]): TagNode[] => nodes.flatMap((n) => [n, ...(n.items ?? []).flatMap(flat)]);

describe('tagTree', () => {
  it('lists the data set with names and values, without pixel data', () => {
    const nodes = tagTree(new Uint8Array(readFileSync(path.join(SAMPLES, 'cxr-cardiomegaly-effusion-cr.dcm'))));
    const byTag = new Map(flat(nodes).map((n) => [n.tag, n]));
    expect(byTag.get('(0018,1164)')).toMatchObject({ name: 'Imager Pixel Spacing', value: '0.671875\\0.671875' });
    expect(byTag.get('(0028,0004)')?.value).toBe('MONOCHROME1');
    expect(byTag.get('(0028,0010)')).toMatchObject({ vr: 'US', value: '640' });
    expect(byTag.has('(7FE0,0010)')).toBe(false);
  });

  it('nests sequences as items of elements', () => {
    const src = makeSources();
    try {
      const nodes = tagTree(new Uint8Array(readFileSync(src.file('voi-lut'))));
      const seq = nodes.find((n) => n.tag === '(0028,3010)');
      expect(seq).toMatchObject({ name: 'VOI LUT Sequence', vr: 'SQ', value: '1 item' });
      const item = seq?.items?.[0] ?? [];
      expect(item.find((n) => n.tag === '(0028,3003)')?.value).toBe('GAMMA');
      // The LUT data itself is summarised, not dumped.
      const lut = item.find((n) => n.tag === '(0028,3006)')?.value ?? '';
      expect(lut).toMatch(/bytes\)$|…$/);
      expect(lut.length).toBeLessThan(120);
    } finally {
      rmSync(src.dir, { recursive: true, force: true });
    }
  });

  it('refuses bytes that are not DICOM with a typed error', () => {
    expect(() => tagTree(new Uint8Array([1, 2, 3, 4, 5]))).toThrow(expect.objectContaining({ code: expect.any(String) }));
  });
});
