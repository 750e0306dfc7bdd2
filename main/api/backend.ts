// Runs in main (Electron) and the browser-mode server. Composes the services into the handlers
// every front door serves.
import os from 'node:os';
import path from 'node:path';
import { API_VERSION } from '../../preload/api';
import { ImageCache } from '../imaging/load';
import { decodePool } from '../imaging/pool';
import { HostClient } from '../inference/host/client';
import type { HostSpawner } from '../inference/host/protocol';
import { defaultThreads } from '../inference/providers';
import { ModelRegistry } from '../inference/registry';
import type { InferenceSettings } from '../inference/service';
import { DatabaseEncryption, openAtRest, wrappedKeyFile } from '../store/encryption';
import { Store } from '../store/repositories';
import { ReviewStore } from '../store/reviews';
import type { SecretBox } from '../pacs/credentials';
import { agreementHandlers } from './agreement';
import { annotationHandlers } from './annotations';
import { batchJobs } from './batch';
import type { Handlers } from './dispatch';
import { EventHub } from './events';
import { exportHandlers } from './export';
import { feedbackHandlers } from './feedback';
import { inferenceHandlers } from './inference';
import { pacsHandlers, pacsServers } from './pacs';
import { attributeToCurrentReader, readersHandlers } from './readers';
import { applySettings, loadSettings, settingsHandlers } from './settings';
import { studiesHandlers } from './studies';
import { worklistHandlers } from './worklist';

export interface BackendOptions {
  dataDir: string;
  modelsDir: string;
  samplesDir: string;
  frontDoor: 'electron' | 'browser' | 'cli';
  hostSpawner: HostSpawner;
  log: (line: string) => void;
  inference?: Partial<InferenceSettings>;
  /** The SQLite addon built for this runtime's ABI, when it is not the installed one. */
  sqliteNativeBinding?: string;
  /**
   * Electron's safeStorage, for PACS credentials and the database key; absent in browser mode and
   * the CLI, where both are refused and an encrypted database does not open.
   */
  secrets?: SecretBox;
}

export interface Backend {
  handlers: Handlers;
  events: EventHub;
  store: Store;
  engine: HostClient;
  /** Decoded images held for reuse, under the budget the settings give. */
  cache: ImageCache;
  close(): Promise<void>;
}

export const DATABASE_FILE = 'resight.sqlite';

export async function createBackend(opts: BackendOptions): Promise<Backend> {
  const events = new EventHub();
  const dbPath = path.join(opts.dataDir, DATABASE_FILE);
  const keys = wrappedKeyFile(dbPath, opts.secrets);
  const opened = await openAtRest(dbPath, keys, opts.sqliteNativeBinding);
  const store = new Store(opened.db);
  const encryption = new DatabaseEncryption(dbPath, keys, opened.key, { nativeBinding: opts.sqliteNativeBinding });
  const dbKey = () => encryption.key();
  const engine = new HostClient(opts.hostSpawner, (status) => events.emit('inference.hostStatus', status));
  const cache = new ImageCache();
  // A reader's first image should not wait for decoder threads to start and codecs to compile.
  decodePool().warm();
  const userModelsDir = path.join(opts.dataDir, 'models');
  const registry = new ModelRegistry([
    { dir: opts.modelsDir, source: 'bundled' },
    { dir: userModelsDir, source: 'user' },
  ]);
  // Nor for the model list, which checksums every model file: read once now, cached after.
  void registry.list().catch(() => undefined);
  // Stored settings first; flags given at start-up (CLI, tests) win for this run.
  const settings: InferenceSettings = { provider: 'auto', threads: defaultThreads() };
  applySettings(loadSettings(store), settings, cache);
  if (opts.inference?.provider) settings.provider = opts.inference.provider;
  if (opts.inference?.threads) settings.threads = opts.inference.threads;
  const studies = { samplesDir: opts.samplesDir, cache, store };
  const reviews = new ReviewStore(store);
  const activeModel = () => loadSettings(store).activeModel;
  const reviewDeps = { ...studies, reviews, registry, activeModel };
  // The app root holds models/ (bundled) beside the rest of the resources.
  const appRoot = path.dirname(opts.modelsDir);
  const batch = batchJobs({
    store,
    dbPath,
    dbKey,
    dataDir: opts.dataDir,
    appRoot,
    registry,
    engine,
    settings,
    events,
    activeModel,
    pacsClient: (id) => pacsServers(store, opts.secrets).client(id),
    log: opts.log,
  });
  const handlers: Handlers = attributeToCurrentReader({
    'app.info': async () => ({
      name: 'Resight',
      version: __RESIGHT_VERSION__,
      apiVersion: API_VERSION,
      frontDoor: opts.frontDoor,
      platform: `${os.platform()}-${os.arch()}`,
    }),
    ...studiesHandlers(studies),
    ...inferenceHandlers({ ...studies, registry, engine, settings, events, log: opts.log, activeModel }),
    ...settingsHandlers({ store, registry, live: settings, userModelsDir, frames: cache, encryption }),
    ...feedbackHandlers(store),
    ...readersHandlers(reviews),
    ...annotationHandlers(reviewDeps),
    ...worklistHandlers(reviewDeps),
    ...agreementHandlers(reviews),
    ...exportHandlers({ dbPath, dbKey, appRoot }),
    ...pacsHandlers({ store, reviews, events, retrieveDir: path.join(opts.dataDir, 'pacs-retrieved'), secrets: opts.secrets }),
    ...batch.handlers,
  }, reviews);
  return {
    handlers,
    events,
    store,
    engine,
    cache,
    close: async () => {
      await batch.stop();
      await engine.close();
      store.close();
    },
  };
}
