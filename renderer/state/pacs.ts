// Runs in the renderer. PACS servers (saved in the backend; secrets go to the OS keychain and never
// come back), the study search with paging, the studies picked for a batch review, and the
// retrieval of one study with its progress and cancellation. A retrieved study opens its first
// image through the study store, like a worklist case.
import { create } from 'zustand';
import type { MethodInput, PacsServer, PacsStudy } from '../../preload/api';
import { call, onEvent } from '../api/client';
import { ApiError, messageOf } from '../api/errors';
import { useSession } from './session';
import { useStudy } from './study';
import { useSideTab } from './tabs';

export const PAGE_SIZE = 25;

export interface PacsSearchForm {
  patientName: string;
  patientId: string;
  /** yyyy-mm-dd from a date input; empty for no bound. */
  dateFrom: string;
  dateTo: string;
  modality: string;
  accession: string;
}

const EMPTY_FORM: PacsSearchForm = { patientName: '', patientId: '', dateFrom: '', dateTo: '', modality: '', accession: '' };

interface Retrieval {
  requestId: string;
  studyInstanceUid: string;
  done: number;
  total: number;
}

interface PacsState {
  servers: PacsServer[];
  serversLoaded: boolean;
  /** The server the browser and the send button use. */
  serverId: string | null;
  form: PacsSearchForm;
  /** The form the results shown were searched with: paging keeps to it while the form is edited. */
  shownForm: PacsSearchForm | null;
  studies: PacsStudy[];
  offset: number;
  /** The last page came back full, so there may be another. */
  more: boolean;
  searched: boolean;
  searching: boolean;
  /** The sentence of the last failed search or retrieval, shown in the panel. */
  error: string | null;
  /** Study Instance UIDs ticked for a batch review (on the chosen server). */
  selected: string[];
  retrieval: Retrieval | null;
  /** What the last retrieval brought, for the line under the table. */
  retrieved: { images: number; failed: number } | null;
  loadServers(): Promise<void>;
  /** Saves a server; the error sentence (as the backend says it) when it was refused. */
  saveServer(input: MethodInput<'pacs.saveServer'>): Promise<string | null>;
  removeServer(id: string): Promise<void>;
  chooseServer(id: string): void;
  setForm(patch: Partial<PacsSearchForm>): void;
  search(offset?: number): Promise<void>;
  toggleSelected(uid: string): void;
  clearSelected(): void;
  open(studyInstanceUid: string): Promise<void>;
  cancel(): Promise<void>;
}

let requestSeq = 0;

/** The query the backend validates: empty fields left out, dates as YYYYMMDD, modality upper-case. */
export function toQuery(serverId: string, form: PacsSearchForm, offset: number): MethodInput<'pacs.query'> {
  const text = (v: string) => (v.trim() ? v.trim() : undefined);
  const date = (v: string) => (v ? v.replaceAll('-', '') : undefined);
  const query: MethodInput<'pacs.query'> = { serverId, limit: PAGE_SIZE, offset };
  const fields = {
    patientName: text(form.patientName),
    patientId: text(form.patientId),
    dateFrom: date(form.dateFrom),
    dateTo: date(form.dateTo),
    modality: text(form.modality)?.toUpperCase(),
    accession: text(form.accession),
  };
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) Object.assign(query, { [k]: v });
  return query;
}

export const usePacs = create<PacsState>()((set, get) => ({
  servers: [],
  serversLoaded: false,
  serverId: null,
  form: EMPTY_FORM,
  shownForm: null,
  studies: [],
  offset: 0,
  more: false,
  searched: false,
  searching: false,
  error: null,
  selected: [],
  retrieval: null,
  retrieved: null,
  loadServers: async () => {
    try {
      const servers = await call('pacs.servers', {});
      const keep = servers.some((s) => s.id === get().serverId);
      set({ servers, serversLoaded: true, serverId: keep ? get().serverId : (servers[0]?.id ?? null) });
    } catch (err) {
      set({ serversLoaded: true });
      useSession.getState().reportError(err);
    }
  },
  saveServer: async (input) => {
    try {
      const saved = await call('pacs.saveServer', input);
      await get().loadServers();
      if (!get().serverId) set({ serverId: saved.id });
      return null;
    } catch (err) {
      return messageOf(err);
    }
  },
  removeServer: async (id) => {
    try {
      await call('pacs.removeServer', { id });
      await get().loadServers();
    } catch (err) {
      useSession.getState().reportError(err);
    }
  },
  chooseServer: (serverId) => {
    if (serverId === get().serverId) return;
    // Results and picks belong to the server they came from.
    set({ serverId, studies: [], shownForm: null, selected: [], offset: 0, more: false, searched: false, error: null, retrieved: null });
  },
  setForm: (patch) => set((s) => ({ form: { ...s.form, ...patch } })),
  search: async (offset = 0) => {
    const { serverId, shownForm } = get();
    if (!serverId) return;
    const form = offset > 0 && shownForm ? shownForm : get().form;
    set({ searching: true, error: null });
    try {
      const page = await call('pacs.query', toQuery(serverId, form, offset));
      if (get().serverId !== serverId) return;
      set({ studies: page.studies, shownForm: form, offset: page.offset, more: page.studies.length >= page.limit, searched: true });
    } catch (err) {
      set({ error: messageOf(err) });
    } finally {
      set({ searching: false });
    }
  },
  toggleSelected: (uid) =>
    set((s) => ({ selected: s.selected.includes(uid) ? s.selected.filter((u) => u !== uid) : [...s.selected, uid] })),
  clearSelected: () => set({ selected: [] }),
  open: async (studyInstanceUid) => {
    const { serverId, retrieval } = get();
    if (!serverId || retrieval) return;
    const requestId = `pacs-${Date.now().toString(36)}-${++requestSeq}`;
    set({ retrieval: { requestId, studyInstanceUid, done: 0, total: 0 }, error: null, retrieved: null });
    const off = onEvent('pacs.progress', (p) => {
      if (p.requestId !== requestId) return;
      set((s) => (s.retrieval?.requestId === requestId ? { retrieval: { ...s.retrieval, done: p.done, total: p.total } } : {}));
    });
    try {
      const { images, failed } = await call('pacs.retrieve', { serverId, studyInstanceUid, requestId });
      set({ retrieved: { images: images.length, failed } });
      const first = images[0];
      if (!first) return;
      await useStudy.getState().open({ kind: 'case', imageId: first.imageId });
      if (useStudy.getState().info?.imageId === first.imageId) useSideTab.getState().show('review');
    } catch (err) {
      if (err instanceof ApiError && err.code === 'PACS_CANCELLED') useSession.getState().inform('Retrieval cancelled.');
      else set({ error: messageOf(err) });
    } finally {
      off();
      set({ retrieval: null });
    }
  },
  cancel: async () => {
    const { retrieval } = get();
    if (!retrieval) return;
    try {
      await call('pacs.cancel', { requestId: retrieval.requestId });
    } catch (err) {
      useSession.getState().reportError(err);
    }
  },
}));
