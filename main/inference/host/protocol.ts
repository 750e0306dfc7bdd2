// Runs in main and in the inference host process. The typed message protocol between them.
// Messages are structured-clone friendly (typed arrays travel as such under both
// child_process 'advanced' serialization and Electron's utilityProcess).
import { z } from 'zod';
import { ErrorCode, ExecutionProvider } from '../../../preload/api';

export const HostRunRequest = z.object({
  type: z.literal('run'),
  id: z.number().int(),
  modelPath: z.string(),
  inputName: z.string(),
  outputNames: z.array(z.string()).min(1),
  dims: z.array(z.number().int().positive()).length(4),
  /** The NCHW tensor, or with `greyNormalize` only the grey planes [n, h, w] it is made from. */
  data: z.instanceof(Float32Array),
  greyNormalize: z.object({ mean: z.array(z.number()).min(1), std: z.array(z.number().positive()).min(1) }).optional(),
  provider: ExecutionProvider,
  threads: z.number().int().positive(),
});
export type HostRunRequest = z.infer<typeof HostRunRequest>;

export const HostShutdownRequest = z.object({ type: z.literal('shutdown') });
export const HostRequest = z.discriminatedUnion('type', [HostRunRequest, HostShutdownRequest]);
export type HostRequest = z.infer<typeof HostRequest>;

export const HostTensor = z.object({ dims: z.array(z.number().int()), data: z.instanceof(Float32Array) });
export type HostTensor = z.infer<typeof HostTensor>;

export const HostResponse = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready'), pid: z.number().int() }),
  z.object({
    type: z.literal('result'),
    id: z.number().int(),
    outputs: z.record(z.string(), HostTensor),
    providerUsed: z.string(),
    /** Set when the requested provider failed and CPU was used instead. */
    fallbackReason: z.string().optional(),
    runMs: z.number(),
    /** The host's resident memory after the run, so main can enforce its memory bound. */
    rssBytes: z.number().optional(),
  }),
  z.object({ type: z.literal('error'), id: z.number().int(), code: ErrorCode, message: z.string() }),
]);
export type HostResponse = z.infer<typeof HostResponse>;

/** One end of the pipe to a host process; spawned by Node (fork) or Electron (utilityProcess). */
export interface HostChannel {
  postMessage(message: HostRequest): void;
  onMessage(listener: (message: unknown) => void): void;
  onExit(listener: (code: number | null) => void): void;
  kill(): void;
}

export type HostSpawner = () => HostChannel;
