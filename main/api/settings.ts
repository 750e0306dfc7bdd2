// Runs in main and the browser-mode server. Settings (provider, threads, active model) and model
// management, persisted in the store so they survive restarts; and the database's encryption.
import path from 'node:path';
import { ResightError, Settings, type ModelSummary } from '../../preload/api';
import { frameCacheBudget } from '../imaging/cache';
import { defaultThreads } from '../inference/providers';
import type { LoadedModel, ModelRegistry } from '../inference/registry';
import type { InferenceSettings } from '../inference/service';
import type { DatabaseEncryption } from '../store/encryption';
import type { Store } from '../store/repositories';
import type { Handlers } from './dispatch';

const KEY = 'app';

export function loadSettings(store: Store): Settings {
  const parsed = Settings.safeParse(store.getSetting(KEY));
  return parsed.success ? parsed.data : { provider: 'auto', threads: null, activeModel: null, frameCacheMB: null };
}

/** Copies the persisted choice into the live inference settings and the frame cache's budget. */
export function applySettings(settings: Settings, live: InferenceSettings, frames?: { setBudget(bytes: number): void }): void {
  live.provider = settings.provider;
  live.threads = settings.threads ?? defaultThreads();
  frames?.setBudget(settings.frameCacheMB === null ? frameCacheBudget() : settings.frameCacheMB * 1024 ** 2);
}

export interface SettingsDeps {
  store: Store;
  registry: ModelRegistry;
  live: InferenceSettings;
  userModelsDir: string;
  frames?: { setBudget(bytes: number): void };
  encryption: DatabaseEncryption;
}

export function summaryOf(model: LoadedModel, active: LoadedModel | undefined): ModelSummary {
  return { ...model.summary, active: active?.sha256 === model.sha256 && active.cardPath === model.cardPath };
}

export function settingsHandlers(deps: SettingsDeps): Pick<
  Handlers,
  'settings.get' | 'settings.set' | 'database.encryption' | 'database.setEncryption' | 'models.import' | 'models.setActive' | 'models.list'
> {
  const save = (next: Settings, reader: string): Settings => {
    deps.store.setSetting(KEY, next, reader);
    applySettings(next, deps.live, deps.frames);
    return next;
  };
  const active = async (): Promise<LoadedModel | undefined> => {
    try {
      return await deps.registry.active(loadSettings(deps.store).activeModel);
    } catch {
      return undefined;
    }
  };
  return {
    'settings.get': async () => loadSettings(deps.store),
    'settings.set': async (patch, ctx) => save({ ...loadSettings(deps.store), ...patch }, ctx.reader),
    'database.encryption': async () => deps.encryption.state(),
    'database.setEncryption': async ({ enabled }, ctx) => deps.encryption.set(deps.store.db, enabled, ctx.reader),
    'models.list': async () => {
      const current = await active();
      return (await deps.registry.list()).map((m) => summaryOf(m, current));
    },
    'models.import': async ({ cardPath }) => {
      if (!path.isAbsolute(cardPath)) throw new ResightError('INVALID_ARGUMENT', 'Give the full path of the model card (.json) to import.');
      const model = await deps.registry.importModel(cardPath, deps.userModelsDir);
      return summaryOf(model, await active());
    },
    'models.setActive': async ({ id, version }, ctx) => {
      const model = (await deps.registry.list()).find((m) => m.card.id === id && m.card.version === version);
      if (!model) throw new ResightError('MODEL_NOT_FOUND', `No installed model is ${id} ${version}.`);
      save({ ...loadSettings(deps.store), activeModel: { id, version } }, ctx.reader);
      return summaryOf(model, model);
    },
  };
}
