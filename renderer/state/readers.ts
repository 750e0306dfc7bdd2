// Runs in the renderer. Local reader profiles: who is reading now (every write is attributed to
// them) and who adjudicates. Switching reader reloads everything that is per reader.
import { create } from 'zustand';
import type { Reader, ReaderRole, ReadersState } from '../../preload/api';
import { call } from '../api/client';
import { useSession } from './session';

interface ReadersStore extends ReadersState {
  loaded: boolean;
  load(): Promise<void>;
  create(name: string, role: ReaderRole): Promise<Reader | null>;
  setCurrent(readerId: number): Promise<void>;
  setAdjudicator(readerId: number): Promise<void>;
}

/** Called after the current reader changes (the review, worklist and feedback stores subscribe). */
const listeners = new Set<() => void>();
export const onReaderChange = (fn: () => void): (() => void) => {
  listeners.add(fn);
  return () => listeners.delete(fn);
};

export const useReaders = create<ReadersStore>()((set) => ({
  readers: [],
  current: null,
  adjudicator: null,
  loaded: false,
  load: async () => {
    try {
      set({ ...(await call('readers.list', {})), loaded: true });
    } catch (err) {
      useSession.getState().reportError(err);
    }
  },
  create: async (name, role) => {
    try {
      const reader = await call('readers.create', { name, role });
      set({ ...(await call('readers.setCurrent', { readerId: reader.readerId })) });
      for (const fn of listeners) fn();
      return reader;
    } catch (err) {
      useSession.getState().reportError(err);
      return null;
    }
  },
  setCurrent: async (readerId) => {
    try {
      set({ ...(await call('readers.setCurrent', { readerId })) });
      for (const fn of listeners) fn();
    } catch (err) {
      useSession.getState().reportError(err);
    }
  },
  setAdjudicator: async (readerId) => {
    try {
      set({ ...(await call('readers.setAdjudicator', { readerId })) });
    } catch (err) {
      useSession.getState().reportError(err);
    }
  },
}));
