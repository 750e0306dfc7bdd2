// Runs in the CLI and tests. NumPy .npy format 1.0 (little endian, C order): what `resight decode`
// writes, and what the tests read back from pydicom's reference arrays.
import type { StoredArray } from './types';

const DTYPES: Array<[string, new (buffer: ArrayBuffer) => StoredArray | Float64Array | BigInt64Array]> = [
  ['|u1', Uint8Array],
  ['|i1', Int8Array],
  ['<u2', Uint16Array],
  ['<i2', Int16Array],
  ['<u4', Uint32Array],
  ['<i4', Int32Array],
  ['<f4', Float32Array],
  ['<f8', Float64Array],
];

function descr(a: StoredArray): string {
  const found = DTYPES.find(([, C]) => a instanceof C);
  if (!found) throw new Error('unsupported array type for .npy');
  return found[0];
}

export function encodeNpy(data: StoredArray, shape: number[]): Buffer {
  const dict = `{'descr': '${descr(data)}', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  // Magic (6) + version (2) + header length (2) + header, padded with spaces to a multiple of 64 and ended by \n.
  const unpadded = 10 + dict.length + 1;
  const header = dict + ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const head = Buffer.alloc(10);
  head.write('\x93NUMPY', 0, 'latin1');
  head[6] = 1;
  head[7] = 0;
  head.writeUInt16LE(header.length, 8);
  // Every platform Node runs Resight on is little-endian, as the '<' in descr says.
  return Buffer.concat([head, Buffer.from(header, 'latin1'), Buffer.from(data.buffer, data.byteOffset, data.byteLength)]);
}

export interface NpyArray {
  descr: string;
  shape: number[];
  data: StoredArray | Float64Array | BigInt64Array;
}

export function decodeNpy(bytes: Uint8Array): NpyArray {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.toString('latin1', 0, 6) !== '\x93NUMPY') throw new Error('not a .npy file');
  const major = buf[6]!;
  const headerLength = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const header = buf.toString('latin1', start, start + headerLength);
  const d = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*True/.test(header);
  const shape = (/'shape':\s*\(([^)]*)\)/.exec(header)?.[1] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map(Number);
  const type = DTYPES.find(([name]) => name === d || name.replace('|', '<') === d || name.replace('<', '|') === d);
  if (!type || fortran) throw new Error(`unsupported .npy array (${d ?? 'no dtype'}${fortran ? ', Fortran order' : ''})`);
  const body = bytes.slice(start + headerLength);
  return { descr: type[0], shape, data: new type[1](body.buffer) };
}
