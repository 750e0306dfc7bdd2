// Runs in tests. multipart/related parsing and building, binary-safe, and refusing cut bodies.
import { describe, expect, it } from 'vitest';
import { ResightError } from '../../preload/api';
import { buildMultipart, parseMediaType, parseMultipart } from './multipart';

const binary = (n: number, seed = 7): Buffer => {
  const b = Buffer.alloc(n);
  let x = seed;
  for (let i = 0; i < n; i++) b[i] = x = (x * 1103515245 + 12345) & 0xff;
  return b;
};

function body(boundary: string, parts: { headers: string; data: Buffer }[], close = true): Buffer {
  const chunks: Buffer[] = [];
  for (const p of parts) chunks.push(Buffer.from(`--${boundary}\r\n${p.headers}\r\n\r\n`), p.data, Buffer.from('\r\n'));
  if (close) chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(chunks);
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof ResightError ? err.code : 'not a ResightError';
  }
  return undefined;
}

describe('parseMediaType', () => {
  it('reads quoted and bare parameters, escapes and semicolons inside quotes', () => {
    const mt = parseMediaType('Multipart/Related; type="application/dicom; transfer-syntax=1.2.840.10008.1.2.1"; boundary="a;b \\"c\\""; X=1');
    expect(mt.type).toBe('multipart/related');
    expect(mt.params).toEqual({ type: 'application/dicom; transfer-syntax=1.2.840.10008.1.2.1', boundary: 'a;b "c"', x: '1' });
  });
});

describe('parseMultipart', () => {
  it('splits binary parts whose bytes contain CRLF, dashes and partial boundaries', () => {
    const tricky = Buffer.concat([binary(1000), Buffer.from('\r\n--BOUNDAR\r\n\r\n--'), binary(1000, 3)]);
    const raw = body('BOUNDARY', [
      { headers: 'Content-Type: application/dicom', data: tricky },
      { headers: 'Content-Type: application/dicom\r\nContent-Length: 5', data: Buffer.from('hello') },
    ]);
    const parts = parseMultipart('multipart/related; type="application/dicom"; boundary=BOUNDARY', raw);
    expect(parts).toHaveLength(2);
    expect(Buffer.compare(parts[0]!.body, tricky)).toBe(0);
    expect(parts[1]!.body.toString()).toBe('hello');
    expect(parts[1]!.headers['content-length']).toBe('5');
  });

  it('takes the transfer syntax from the part, else from the type parameter of the response', () => {
    const raw = body('b', [
      { headers: 'Content-Type: application/octet-stream; transfer-syntax=1.2.840.10008.1.2.5', data: binary(10) },
      { headers: 'Content-Location: x', data: binary(10) },
    ]);
    const parts = parseMultipart('multipart/related; type="application/octet-stream; transfer-syntax=1.2.840.10008.1.2.1"; boundary="b"', raw);
    expect(parts.map((p) => p.transferSyntax)).toEqual(['1.2.840.10008.1.2.5', '1.2.840.10008.1.2.1']);
  });

  it('accepts a preamble, an empty part header block and bare LF line ends', () => {
    const raw = Buffer.from('preamble text\r\n--q\r\n\r\nfirst\r\n--q\nContent-Type: text/plain\n\nsecond\n--q--');
    const parts = parseMultipart('multipart/related; boundary=q', raw);
    expect(parts.map((p) => p.body.toString())).toEqual(['first', 'second']);
    expect(parts[1]!.contentType?.type).toBe('text/plain');
  });

  it('refuses a body cut anywhere before its closing boundary', () => {
    const raw = body('cut', [
      { headers: 'Content-Type: application/dicom', data: binary(300) },
      { headers: 'Content-Type: application/dicom', data: binary(300, 9) },
    ]);
    const ct = 'multipart/related; boundary=cut';
    expect(parseMultipart(ct, raw)).toHaveLength(2);
    const complete = raw.indexOf('--cut--') + '--cut--'.length;
    for (let n = 0; n < complete; n++) expect(codeOf(() => parseMultipart(ct, raw.subarray(0, n))), `cut at ${n}`).toBe('PACS_BAD_RESPONSE');
  });

  it('refuses a part shorter than its Content-Length, and a response that is not multipart or has no boundary', () => {
    const raw = body('x', [{ headers: 'Content-Length: 99', data: binary(10) }]);
    expect(codeOf(() => parseMultipart('multipart/related; boundary=x', raw))).toBe('PACS_BAD_RESPONSE');
    expect(codeOf(() => parseMultipart('application/json', raw))).toBe('PACS_BAD_RESPONSE');
    expect(codeOf(() => parseMultipart('multipart/related; type="application/dicom"', raw))).toBe('PACS_BAD_RESPONSE');
  });
});

describe('buildMultipart', () => {
  it('round-trips through parseMultipart with a boundary absent from every part', () => {
    const files = [binary(5000), Buffer.alloc(0), binary(77, 1)];
    const { contentType, body: raw } = buildMultipart(
      files.map((f) => ({ contentType: 'application/dicom', body: new Uint8Array(f) })),
      'application/dicom',
    );
    const boundary = parseMediaType(contentType).params.boundary!;
    expect(files.some((f) => f.includes(boundary))).toBe(false);
    const parts = parseMultipart(contentType, raw);
    expect(parts.map((p) => Buffer.compare(p.body, files[parts.indexOf(p)]!))).toEqual([0, 0, 0]);
    expect(parseMediaType(contentType).params.type).toBe('application/dicom');
  });
});
