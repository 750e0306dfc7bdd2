// Runs in the renderer. The workstation's settings (execution provider, CPU threads, frame cache
// budget) and the installed models with the active one. What is saved here is what inference and
// the model badge use next, so the findings store hears about it at once.
import { create } from 'zustand';
import type { MethodInput, ModelSummary, Settings } from '../../preload/api';
import { call } from '../api/client';
import { useFindings } from './findings';
import { useSession } from './session';

interface SettingsState {
  settings: Settings | null;
  models: ModelSummary[];
  loaded: boolean;
  saving: boolean;
  load(): Promise<void>;
  /** Saves a change; true when the backend accepted it. */
  save(patch: MethodInput<'settings.set'>): Promise<boolean>;
  setActiveModel(id: string, version: string): Promise<void>;
}

export const useSettings = create<SettingsState>()((set, get) => ({
  settings: null,
  models: [],
  loaded: false,
  saving: false,
  load: async () => {
    try {
      const [settings, models] = await Promise.all([call('settings.get', {}), call('models.list', {})]);
      set({ settings, models, loaded: true });
    } catch (err) {
      useSession.getState().reportError(err);
    }
  },
  save: async (patch) => {
    set({ saving: true });
    try {
      const settings = await call('settings.set', patch);
      set({ settings });
      useFindings.setState({ requestedProvider: settings.provider });
      return true;
    } catch (err) {
      useSession.getState().reportError(err);
      return false;
    } finally {
      set({ saving: false });
    }
  },
  setActiveModel: async (id, version) => {
    try {
      const model = await call('models.setActive', { id, version });
      // A result on screen keeps naming the model that produced it; the badge shows this one next.
      useFindings.setState({ model });
      const [settings, models] = await Promise.all([call('settings.get', {}), call('models.list', {})]);
      set({ settings, models });
    } catch (err) {
      useSession.getState().reportError(err);
      await get().load();
    }
  },
}));
