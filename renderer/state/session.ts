// Runs in the renderer. App-wide facts (which front door, app version, inference host state) and
// the notices shown to the reader.
import { create } from 'zustand';
import type { AppInfo, ErrorCode, EventPayload } from '../../preload/api';
import { ApiError, messageOf } from '../api/errors';
import type { FrontDoor } from '../api/client';

export interface Notice {
  id: number;
  message: string;
  code?: ErrorCode;
  tone: 'error' | 'info';
}

type HostStatus = EventPayload<'inference.hostStatus'>;

interface SessionState {
  frontDoor: FrontDoor | null;
  appInfo: AppInfo | null;
  hostStatus: HostStatus | null;
  notices: Notice[];
  setFrontDoor(frontDoor: FrontDoor): void;
  setAppInfo(info: AppInfo): void;
  setHostStatus(status: HostStatus): void;
  /** Shows the sentence of a failed call (or a generic one for anything else). */
  reportError(err: unknown): void;
  inform(message: string): void;
  dismiss(id: number): void;
}

const MAX_NOTICES = 4;
let nextId = 1;

export const useSession = create<SessionState>()((set) => {
  const push = (notice: Omit<Notice, 'id'>) =>
    set((s) => {
      // The same sentence twice in a row says nothing new; keep one.
      const rest = s.notices.filter((n) => n.message !== notice.message);
      return { notices: [...rest, { ...notice, id: nextId++ }].slice(-MAX_NOTICES) };
    });
  return {
    frontDoor: null,
    appInfo: null,
    hostStatus: null,
    notices: [],
    setFrontDoor: (frontDoor) => set({ frontDoor }),
    setAppInfo: (appInfo) => set({ appInfo }),
    setHostStatus: (hostStatus) => set({ hostStatus }),
    reportError: (err) =>
      push({ message: messageOf(err), tone: 'error', ...(err instanceof ApiError ? { code: err.code } : {}) }),
    inform: (message) => push({ message, tone: 'info' }),
    dismiss: (id) => set((s) => ({ notices: s.notices.filter((n) => n.id !== id) })),
  };
});
