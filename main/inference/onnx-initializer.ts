// Runs in main, the host, the CLI and tests. Reads one named initializer (a float tensor) from an
// ONNX file by walking the protobuf wire format: ModelProto.graph (7) → GraphProto.initializer (5)
// → TensorProto {dims 1, data_type 2, float_data 4, name 8, raw_data 9, data_location 14}.
// The CAM needs the classifier's weights, which the model file already holds.
import { ResightError } from '../../preload/api';

const WIRE_VARINT = 0;
const WIRE_I64 = 1;
const WIRE_LEN = 2;
const WIRE_I32 = 5;
const ONNX_FLOAT = 1;

export interface FloatTensor {
  name: string;
  dims: number[];
  data: Float32Array;
}

class Reader {
  pos: number;
  constructor(
    readonly buf: Uint8Array,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
  }

  varint(): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new Error('varint past end');
      const b = this.buf[this.pos++]!;
      result += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) return result;
      scale *= 128;
    }
    throw new Error('varint too long');
  }

  /** Returns [start, end) of a length-delimited field's payload and moves past it. */
  span(): [number, number] {
    const len = this.varint();
    const start = this.pos;
    const end = start + len;
    if (end > this.end) throw new Error('field past end');
    this.pos = end;
    return [start, end];
  }

  skip(wire: number): void {
    if (wire === WIRE_VARINT) this.varint();
    else if (wire === WIRE_I64) this.pos += 8;
    else if (wire === WIRE_I32) this.pos += 4;
    else if (wire === WIRE_LEN) this.span();
    else throw new Error(`unsupported wire type ${wire}`);
    if (this.pos > this.end) throw new Error('skip past end');
  }
}

function* fields(buf: Uint8Array, start: number, end: number): Generator<{ field: number; wire: number; r: Reader }> {
  const r = new Reader(buf, start, end);
  while (r.pos < end) {
    const key = r.varint();
    yield { field: Math.floor(key / 8), wire: key % 8, r };
  }
}

function findSpans(buf: Uint8Array, start: number, end: number, field: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (const f of fields(buf, start, end)) {
    if (f.field === field && f.wire === WIRE_LEN) out.push(f.r.span());
    else f.r.skip(f.wire);
  }
  return out;
}

function decodeTensor(buf: Uint8Array, start: number, end: number, wanted: string): FloatTensor | undefined {
  let name = '';
  const dims: number[] = [];
  let dataType = 0;
  let raw: [number, number] | undefined;
  let floats: [number, number] | undefined;
  let external = false;
  for (const f of fields(buf, start, end)) {
    if (f.field === 8 && f.wire === WIRE_LEN) {
      const [s, e] = f.r.span();
      name = new TextDecoder().decode(buf.subarray(s, e));
    } else if (f.field === 1 && f.wire === WIRE_VARINT) dims.push(f.r.varint());
    else if (f.field === 1 && f.wire === WIRE_LEN) {
      const [s, e] = f.r.span();
      const inner = new Reader(buf, s, e);
      while (inner.pos < e) dims.push(inner.varint());
    } else if (f.field === 2 && f.wire === WIRE_VARINT) dataType = f.r.varint();
    else if (f.field === 9 && f.wire === WIRE_LEN) raw = f.r.span();
    else if (f.field === 4 && f.wire === WIRE_LEN) floats = f.r.span();
    else if (f.field === 14 && f.wire === WIRE_VARINT) external = f.r.varint() === 1;
    else f.r.skip(f.wire);
  }
  if (name !== wanted) return undefined;
  if (external) throw new ResightError('MODEL_FILE_INVALID', `The model keeps "${wanted}" in an external data file; Resight needs it inside the .onnx file.`);
  if (dataType !== ONNX_FLOAT) throw new ResightError('MODEL_FILE_INVALID', `The model's "${wanted}" is not a float32 tensor, so heatmaps cannot be computed from it.`);
  const count = dims.reduce((a, b) => a * b, 1);
  const bytes = raw ?? floats;
  if (!bytes || bytes[1] - bytes[0] !== count * 4) {
    throw new ResightError('MODEL_FILE_INVALID', `The model's "${wanted}" holds the wrong amount of data for its shape.`);
  }
  const data = new Float32Array(count);
  const view = new DataView(buf.buffer, buf.byteOffset + bytes[0], count * 4);
  for (let i = 0; i < count; i++) data[i] = view.getFloat32(4 * i, true);
  return { name, dims, data };
}

/** Finds a float initializer by name in the bytes of an ONNX model. */
export function readOnnxInitializer(model: Uint8Array, name: string): FloatTensor {
  let graphs: Array<[number, number]>;
  try {
    graphs = findSpans(model, 0, model.length, 7);
  } catch {
    graphs = [];
  }
  // An ONNX model always has a graph; bytes without one (empty, text, another format) are not ONNX.
  if (graphs.length === 0) throw new ResightError('MODEL_FILE_INVALID', 'The model file is not a valid ONNX model (it has no graph).');
  try {
    for (const [gs, ge] of graphs) {
      for (const [ts, te] of findSpans(model, gs, ge, 5)) {
        const tensor = decodeTensor(model, ts, te, name);
        if (tensor) return tensor;
      }
    }
  } catch (err) {
    if (err instanceof ResightError) throw err;
    throw new ResightError('MODEL_FILE_INVALID', 'The model file is not a valid ONNX model (its structure could not be read).');
  }
  throw new ResightError('MODEL_CARD_INVALID', `The model card names the classifier weight "${name}", but the ONNX file has no initializer of that name.`);
}
