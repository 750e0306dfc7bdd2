// Types for the codec packages, which ship none for their Node entry points.
interface WasmFrameInfo {
  width: number;
  height: number;
  bitsPerSample: number;
  componentCount: number;
  isSigned?: boolean;
  isUsingColorTransform?: boolean;
}

interface WasmDecoder {
  getEncodedBuffer(length: number): Uint8Array;
  getDecodedBuffer(): Uint8Array;
  decode(): void;
  /** Skips the `level` highest resolution levels (OpenJPEG also takes a quality-layer count; 0 means all). */
  decodeSubResolution?(level: number, layer?: number): void;
  readHeader?(): void;
  getFrameInfo(): WasmFrameInfo;
  delete(): void;
}

interface WasmCodecModule {
  J2KDecoder?: new () => WasmDecoder;
  HTJ2KDecoder?: new () => WasmDecoder;
  HTJ2KEncoder?: new () => WasmEncoder;
  JpegLSDecoder?: new () => WasmDecoder;
  JPEGDecoder?: new () => WasmDecoder;
}

interface WasmEncoder {
  getDecodedBuffer(frameInfo: WasmFrameInfo): Uint8Array;
  getEncodedBuffer(): Uint8Array;
  setQuality?(lossless: boolean, quantizationStep: number): void;
  encode(): void;
  delete(): void;
}

type WasmCodecFactory = (options?: { print?: (s: string) => void; printErr?: (s: string) => void }) => Promise<WasmCodecModule>;

declare module '@cornerstonejs/codec-openjpeg/decodewasmjs' {
  const factory: WasmCodecFactory;
  export default factory;
}
declare module '@cornerstonejs/codec-openjph/wasmjs' {
  const factory: WasmCodecFactory;
  export default factory;
}
declare module '@cornerstonejs/codec-charls/decodewasmjs' {
  const factory: WasmCodecFactory;
  export default factory;
}
declare module '@cornerstonejs/codec-libjpeg-turbo-8bit/decodewasmjs' {
  const factory: WasmCodecFactory;
  export default factory;
}
declare module 'jpeg-lossless-decoder-js' {
  export class Decoder {
    decode(buffer: ArrayBuffer, offset: number, length: number, numBytes: number): Uint8Array | Uint16Array;
  }
}
