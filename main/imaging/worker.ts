// Runs in a decode worker thread (dist/imaging/decode-worker.cjs). Reads, hashes, parses and
// decodes one DICOM file per request, so the main thread never runs a codec.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parentPort } from 'node:worker_threads';
import { ResightError } from '../../preload/api';
import { CodecCrash, wasmModule, type WasmCodec } from './codecs';
import { decodeDicom, decodeDicomForSize } from './image';
import type { WarmReply, WarmRequest, WorkerReply, WorkerRequest } from './pool';

const WASM_CODECS: WasmCodec[] = ['openjpeg', 'openjph', 'charls', 'libjpeg'];

/** A bundled synthetic JPEG 2000 radiograph (assets/codec-warmup, copied here by the build). */
const WARMUP_FILE = path.join(__dirname, 'codec-warmup.j2k.dcm');

if (!parentPort) throw new Error('decode-worker must run as a worker thread');
const port = parentPort;

port.on('message', (req: WorkerRequest | WarmRequest) => {
  if ('warm' in req) void warm();
  else void handle(req);
});

/**
 * Compiles the codecs, then decodes a JPEG 2000 radiograph twice, reduced and in full. V8 first
 * runs WebAssembly unoptimised and optimises a function only once it has run a while, so without
 * these decodes a reader's first JPEG 2000 film opened at about half speed (~100 ms more).
 */
async function warm(): Promise<void> {
  await Promise.all(WASM_CODECS.map((c) => wasmModule(c).catch(() => undefined)));
  const bytes = await readFile(WARMUP_FILE).catch(() => undefined);
  let warmed = 0;
  if (bytes) {
    const encoded = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const ok = () => warmed++;
    for (let i = 0; i < 2; i++) {
      await decodeDicomForSize(encoded, { width: 128, height: 128 }).then(ok, () => undefined);
      await decodeDicom(encoded).then(ok, () => undefined);
    }
  }
  port.postMessage({ warmed } satisfies WarmReply);
}

async function handle(req: WorkerRequest): Promise<void> {
  try {
    const bytes = await readFile(req.path).then(
      (b) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength),
      () => {
        throw new ResightError('FILE_NOT_FOUND', 'The file could not be read. Check that it still exists and that you may open it.');
      },
    );
    // WebCrypto hashes on libuv's thread pool, so the hash of a large file overlaps its decode here.
    const digest = crypto.subtle.digest('SHA-256', bytes);
    const decoded = req.sized ? await decodeDicomForSize(bytes, req.sized.target, req.sized.frame, req.maxImageBytes) : await decodeDicom(bytes, req.maxImageBytes);
    const sha256 = Buffer.from(await digest).toString('hex');
    const buffers = new Set<ArrayBuffer>();
    for (const f of 'pixels' in decoded ? [decoded.pixels] : [...decoded.stored, ...decoded.display]) buffers.add(f.buffer as ArrayBuffer);
    const reply: WorkerReply = { id: req.id, ok: true, sha256, ...decoded };
    port.postMessage(reply, [...buffers]);
  } catch (err) {
    if (err instanceof ResightError) {
      port.postMessage({ id: req.id, ok: false, code: err.code, message: err.message } satisfies WorkerReply);
      return;
    }
    // Anything else came from a codec or a bug on hostile input: report it typed, and ask to be
    // replaced when WebAssembly state may be damaged.
    const fatal = err instanceof CodecCrash || (err instanceof Error && err.name === 'RuntimeError') || err instanceof RangeError;
    port.postMessage({
      id: req.id,
      ok: false,
      code: 'DECODE_FAILED',
      message: 'The image data in this file is damaged and could not be decoded. Ask for the study to be sent again.',
      fatal,
    } satisfies WorkerReply);
  }
}
