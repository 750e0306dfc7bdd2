// Runs in the decode worker (and tests). Sequential DCT JPEG with Huffman coding (ITU T.81
// processes 1, 2 and 4) written from the standard, for the 12-bit samples of DICOM transfer syntax
// 1.2.840.10008.1.2.4.51 that no maintained package decodes. 8-bit streams decode too, but the
// product keeps those on libjpeg-turbo.
import { ResightError } from '../../preload/api';
import { corrupt, type CodecOutput } from './codecs';

/** T.81 figure A.6: zig-zag index → row-major position in the 8 × 8 block. */
const ZIGZAG = Uint8Array.of(
  0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30,
  37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
);

/** cos(nπ / 16) / 2: the IDCT's basis values (T.81 A.3.3), K4 also being C(0) / 2. */
const K1 = Math.cos(Math.PI / 16) / 2;
const K2 = Math.cos((2 * Math.PI) / 16) / 2;
const K3 = Math.cos((3 * Math.PI) / 16) / 2;
const K4 = Math.cos((4 * Math.PI) / 16) / 2;
const K5 = Math.cos((5 * Math.PI) / 16) / 2;
const K6 = Math.cos((6 * Math.PI) / 16) / 2;
const K7 = Math.cos((7 * Math.PI) / 16) / 2;

/** Largest frame decoded (samples over all components): 1 GiB of 16-bit planes. */
const MAX_SAMPLES = 2 ** 29;
const LOOKUP_BITS = 9;

const unsupported = (what: string): ResightError =>
  new ResightError(
    'DECODE_FAILED',
    `This image's JPEG data uses ${what}, which JPEG Extended (transfer syntax 1.2.840.10008.1.2.4.51) does not allow and Resight cannot decode. Ask for the study to be sent again, e.g. as JPEG Lossless or JPEG 2000.`,
  );

interface Huffman {
  /** Codes up to LOOKUP_BITS long, indexed by the next LOOKUP_BITS bits: length << 8 | symbol, 0 if longer. */
  lookup: Uint16Array;
  /** T.81 F.2.2.3 MAXCODE / MINCODE / VALPTR per code length (index 1..16); maxcode -1 where none. */
  maxcode: Int32Array;
  mincode: Int32Array;
  valptr: Int32Array;
  values: Uint8Array;
}

/** T.81 annex C: canonical codes from BITS and HUFFVAL. */
function buildHuffman(counts: Uint8Array, values: Uint8Array): Huffman {
  const lookup = new Uint16Array(1 << LOOKUP_BITS);
  const maxcode = new Int32Array(17).fill(-1);
  const mincode = new Int32Array(17);
  const valptr = new Int32Array(17);
  let code = 0;
  let k = 0;
  for (let len = 1; len <= 16; len++) {
    const n = counts[len - 1]!;
    valptr[len] = k;
    mincode[len] = code;
    for (let i = 0; i < n; i++, k++, code++) {
      if (len <= LOOKUP_BITS) {
        const spread = LOOKUP_BITS - len;
        const first = code << spread;
        lookup.fill((len << 8) | values[k]!, first, first + (1 << spread));
      }
    }
    if (n > 0) maxcode[len] = code - 1;
    // No code may be all ones, so the codes of each length must leave one unused.
    if (code >= 1 << len) throw corrupt();
    code <<= 1;
  }
  return { lookup, maxcode, mincode, valptr, values };
}

/** Entropy-coded bits, with stuffed zero bytes removed; reads zeros past a marker or the end. */
class BitReader {
  acc = 0;
  count = 0;
  /** Zero bits appended after the data stopped: consuming any means the scan was truncated. */
  padding = 0;

  constructor(
    private readonly data: Uint8Array,
    public pos: number,
  ) {}

  fill(): void {
    const d = this.data;
    while (this.count <= 24) {
      let byte = 0;
      if (this.padding === 0 && this.pos < d.length) {
        byte = d[this.pos]!;
        if (byte !== 0xff) this.pos++;
        else if (this.pos + 1 < d.length && d[this.pos + 1] === 0) this.pos += 2;
        else {
          // A marker (or fill bytes before one): the segment's data ends here.
          byte = 0;
          this.padding = 8;
        }
      } else this.padding += 8;
      this.acc = (this.acc << 8) | byte;
      this.count += 8;
    }
  }

  /** Whether more bits were consumed than the stream held. */
  overran(): boolean {
    return this.count < this.padding;
  }

  reset(pos: number): void {
    this.acc = 0;
    this.count = 0;
    this.padding = 0;
    this.pos = pos;
  }

  /** T.81 F.2.2.3 DECODE. */
  symbol(h: Huffman): number {
    if (this.count < 16) this.fill();
    const e = h.lookup[(this.acc >>> (this.count - LOOKUP_BITS)) & ((1 << LOOKUP_BITS) - 1)]!;
    if (e !== 0) {
      this.count -= e >> 8;
      return e & 0xff;
    }
    for (let len = LOOKUP_BITS + 1; len <= 16; len++) {
      const code = (this.acc >>> (this.count - len)) & ((1 << len) - 1);
      if (code <= h.maxcode[len]!) {
        this.count -= len;
        return h.values[h.valptr[len]! + code - h.mincode[len]!]!;
      }
    }
    throw corrupt();
  }

  /** T.81 F.2.2.1 RECEIVE then EXTEND: an s-bit magnitude category as a signed value (s ≤ 16). */
  signed(s: number): number {
    if (this.count < s) this.fill();
    const v = (this.acc >>> (this.count - s)) & ((1 << s) - 1);
    this.count -= s;
    return v < 1 << (s - 1) ? v - (1 << s) + 1 : v;
  }
}

interface Component {
  id: number;
  h: number;
  v: number;
  tq: number;
  /** Blocks per row and rows of blocks the plane holds (whole MCUs when the frame interleaves). */
  blocksWide: number;
  blocksHigh: number;
  /** Blocks a scan of this component alone codes (T.81 A.2.2: no MCU padding). */
  ownWide: number;
  ownHigh: number;
  plane: Uint16Array;
  decoded: boolean;
}

interface Frame {
  precision: number;
  width: number;
  height: number;
  hmax: number;
  vmax: number;
  mcusWide: number;
  mcusHigh: number;
  components: Component[];
}

function readFrame(d: Uint8Array, at: number, end: number): Frame {
  const count = d[at + 5]!;
  if (end - at !== 6 + 3 * count) throw corrupt();
  const precision = d[at]!;
  const height = (d[at + 1]! << 8) | d[at + 2]!;
  const width = (d[at + 3]! << 8) | d[at + 4]!;
  if (precision !== 8 && precision !== 12) throw unsupported(`${precision}-bit samples`);
  // A height of 0 defers it to a DNL marker after the first scan, which no DICOM encoder writes.
  if (height === 0) throw unsupported('a DNL marker for the image height');
  if (width === 0 || count < 1 || count > 4) throw corrupt();
  const components: Component[] = [];
  for (let i = 0; i < count; i++) {
    const p = at + 6 + 3 * i;
    const id = d[p]!;
    // One component has one block per MCU whatever factors it declares (T.81 A.2.2).
    const h = count === 1 ? 1 : d[p + 1]! >> 4;
    const v = count === 1 ? 1 : d[p + 1]! & 15;
    const tq = d[p + 2]!;
    if (h < 1 || h > 4 || v < 1 || v > 4 || tq > 3 || components.some((c) => c.id === id)) throw corrupt();
    components.push({ id, h, v, tq, blocksWide: 0, blocksHigh: 0, ownWide: 0, ownHigh: 0, plane: new Uint16Array(0), decoded: false });
  }
  const hmax = Math.max(...components.map((c) => c.h));
  const vmax = Math.max(...components.map((c) => c.v));
  const mcusWide = Math.ceil(width / (8 * hmax));
  const mcusHigh = Math.ceil(height / (8 * vmax));
  let blocks = 0;
  for (const c of components) {
    c.blocksWide = mcusWide * c.h;
    c.blocksHigh = mcusHigh * c.v;
    c.ownWide = Math.ceil(Math.ceil((width * c.h) / hmax) / 8);
    c.ownHigh = Math.ceil(Math.ceil((height * c.v) / vmax) / 8);
    blocks += c.blocksWide * c.blocksHigh;
  }
  if (blocks * 64 > MAX_SAMPLES) throw new ResightError('IMAGE_TOO_LARGE', `This image's JPEG data declares ${width} × ${height} pixels, more than Resight decodes.`);
  // Every block costs at least two bits (a DC and an end-of-block code): a header claiming more
  // blocks than the stream can hold is damaged, and is refused before its planes are allocated.
  if (blocks > d.length * 4) throw corrupt();
  for (const c of components) c.plane = new Uint16Array(c.blocksWide * c.blocksHigh * 64);
  return { precision, width, height, hmax, vmax, mcusWide, mcusHigh, components };
}

/**
 * One 8-point IDCT in place on v[i], v[i + step], … v[i + 7 step] (T.81 A.3.3 in one dimension).
 * Outputs x and 7 − x share the even-frequency half and negate the odd one, which halves the work.
 */
function idct8(v: Float64Array, i: number, step: number): void {
  const f0 = v[i]!;
  const f1 = v[i + step]!;
  const f2 = v[i + 2 * step]!;
  const f3 = v[i + 3 * step]!;
  const f4 = v[i + 4 * step]!;
  const f5 = v[i + 5 * step]!;
  const f6 = v[i + 6 * step]!;
  const f7 = v[i + 7 * step]!;
  const p = K4 * (f0 + f4);
  const m = K4 * (f0 - f4);
  const q = K2 * f2 + K6 * f6;
  const r = K6 * f2 - K2 * f6;
  const e0 = p + q;
  const e1 = m + r;
  const e2 = m - r;
  const e3 = p - q;
  const o0 = K1 * f1 + K3 * f3 + K5 * f5 + K7 * f7;
  const o1 = K3 * f1 - K7 * f3 - K1 * f5 - K5 * f7;
  const o2 = K5 * f1 - K1 * f3 + K7 * f5 + K3 * f7;
  const o3 = K7 * f1 - K5 * f3 + K3 * f5 - K1 * f7;
  v[i] = e0 + o0;
  v[i + step] = e1 + o1;
  v[i + 2 * step] = e2 + o2;
  v[i + 3 * step] = e3 + o3;
  v[i + 4 * step] = e3 - o3;
  v[i + 5 * step] = e2 - o2;
  v[i + 6 * step] = e1 - o1;
  v[i + 7 * step] = e0 - o0;
}

/**
 * Dequantized coefficients (row-major, in `ws`) → samples: a separable floating-point IDCT,
 * level-shifted and clamped (T.81 A.3.1). `columns` has bit u set where column u holds a nonzero
 * coefficient below the first row. The column pass is rounded to `grid` steps per unit, the
 * precision libjpeg's accurate integer IDCT (what dcmtk and GDCM decode with) keeps between its
 * passes, and the result to the nearest integer as it does: this halves the samples that differ.
 */
function idct(ws: Float64Array, columns: number, plane: Uint16Array, at: number, stride: number, shift: number, max: number, grid: number): void {
  for (let u = 0; u < 8; u++) {
    if ((columns & (1 << u)) === 0) {
      const dc = ws[u]! * K4;
      for (let y = 0; y < 64; y += 8) ws[y + u] = dc;
      continue;
    }
    idct8(ws, u, 8);
    for (let y = 0; y < 64; y += 8) ws[y + u] = Math.round(ws[y + u]! * grid) / grid;
  }
  // Adding the level shift and a half before truncating rounds half up; negatives clamp to 0 either way.
  const bias = shift + 0.5;
  for (let y = 0; y < 8; y++) {
    idct8(ws, y * 8, 1);
    const o = at + y * stride;
    for (let x = 0; x < 8; x++) {
      const v = Math.floor(ws[y * 8 + x]! + bias);
      plane[o + x] = v < 0 ? 0 : v > max ? max : v;
    }
  }
}

interface ScanComponent {
  c: Component;
  dc: Huffman;
  ac: Huffman;
  q: Uint16Array;
  pred: number;
}

/** Decodes one scan's entropy-coded data from `pos`; returns where the marker after it starts. */
function decodeScan(d: Uint8Array, pos: number, frame: Frame, scan: ScanComponent[], restartInterval: number): number {
  const reader = new BitReader(d, pos);
  const ws = new Float64Array(64);
  const shift = 1 << (frame.precision - 1);
  const max = (1 << frame.precision) - 1;
  // DC differences take categories up to 11 (8-bit) or 15 (12-bit), T.81 F.1.2.1.1; larger is damage.
  const maxCategory = frame.precision + 3;
  const grid = 2 * Math.SQRT2 * (frame.precision === 8 ? 4 : 2);

  const block = (sc: ScanComponent, row: number, col: number): void => {
    const { dc, ac, q } = sc;
    const s = reader.symbol(dc);
    if (s > maxCategory) throw corrupt();
    if (s !== 0) sc.pred += reader.signed(s);
    ws.fill(0);
    ws[0] = sc.pred * q[0]!;
    let anyAc = false;
    let columns = 0;
    for (let k = 1; k < 64; ) {
      const rs = reader.symbol(ac);
      const size = rs & 15;
      if (size === 0) {
        if (rs !== 0xf0) break; // end of block
        k += 16; // sixteen zeros
        continue;
      }
      k += rs >> 4;
      if (k > 63) throw corrupt();
      const z = ZIGZAG[k]!;
      ws[z] = reader.signed(size) * q[k]!;
      anyAc = true;
      if (z >= 8) columns |= 1 << (z & 7);
      k++;
    }
    const { plane, blocksWide } = sc.c;
    const stride = blocksWide * 8;
    const at = row * 8 * stride + col * 8;
    if (!anyAc) {
      // A flat block: the DC term alone is the mean, coefficient / 8 (T.81 A.3.3).
      const v0 = Math.round(ws[0]! / 8) + shift;
      const v = v0 < 0 ? 0 : v0 > max ? max : v0;
      for (let y = 0; y < 8; y++) plane.fill(v, at + y * stride, at + y * stride + 8);
    } else idct(ws, columns, plane, at, stride, shift, max, grid);
  };

  let restarts = 0;
  const restart = (): void => {
    if (reader.overran()) throw corrupt();
    // The marker follows the interval's last byte, possibly after fill bytes 0xFF.
    let p = reader.pos;
    if (d[p] !== 0xff) throw corrupt();
    while (p < d.length && d[p] === 0xff) p++;
    if (p >= d.length || d[p] !== 0xd0 + (restarts & 7)) throw corrupt();
    restarts++;
    reader.reset(p + 1);
    for (const sc of scan) sc.pred = 0;
  };

  let mcu = 0;
  if (scan.length === 1) {
    const sc = scan[0]!;
    for (let row = 0; row < sc.c.ownHigh; row++) {
      for (let col = 0; col < sc.c.ownWide; col++, mcu++) {
        if (restartInterval > 0 && mcu > 0 && mcu % restartInterval === 0) restart();
        block(sc, row, col);
      }
      // Fail early on a truncated stream instead of decoding the rest from zero bits.
      if (reader.overran()) throw corrupt();
    }
  } else {
    for (let mrow = 0; mrow < frame.mcusHigh; mrow++) {
      for (let mcol = 0; mcol < frame.mcusWide; mcol++, mcu++) {
        if (restartInterval > 0 && mcu > 0 && mcu % restartInterval === 0) restart();
        for (const sc of scan) {
          const { h, v } = sc.c;
          for (let by = 0; by < v; by++) for (let bx = 0; bx < h; bx++) block(sc, mrow * v + by, mcol * h + bx);
        }
      }
      if (reader.overran()) throw corrupt();
    }
  }
  for (const sc of scan) sc.c.decoded = true;
  return reader.pos;
}

/** Whether three components are YCbCr, by the rules libjpeg applies (JFIF, Adobe APP14, component ids). */
function isYCbCr(frame: Frame, jfif: boolean, adobeTransform: number | undefined): boolean {
  if (jfif) return true;
  if (adobeTransform !== undefined) return adobeTransform !== 0;
  const ids = frame.components.map((c) => c.id);
  return !(ids[0] === 0x52 && ids[1] === 0x47 && ids[2] === 0x42); // 'R', 'G', 'B'
}

/** Crops the planes to the image, upsamples subsampled components, interleaves, converts YCbCr. */
function assemble(frame: Frame, ycc: boolean): Uint16Array {
  const { width, height, hmax, vmax, components } = frame;
  const n = components.length;
  const out = new Uint16Array(width * height * n);
  for (let ci = 0; ci < n; ci++) {
    const c = components[ci]!;
    const stride = c.blocksWide * 8;
    const full = c.h === hmax && c.v === vmax;
    for (let y = 0; y < height; y++) {
      const src = (full ? y : Math.floor((y * c.v) / vmax)) * stride;
      let o = y * width * n + ci;
      if (full) for (let x = 0; x < width; x++, o += n) out[o] = c.plane[src + x]!;
      // Nearest-sample upsampling: 12-bit colour is rare enough not to need libjpeg's smoothing.
      else for (let x = 0; x < width; x++, o += n) out[o] = c.plane[src + Math.floor((x * c.h) / hmax)]!;
    }
  }
  if (n === 3 && ycc) {
    // T.871 (JFIF) YCbCr → RGB, with the chroma offset at half the range as for 8 bits.
    const centre = 1 << (frame.precision - 1);
    const max = (1 << frame.precision) - 1;
    const clamp = (v: number): number => (v < 0 ? 0 : v > max ? max : v);
    for (let i = 0; i < out.length; i += 3) {
      const y = out[i]!;
      const cb = out[i + 1]! - centre;
      const cr = out[i + 2]! - centre;
      out[i] = clamp(Math.round(y + 1.402 * cr));
      out[i + 1] = clamp(Math.round(y - 0.344136286 * cb - 0.714136286 * cr));
      out[i + 2] = clamp(Math.round(y + 1.772 * cb));
    }
  }
  return out;
}

/**
 * Decodes a sequential DCT, Huffman-coded JPEG stream (baseline or extended, 8- or 12-bit) to
 * 16-bit samples, interleaved. Progressive, lossless, arithmetic-coded and hierarchical streams are
 * refused; a damaged or truncated stream throws DECODE_FAILED.
 */
export function decodeJpegExtended(d: Uint8Array): CodecOutput {
  if (d.length < 4 || d[0] !== 0xff || d[1] !== 0xd8) throw corrupt();
  const quant: Array<Uint16Array | undefined> = [];
  const dcTables: Array<Huffman | undefined> = [];
  const acTables: Array<Huffman | undefined> = [];
  let frame: Frame | undefined;
  let restartInterval = 0;
  let jfif = false;
  let adobeTransform: number | undefined;
  let pos = 2;
  // Each pass moves past at least one marker byte, so the loop ends with the data.
  while (pos < d.length) {
    if (d[pos] !== 0xff) throw corrupt();
    while (pos < d.length && d[pos] === 0xff) pos++;
    if (pos >= d.length) break;
    const marker = d[pos++]!;
    if (marker === 0xd9) break; // EOI: anything after it is padding
    if ((marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) continue; // RSTn, TEM: no length
    if (marker === 0x00 || marker === 0xd8) throw corrupt();
    if (pos + 2 > d.length) throw corrupt();
    const length = (d[pos]! << 8) | d[pos + 1]!;
    const at = pos + 2;
    const end = pos + length;
    if (length < 2 || end > d.length) throw corrupt();
    pos = end;
    switch (marker) {
      case 0xc0:
      case 0xc1:
        if (frame) throw unsupported('more than one frame (hierarchical coding)');
        frame = readFrame(d, at, end);
        break;
      case 0xc2:
      case 0xc6:
      case 0xca:
      case 0xce:
        throw unsupported('progressive coding');
      case 0xc3:
      case 0xc7:
      case 0xcb:
      case 0xcf:
        throw unsupported('lossless coding');
      case 0xc5:
      case 0xde:
      case 0xdf:
        throw unsupported('hierarchical coding');
      case 0xc9:
      case 0xcc:
      case 0xcd:
        throw unsupported('arithmetic coding');
      case 0xdc:
        throw unsupported('a DNL marker for the image height');
      case 0xdb:
        for (let p = at; p < end; ) {
          const pq = d[p]! >> 4;
          const tq = d[p]! & 15;
          const size = pq === 0 ? 64 : 128;
          if (pq > 1 || tq > 3 || p + 1 + size > end) throw corrupt();
          const table = new Uint16Array(64);
          for (let k = 0; k < 64; k++) table[k] = pq === 0 ? d[p + 1 + k]! : (d[p + 1 + 2 * k]! << 8) | d[p + 2 + 2 * k]!;
          quant[tq] = table;
          p += 1 + size;
        }
        break;
      case 0xc4:
        for (let p = at; p < end; ) {
          const tc = d[p]! >> 4;
          const th = d[p]! & 15;
          if (tc > 1 || th > 3 || p + 17 > end) throw corrupt();
          const counts = d.subarray(p + 1, p + 17);
          let total = 0;
          for (const n of counts) total += n;
          if (total > 256 || p + 17 + total > end) throw corrupt();
          (tc === 0 ? dcTables : acTables)[th] = buildHuffman(counts, d.slice(p + 17, p + 17 + total));
          p += 17 + total;
        }
        break;
      case 0xdd:
        if (length !== 4) throw corrupt();
        restartInterval = (d[at]! << 8) | d[at + 1]!;
        break;
      case 0xda: {
        if (!frame) throw corrupt();
        const count = d[at]!;
        if (count < 1 || count > 4 || length !== 6 + 2 * count) throw corrupt();
        const scan: ScanComponent[] = [];
        for (let i = 0; i < count; i++) {
          const id = d[at + 1 + 2 * i]!;
          const c = frame.components.find((x) => x.id === id);
          const dc = dcTables[d[at + 2 + 2 * i]! >> 4];
          const ac = acTables[d[at + 2 + 2 * i]! & 15];
          const q = c && quant[c.tq];
          if (!c || !dc || !ac || !q || scan.some((s) => s.c === c)) throw corrupt();
          scan.push({ c, dc, ac, q, pred: 0 });
        }
        // T.81 A.2.3: an interleaved MCU holds at most ten blocks.
        if (count > 1 && scan.reduce((n, s) => n + s.c.h * s.c.v, 0) > 10) throw corrupt();
        const p = at + 1 + 2 * count;
        // Sequential scans code the whole spectrum at full precision (T.81 B.2.3).
        if (d[p] !== 0 || d[p + 1] !== 63 || d[p + 2] !== 0) throw corrupt();
        pos = decodeScan(d, end, frame, scan, restartInterval);
        break;
      }
      case 0xe0:
        if (length >= 7 && d[at] === 0x4a && d[at + 1] === 0x46 && d[at + 2] === 0x49 && d[at + 3] === 0x46 && d[at + 4] === 0) jfif = true;
        break;
      case 0xee:
        if (length >= 14 && d[at] === 0x41 && d[at + 1] === 0x64 && d[at + 2] === 0x6f && d[at + 3] === 0x62 && d[at + 4] === 0x65) adobeTransform = d[at + 11];
        break;
      default:
        break; // APPn, COM and reserved segments carry nothing the samples need
    }
  }
  // A missing EOI is tolerated (some encoders omit it) but every component must have been coded.
  if (!frame || frame.components.some((c) => !c.decoded)) throw corrupt();
  const samples = assemble(frame, isYCbCr(frame, jfif, adobeTransform));
  return {
    width: frame.width,
    height: frame.height,
    components: frame.components.length,
    bytesPerSample: 2,
    signed: false,
    bits: frame.precision,
    bytes: new Uint8Array(samples.buffer, samples.byteOffset, samples.byteLength),
  };
}
