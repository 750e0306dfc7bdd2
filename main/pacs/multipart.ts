// Runs in main, the CLI and tests. multipart/related (RFC 2387) as DICOMweb uses it: WADO-RS
// answers and STOW-RS requests. Binary-safe on Buffers; a body that stops before its closing
// boundary is refused whole, so a cut response never yields a partial instance.
import { randomBytes } from 'node:crypto';
import { ResightError } from '../../preload/api';

export interface MediaType {
  /** Lower-case type/subtype, e.g. `multipart/related`. */
  type: string;
  /** Parameter names lower-cased; values unquoted. */
  params: Record<string, string>;
}

export interface Part {
  headers: Record<string, string>;
  contentType?: MediaType;
  /** The part's transfer-syntax parameter, else the one the whole response declared. */
  transferSyntax?: string;
  body: Buffer;
}

const badResponse = (detail: string): ResightError =>
  new ResightError('PACS_BAD_RESPONSE', `The PACS sent a response that could not be read (${detail}). Try again; if it keeps happening, ask your PACS administrator to check the server.`);

/** Parses `type/subtype; a=b; c="d;e"`, including quoted values with backslash escapes. */
export function parseMediaType(header: string): MediaType {
  const semi = header.indexOf(';');
  const type = (semi < 0 ? header : header.slice(0, semi)).trim().toLowerCase();
  const params: Record<string, string> = {};
  let i = semi < 0 ? header.length : semi + 1;
  while (i < header.length) {
    while (i < header.length && /[\s;]/.test(header[i]!)) i++;
    const eq = header.indexOf('=', i);
    if (eq < 0) break;
    const name = header.slice(i, eq).trim().toLowerCase();
    i = eq + 1;
    while (i < header.length && header[i] === ' ') i++;
    let value = '';
    if (header[i] === '"') {
      i++;
      while (i < header.length && header[i] !== '"') {
        if (header[i] === '\\' && i + 1 < header.length) i++;
        value += header[i];
        i++;
      }
      i++;
      const next = header.indexOf(';', i);
      i = next < 0 ? header.length : next;
    } else {
      const next = header.indexOf(';', i);
      value = (next < 0 ? header.slice(i) : header.slice(i, next)).trim();
      i = next < 0 ? header.length : next;
    }
    if (name) params[name] = value;
  }
  return { type, params };
}

/** The transfer-syntax a media type names, directly or inside its `type` parameter (Orthanc puts it there). */
function transferSyntaxOf(mt: MediaType | undefined): string | undefined {
  if (!mt) return undefined;
  if (mt.params['transfer-syntax']) return mt.params['transfer-syntax'];
  const inner = mt.params.type;
  return inner ? parseMediaType(inner).params['transfer-syntax'] : undefined;
}

function parseHeaders(block: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const line of block.split(/\r?\n/)) {
    if (!line.trim()) continue;
    const colon = line.indexOf(':');
    if (colon <= 0) throw badResponse('a part header is malformed');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return headers;
}

/**
 * Splits a multipart/related body into its parts. Throws PACS_BAD_RESPONSE when the content type
 * has no boundary, the body has no closing delimiter, or a part's Content-Length disagrees.
 */
export function parseMultipart(contentTypeHeader: string, body: Uint8Array): Part[] {
  const outer = parseMediaType(contentTypeHeader);
  if (!outer.type.startsWith('multipart/')) throw badResponse(`expected multipart/related, got ${outer.type || 'no content type'}`);
  const boundary = outer.params.boundary;
  if (!boundary) throw badResponse('the multipart response names no boundary');
  const outerSyntax = transferSyntaxOf(outer);
  const buf = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const delimiter = Buffer.from(`--${boundary}`);
  const crlfDelimiter = Buffer.concat([Buffer.from('\r\n'), delimiter]);
  const lfDelimiter = Buffer.concat([Buffer.from('\n'), delimiter]);

  let pos = buf.indexOf(delimiter);
  if (pos < 0) throw badResponse('the multipart body has no boundary');
  const parts: Part[] = [];
  for (;;) {
    pos += delimiter.length;
    if (buf[pos] === 0x2d && buf[pos + 1] === 0x2d) return parts; // `--boundary--`: the closing delimiter
    // Skip transport padding and the line break after the delimiter.
    while (buf[pos] === 0x20 || buf[pos] === 0x09) pos++;
    if (buf[pos] === 0x0d) pos++;
    if (buf[pos] !== 0x0a) throw badResponse('the multipart body ends inside a part');
    pos++;
    let headerEnd = buf.indexOf('\r\n\r\n', pos);
    let bodyStart = headerEnd + 4;
    // Only a blank LF line before the CRLF one matters; searching on would scan the part's body.
    const lfOnly = headerEnd < 0 ? buf.indexOf('\n\n', pos) : buf.subarray(0, headerEnd).indexOf('\n\n', pos);
    if (lfOnly >= 0) {
      headerEnd = lfOnly;
      bodyStart = lfOnly + 2;
    }
    let headers: Record<string, string>;
    if (buf.subarray(pos, pos + 2).toString() === '\r\n' || buf[pos] === 0x0a) {
      // A part with no headers at all.
      headers = {};
      bodyStart = buf[pos] === 0x0a ? pos + 1 : pos + 2;
    } else {
      if (headerEnd < 0) throw badResponse('the multipart body ends inside a part header');
      headers = parseHeaders(buf.subarray(pos, headerEnd).toString('latin1'));
    }
    let bodyEnd = buf.indexOf(crlfDelimiter, bodyStart);
    if (bodyEnd < 0) bodyEnd = buf.indexOf(lfDelimiter, bodyStart);
    if (bodyEnd < 0) throw badResponse('the multipart body ends before its closing boundary');
    const partBody = buf.subarray(bodyStart, bodyEnd);
    const declared = headers['content-length'];
    if (declared !== undefined && Number(declared) !== partBody.length) throw badResponse('a part is shorter or longer than it declares');
    const contentType = headers['content-type'] ? parseMediaType(headers['content-type']) : undefined;
    parts.push({ headers, contentType, transferSyntax: transferSyntaxOf(contentType) ?? outerSyntax, body: partBody });
    pos = bodyEnd + (buf[bodyEnd] === 0x0d ? 2 : 1);
  }
}

export interface OutgoingPart {
  contentType: string;
  body: Uint8Array;
}

/** Builds a multipart/related body with a boundary that occurs in none of the parts. */
export function buildMultipart(parts: OutgoingPart[], type: string): { contentType: string; body: Buffer } {
  let boundary: string;
  do boundary = `resight-${randomBytes(16).toString('hex')}`;
  while (parts.some((p) => Buffer.from(p.body.buffer, p.body.byteOffset, p.body.byteLength).includes(boundary)));
  const chunks: Buffer[] = [];
  for (const p of parts) {
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Type: ${p.contentType}\r\nContent-Length: ${p.body.byteLength}\r\n\r\n`));
    chunks.push(Buffer.from(p.body.buffer, p.body.byteOffset, p.body.byteLength));
    chunks.push(Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { contentType: `multipart/related; type="${type}"; boundary=${boundary}`, body: Buffer.concat(chunks) };
}
