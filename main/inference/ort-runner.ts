// Runs in the inference host process, and in the CLI (which has no UI loop to keep free).
// Owns onnxruntime-node sessions, cached per model file, provider and thread count. Never imported
// by Electron's main process: session.run blocks the calling thread.
import * as ort from 'onnxruntime-node';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { ResightError, type ExecutionProvider } from '../../preload/api';
import type { HostRunRequest, HostTensor } from './host/protocol';
import { channelsFromGrey } from './preprocess';
import { gpuProvidersFor } from './providers';

export interface RunOutcome {
  outputs: Record<string, HostTensor>;
  providerUsed: string;
  fallbackReason?: string;
  runMs: number;
}

/** Where onnxruntime-node keeps a provider's shared library on Linux (e.g. after the CUDA opt-in). */
function providerLibrary(name: string): string | undefined {
  // The bundles are CommonJS; under an ESM test runner there is no require and auto keeps to bundled providers.
  if (typeof require !== 'function') return undefined;
  const root = path.dirname(require.resolve('onnxruntime-node/package.json'));
  return path.join(root, 'bin', 'napi-v6', process.platform, process.arch, `libonnxruntime_providers_${name}.so`);
}

interface CachedSession {
  session: ort.InferenceSession;
  providerUsed: string;
  fallbackReason?: string;
}

export class OrtRunner {
  private readonly sessions = new Map<string, Promise<CachedSession>>();

  private async create(modelPath: string, provider: ExecutionProvider, threads: number): Promise<CachedSession> {
    const base: ort.InferenceSession.SessionOptions = { intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all' };
    const supported = ort.listSupportedBackends();
    const backends = new Set(supported.map((b) => b.name));
    // auto only tries what this install ships (CUDA is an opt-in download): asking a missing
    // provider library to load fills the log with errors for nothing.
    const shipped = new Set(supported.filter((b) => b.bundled || existsSync(providerLibrary(b.name) ?? '')).map((b) => b.name));
    const wanted =
      provider === 'auto' ? gpuProvidersFor(process.platform).filter((p) => shipped.has(p)) : provider === 'cpu' ? [] : [provider];
    const failures: string[] = [];
    for (const name of wanted) {
      if (!backends.has(name)) {
        failures.push(`${name} is not available in this build`);
        continue;
      }
      try {
        const session = await ort.InferenceSession.create(modelPath, { ...base, executionProviders: [name] });
        return { session, providerUsed: name };
      } catch (err) {
        failures.push(`${name} could not start (${err instanceof Error ? err.message.split('\n')[0]!.slice(0, 160) : 'unknown error'})`);
      }
    }
    try {
      const session = await ort.InferenceSession.create(modelPath, { ...base, executionProviders: ['cpu'] });
      // Asking for auto and landing on CPU is not a failure worth a notice; asking for a GPU is.
      return { session, providerUsed: 'cpu', ...(provider !== 'auto' && provider !== 'cpu' ? { fallbackReason: failures.join('; ') } : {}) };
    } catch {
      throw new ResightError('MODEL_FILE_INVALID', 'The model file could not be loaded by the inference engine; it may be damaged or not an ONNX model.');
    }
  }

  private session(modelPath: string, provider: ExecutionProvider, threads: number): Promise<CachedSession> {
    const key = `${modelPath}\0${provider}\0${threads}`;
    let cached = this.sessions.get(key);
    if (!cached) {
      cached = this.create(modelPath, provider, threads);
      this.sessions.set(key, cached);
      cached.catch(() => this.sessions.delete(key));
    }
    return cached;
  }

  async run(req: Omit<HostRunRequest, 'type' | 'id'>): Promise<RunOutcome> {
    const { session, providerUsed, fallbackReason } = await this.session(req.modelPath, req.provider, req.threads);
    const [n, c, h, w] = req.dims as [number, number, number, number];
    if (req.data.length !== n * (req.greyNormalize ? 1 : c) * h * w) throw new ResightError('INVALID_ARGUMENT', 'The input tensor does not have the size the model expects.');
    const data = req.greyNormalize ? channelsFromGrey(req.data, n, c, req.greyNormalize) : req.data;
    const feeds = { [req.inputName]: new ort.Tensor('float32', data, req.dims) };
    const started = performance.now();
    let results: ort.InferenceSession.ReturnType;
    try {
      results = await session.run(feeds, req.outputNames);
    } catch (err) {
      throw new ResightError('INFERENCE_FAILED', `The model could not analyse this input (${err instanceof Error ? err.message.split('\n')[0]!.slice(0, 160) : 'unknown error'}).`);
    }
    const runMs = performance.now() - started;
    const outputs: Record<string, HostTensor> = {};
    for (const name of req.outputNames) {
      const t = results[name];
      if (!t || t.type !== 'float32') throw new ResightError('MODEL_FILE_INVALID', `The model did not produce the float output "${name}" its card declares.`);
      outputs[name] = { dims: t.dims.map(Number), data: t.data as Float32Array<ArrayBuffer> };
    }
    return { outputs, providerUsed, ...(fallbackReason ? { fallbackReason } : {}), runMs };
  }

  async release(): Promise<void> {
    const all = [...this.sessions.values()];
    this.sessions.clear();
    await Promise.allSettled(all.map(async (p) => (await p).session.release()));
  }
}
