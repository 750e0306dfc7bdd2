// Runs in the inference host process: Electron utilityProcess, or child_process.fork under plain
// Node. Receives run requests, answers with output tensors. One request at a time: session.run
// holds this process's thread, which is the point of having this process.
import { ResightError } from '../../../preload/api';
import { OrtRunner } from '../ort-runner';
import { HostRequest, type HostResponse } from './protocol';

interface ParentPort {
  on(event: 'message', listener: (e: { data: unknown }) => void): void;
  postMessage(message: unknown): void;
}

const parentPort = (process as unknown as { parentPort?: ParentPort }).parentPort;

function send(message: HostResponse): void {
  if (parentPort) parentPort.postMessage(message);
  else process.send?.(message);
}

const runner = new OrtRunner();
let chain = Promise.resolve();

async function handle(raw: unknown): Promise<void> {
  const parsed = HostRequest.safeParse(raw);
  if (!parsed.success) {
    const id = typeof (raw as { id?: unknown })?.id === 'number' ? (raw as { id: number }).id : -1;
    send({ type: 'error', id, code: 'INVALID_ARGUMENT', message: 'The inference engine received a malformed request.' });
    return;
  }
  const req = parsed.data;
  if (req.type === 'shutdown') {
    await runner.release();
    process.exit(0);
  }
  try {
    const outcome = await runner.run(req);
    send({ type: 'result', id: req.id, ...outcome, rssBytes: process.memoryUsage.rss() });
  } catch (err) {
    const shape =
      err instanceof ResightError
        ? { code: err.code, message: err.message }
        : { code: 'INFERENCE_FAILED' as const, message: 'The inference engine failed on this request.' };
    send({ type: 'error', id: req.id, ...shape });
  }
}

const onMessage = (raw: unknown): void => {
  chain = chain.then(() => handle(raw));
};
if (parentPort) parentPort.on('message', (e) => onMessage(e.data));
else process.on('message', onMessage);
process.on('disconnect', () => process.exit(0));
send({ type: 'ready', pid: process.pid });
