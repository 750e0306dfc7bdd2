// Runs in main (Electron), the browser-mode server and tests. Validates every call against the
// contract, runs its handler and turns any failure into a typed error envelope.
import {
  api,
  isMethodName,
  ResightError,
  type ApiErrorShape,
  type Envelope,
  type MethodName,
  type MethodOutput,
  type MethodParsedInput,
} from '../../preload/api';

export interface CallContext {
  frontDoor: 'electron' | 'browser' | 'cli';
  /** The reader the write is attributed to. */
  reader: string;
}

export type Handlers = {
  [M in MethodName]: (input: MethodParsedInput<M>, ctx: CallContext) => Promise<MethodOutput<M>>;
};

export type Logger = (line: string) => void;

export function toErrorShape(err: unknown, log?: Logger): ApiErrorShape {
  if (err instanceof ResightError) return { code: err.code, message: err.message };
  // Unknown errors may carry file paths or tag values (patient names): log the class, the system
  // code and where in our code it happened, never the message.
  if (err instanceof Error) {
    const sysCode = (err as { code?: unknown }).code;
    const frame = err.stack?.split('\n').find((l) => l.trim().startsWith('at '))?.trim().replace(/\(.*[\\/]/, '(') ?? '';
    log?.(`internal error: ${err.name}${typeof sysCode === 'string' ? ` ${sysCode}` : ''} ${frame}`);
  } else log?.(`internal error: ${typeof err}`);
  return {
    code: 'INTERNAL',
    message: 'Resight hit an unexpected problem with this request. Your saved work is safe; try again, and report it if it repeats.',
  };
}

export async function dispatch(
  handlers: Handlers,
  method: unknown,
  rawInput: unknown,
  ctx: CallContext,
  log?: Logger,
): Promise<Envelope<unknown>> {
  if (!isMethodName(method)) {
    return { ok: false, error: { code: 'UNKNOWN_METHOD', message: 'This version of Resight does not offer that action.' } };
  }
  const spec = api[method];
  const parsed = spec.input.safeParse(rawInput ?? {});
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    const where = first && first.path.length ? ` (${first.path.join('.')})` : '';
    return {
      ok: false,
      error: { code: 'INVALID_ARGUMENT', message: `The request was not understood${where}: ${first?.message ?? 'invalid input'}.` },
    };
  }
  try {
    const handler = handlers[method] as (input: unknown, ctx: CallContext) => Promise<unknown>;
    const value = await handler(parsed.data, ctx);
    return { ok: true, value: value as MethodOutput<typeof method> };
  } catch (err) {
    return { ok: false, error: toErrorShape(err, log) };
  }
}
