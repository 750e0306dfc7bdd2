// Runs in the renderer. Picks the transport once and offers `call`, which unwraps an envelope into
// its value (checked against the contract's output schema) or throws an ApiError.
import {
  api,
  ApiErrorShape,
  type EventName,
  type EventPayload,
  type MethodInput,
  type MethodName,
  type MethodOutput,
  type ResightBridge,
} from '../../preload/api';
import { ApiError, UNEXPECTED_REPLY } from './errors';
import { HttpBridge, takeToken } from './http';

/** What the Electron preload exposes as window.resight. */
export interface ElectronBridge extends ResightBridge {
  /** Shows the native open dialog; the chosen path, or null when cancelled. */
  openFileDialog(): Promise<string | null>;
  /** Menu items that ask the page to act (e.g. 'open-file'). */
  onMenuCommand(listener: (command: string) => void): () => void;
}

declare global {
  interface Window {
    resight?: ElectronBridge;
  }
}

export type FrontDoor = 'electron' | 'browser';

export interface Transport {
  frontDoor: FrontDoor;
  bridge: ResightBridge;
  openFileDialog?: () => Promise<string | null>;
  onMenuCommand?: (listener: (command: string) => void) => () => void;
}

function pickTransport(): Transport {
  const electron = window.resight;
  if (electron) {
    return {
      frontDoor: 'electron',
      bridge: electron,
      openFileDialog: () => electron.openFileDialog(),
      onMenuCommand: (listener) => electron.onMenuCommand(listener),
    };
  }
  // Without a token every call answers FORBIDDEN, which the UI shows as a notice with its sentence.
  return { frontDoor: 'browser', bridge: new HttpBridge(takeToken() ?? '') };
}

let transport: Transport | null = null;

export function getTransport(): Transport {
  transport ??= pickTransport();
  return transport;
}

/** Replaces the transport (tests). */
export function setTransport(t: Transport): void {
  transport = t;
}

/** Checks an envelope at the boundary: a malformed reply is an error, never a half-trusted value. */
export function unwrap<M extends MethodName>(method: M, envelope: unknown): MethodOutput<M> {
  if (typeof envelope !== 'object' || envelope === null || !('ok' in envelope)) throw new ApiError(UNEXPECTED_REPLY);
  if (envelope.ok === true && 'value' in envelope) {
    const parsed = api[method].output.safeParse(envelope.value);
    if (!parsed.success) throw new ApiError(UNEXPECTED_REPLY);
    return parsed.data as MethodOutput<M>;
  }
  const error = ApiErrorShape.safeParse('error' in envelope ? envelope.error : undefined);
  throw new ApiError(error.success ? error.data : UNEXPECTED_REPLY);
}

export async function call<M extends MethodName>(method: M, input: MethodInput<M>): Promise<MethodOutput<M>> {
  const envelope: unknown = await getTransport().bridge.invoke(method, input);
  return unwrap(method, envelope);
}

export function onEvent<E extends EventName>(name: E, listener: (payload: EventPayload<E>) => void): () => void {
  return getTransport().bridge.on(name, listener);
}
