// Runs in main and the browser-mode server. PACS servers kept in settings (credentials sealed by the
// operating system's keychain through Electron's safeStorage, refused where there is none), study
// search, retrieve into the local cache, and sending a model result back by STOW-RS.
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { PacsAuth as PacsAuthKind, ResightError, type ImageInfo, type PacsServer, type PacsStudy } from '../../preload/api';
import { readerCall } from '../export/manifest';
import { resultObjects } from '../export/result-objects';
import { loadFrameForSize } from '../imaging/load';
import { DicomWebClient } from '../pacs/client';
import { openCredentials, sealCredentials, sealedSource, type PacsCredentials, type SecretBox } from '../pacs/credentials';
import { studyDateRange } from '../pacs/qido';
import { pacsItems } from '../review/pacs-source';
import type { Store } from '../store/repositories';
import type { ReviewStore } from '../store/reviews';
import type { Handlers } from './dispatch';
import type { EventHub } from './events';

const KEY = 'pacs.servers';
const INDEX_DECODE = { width: 128, height: 128 };

const StoredServer = z.object({
  id: z.string(),
  name: z.string(),
  url: z.string(),
  auth: PacsAuthKind,
  user: z.string().optional(),
  /** sealCredentials output; never plain text. */
  sealed: z.string().optional(),
});
type StoredServer = z.infer<typeof StoredServer>;

export interface PacsDeps {
  store: Store;
  reviews: ReviewStore;
  events: EventHub;
  /** Where retrieved instances are kept (inside the data folder). */
  retrieveDir: string;
  /** Electron's safeStorage; absent in browser mode, where credentials are refused. */
  secrets?: SecretBox;
}

const NO_KEYCHAIN: SecretBox = {
  isEncryptionAvailable: () => false,
  encryptString: () => {
    throw new Error('unavailable');
  },
  decryptString: () => {
    throw new Error('unavailable');
  },
};

function publicView(s: StoredServer): PacsServer {
  return { id: s.id, name: s.name, url: s.url, auth: s.auth, ...(s.user ? { user: s.user } : {}), hasSecret: Boolean(s.sealed) };
}

/** The configured servers, and a client for one of them (batch review uses it too). */
export function pacsServers(store: Store, secrets?: SecretBox) {
  const box = secrets ?? NO_KEYCHAIN;
  const list = (): StoredServer[] => {
    const r = z.array(StoredServer).safeParse(store.getSetting(KEY));
    return r.success ? r.data : [];
  };
  const server = (id: string): StoredServer => {
    const s = list().find((x) => x.id === id);
    if (!s) throw new ResightError('NOT_FOUND', 'That PACS server is not configured any more. Choose one in Settings.');
    return s;
  };
  const client = (s: StoredServer | string): DicomWebClient => {
    const config = typeof s === 'string' ? server(s) : s;
    const sealed = config.sealed;
    return new DicomWebClient({ url: config.url, ...(sealed ? { auth: sealedSource(box, async () => sealed) } : {}) });
  };
  return { box, list, server, client };
}

export function pacsHandlers(
  deps: PacsDeps,
): Pick<Handlers, 'pacs.servers' | 'pacs.saveServer' | 'pacs.removeServer' | 'pacs.query' | 'pacs.retrieve' | 'pacs.cancel' | 'pacs.sendResult'> {
  const { box, list: servers, server, client } = pacsServers(deps.store, deps.secrets);
  const running = new Map<string, AbortController>();
  const withRequest = async <T>(requestId: string | undefined, fn: (signal: AbortSignal) => Promise<T>): Promise<T> => {
    const controller = new AbortController();
    if (requestId) running.set(requestId, controller);
    try {
      return await fn(controller.signal);
    } finally {
      if (requestId) running.delete(requestId);
    }
  };

  return {
    'pacs.servers': async () => servers().map(publicView),
    'pacs.saveServer': async (input, ctx) => {
      const all = servers();
      const existing = input.id ? all.find((s) => s.id === input.id) : undefined;
      if (input.id && !existing) throw new ResightError('NOT_FOUND', 'That PACS server is not configured any more. Add it again.');
      const id = existing?.id ?? `pacs-${randomBytes(4).toString('hex')}`;
      let sealed: string | undefined;
      if (input.auth === 'basic') {
        if (!input.user) throw new ResightError('INVALID_ARGUMENT', 'Basic authentication needs a user name.');
        const password = input.secret ?? (existing?.sealed && existing.auth === 'basic' ? (openCredentials(box, existing.sealed) as Extract<PacsCredentials, { kind: 'basic' }>).password : undefined);
        if (password === undefined) throw new ResightError('INVALID_ARGUMENT', 'Enter the password for this PACS server.');
        sealed = sealCredentials(box, { kind: 'basic', user: input.user, password });
      } else if (input.auth === 'bearer') {
        if (input.secret) sealed = sealCredentials(box, { kind: 'bearer', token: input.secret });
        else if (existing?.sealed && existing.auth === 'bearer') sealed = existing.sealed;
        else throw new ResightError('INVALID_ARGUMENT', 'Enter the access token for this PACS server.');
      }
      const next: StoredServer = { id, name: input.name, url: input.url, auth: input.auth, ...(input.auth === 'basic' ? { user: input.user } : {}), ...(sealed ? { sealed } : {}) };
      deps.store.setSetting(KEY, [...all.filter((s) => s.id !== id), next], ctx.reader);
      return publicView(next);
    },
    'pacs.removeServer': async ({ id }, ctx) => {
      const all = servers();
      if (!all.some((s) => s.id === id)) return { removed: false };
      deps.store.setSetting(KEY, all.filter((s) => s.id !== id), ctx.reader);
      return { removed: true };
    },
    'pacs.query': async (q) => {
      const studyDate = studyDateRange(q.dateFrom, q.dateTo);
      const found = await client(server(q.serverId)).searchStudies(
        {
          ...(q.patientName ? { patientName: q.patientName } : {}),
          ...(q.patientId ? { patientId: q.patientId } : {}),
          ...(studyDate ? { studyDate } : {}),
          ...(q.modality ? { modality: q.modality } : {}),
          ...(q.accession ? { accession: q.accession } : {}),
          ...(q.studyInstanceUid ? { studyUid: q.studyInstanceUid } : {}),
        },
        { limit: q.limit, offset: q.offset },
      );
      const studies: PacsStudy[] = found.map((s) => ({
        studyInstanceUid: s.StudyInstanceUID,
        ...(s.PatientName ? { patientName: s.PatientName } : {}),
        ...(s.PatientID ? { patientId: s.PatientID } : {}),
        ...(s.StudyDate ? { studyDate: s.StudyDate } : {}),
        ...(s.StudyDescription ? { description: s.StudyDescription } : {}),
        ...(s.AccessionNumber ? { accession: s.AccessionNumber } : {}),
        modalities: s.ModalitiesInStudy,
        ...(s.NumberOfStudyRelatedInstances !== null ? { instances: s.NumberOfStudyRelatedInstances } : {}),
      }));
      return { studies, offset: q.offset, limit: q.limit };
    },
    'pacs.retrieve': async ({ serverId, studyInstanceUid, requestId }, ctx) =>
      withRequest(requestId, async (signal) => {
        const { items, failed } = await pacsItems(client(server(serverId)), [studyInstanceUid], deps.retrieveDir, {
          signal,
          onProgress: (done, total) => deps.events.emit('pacs.progress', { requestId, done, total }),
        });
        const images: ImageInfo[] = [];
        let unreadable = 0;
        for (const item of items) {
          try {
            // Indexing needs the header and the file's hash, not every pixel: a thumbnail-sized decode
            // checks the image is readable; the viewer decodes what it shows when it opens one.
            const { info } = await loadFrameForSize(item.file, INDEX_DECODE, { priority: 'background' });
            deps.store.recordImage(info, item.file, ctx.reader);
            images.push(info);
          } catch (err) {
            if (!(err instanceof ResightError)) throw err;
            unreadable++;
          }
        }
        return { images, failed: failed.length + unreadable };
      }),
    'pacs.cancel': async ({ requestId }) => {
      const controller = running.get(requestId);
      controller?.abort();
      return { cancelled: Boolean(controller) };
    },
    'pacs.sendResult': async ({ serverId, resultId, overlays }, ctx) => {
      const target = server(serverId);
      const stored = deps.store.result(resultId);
      const review = stored ? deps.reviews.latestReview(stored.imageId, ctx.reader) : null;
      const objects = await resultObjects(deps.store, resultId, {
        overlays,
        reader: (labelId) => {
          const label = review?.labels.find((l) => l.labelId === labelId);
          const assessment = label && readerCall(label);
          return assessment ? { name: ctx.reader, assessment } : undefined;
        },
      });
      const results = await client(target).store(objects.map((o) => o.bytes));
      return {
        stored: results.flatMap((r, i) => (r.status === 'stored' ? [objects[i]!.what] : [])),
        failed: results.flatMap((r, i) => (r.status === 'failed' ? [{ what: objects[i]!.what, reason: r.reason }] : [])),
      };
    },
  };
}
