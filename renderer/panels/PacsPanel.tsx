// Runs in the renderer. The PACS browser: choose a server, search its studies (QIDO-RS) by patient,
// date, modality or accession, page through them, open one (WADO-RS into the local cache, with
// progress and Cancel; its first image opens in the viewer), or tick several for a batch review.
import { useEffect, type FormEvent } from 'react';
import { useShallow } from 'zustand/react/shallow';
import type { PacsStudy } from '../../preload/api';
import { useBatch } from '../state/batch';
import { PAGE_SIZE, usePacs } from '../state/pacs';
import { useSideTab } from '../state/tabs';
import { CamMethodSelect } from './CamMethodSelect';
import { keepControlKeys } from './tools-common';
import './tools.css';

/** YYYYMMDD as YYYY-MM-DD; anything else as it came. */
const showDate = (d?: string) => (d && /^\d{8}$/.test(d) ? `${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6)}` : (d ?? ''));
/** DICOM person names separate their parts with ^. */
const showName = (n?: string) => (n ? n.replace(/\^+/g, ' ').trim() : '');

/** The configured servers; the PACS browser's choice unless a value and onChange are given. */
export function ServerChooser({ testId, value, onChange }: { testId: string; value?: string | null; onChange?(id: string): void }) {
  const servers = usePacs((s) => s.servers);
  const browsing = usePacs((s) => s.serverId);
  const choose = usePacs((s) => s.chooseServer);
  return (
    <label className="field">
      PACS server
      <select data-testid={testId} value={(onChange ? value : browsing) ?? ''} disabled={servers.length === 0} onChange={(e) => (onChange ?? choose)(e.currentTarget.value)}>
        {servers.map((s) => (
          <option key={s.id} value={s.id}>
            {s.name}
          </option>
        ))}
      </select>
    </label>
  );
}

function SearchForm() {
  // Picked fields, not the whole store, which changes on every retrieval progress event.
  const { form, setForm, search, searching, serverId } = usePacs(
    useShallow((s) => ({ form: s.form, setForm: s.setForm, search: s.search, searching: s.searching, serverId: s.serverId })),
  );
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void search(0);
  };
  const text = (key: 'patientName' | 'patientId' | 'accession' | 'modality', label: string, max: number) => (
    <label>
      {label}
      <input type="text" data-testid={`pacs-${key}`} maxLength={max} value={form[key]} autoComplete="off" spellCheck={false} onChange={(e) => setForm({ [key]: e.currentTarget.value })} />
    </label>
  );
  return (
    <form className="tool-form pacs-search" aria-label="Search studies" onSubmit={submit}>
      <div className="grid-2">
        {text('patientName', 'Patient name', 64)}
        {text('patientId', 'Patient ID', 64)}
        <label>
          Date from
          <input type="date" data-testid="pacs-dateFrom" value={form.dateFrom} onChange={(e) => setForm({ dateFrom: e.currentTarget.value })} />
        </label>
        <label>
          Date to
          <input type="date" data-testid="pacs-dateTo" value={form.dateTo} onChange={(e) => setForm({ dateTo: e.currentTarget.value })} />
        </label>
        {text('modality', 'Modality (CR, DX, CT…)', 16)}
        {text('accession', 'Accession', 16)}
      </div>
      <button type="submit" className="primary" data-testid="pacs-search" disabled={!serverId || searching}>
        {searching ? 'Searching…' : 'Search'}
      </button>
    </form>
  );
}

function StudyRow({ study }: { study: PacsStudy }) {
  const selected = usePacs((s) => s.selected.includes(study.studyInstanceUid));
  const busy = usePacs((s) => s.retrieval !== null);
  const { toggleSelected, open } = usePacs.getState();
  const who = showName(study.patientName) || 'this study';
  return (
    <tr className={selected ? 'selected' : ''} data-testid="pacs-study">
      <td>
        <input type="checkbox" aria-label={`Select ${who}`} data-testid="pacs-select" checked={selected} onChange={() => toggleSelected(study.studyInstanceUid)} />
      </td>
      <td>{showName(study.patientName)}</td>
      <td>{study.patientId}</td>
      <td className="nowrap">{showDate(study.studyDate)}</td>
      <td>{study.modalities.join(', ')}</td>
      <td>{study.description}</td>
      <td className="num">{study.instances ?? ''}</td>
      <td className="nowrap">
        <button type="button" className="small" data-testid="pacs-open" disabled={busy} aria-label={`Open ${who}`} onClick={() => void open(study.studyInstanceUid)}>
          Open
        </button>
      </td>
    </tr>
  );
}

function Results() {
  // Picked fields: with the whole store, each keystroke in the form and each retrieval progress event re-rendered every row.
  const { studies, offset, more, searched, searching, search } = usePacs(
    useShallow((s) => ({ studies: s.studies, offset: s.offset, more: s.more, searched: s.searched, searching: s.searching, search: s.search })),
  );
  if (!searched) return null;
  return (
    <div className="pacs-results">
      <div className="table-scroll">
        <table className="stats" data-testid="pacs-results" aria-busy={searching}>
          <thead>
            <tr>
              <th aria-label="Selected" />
              <th>Patient</th>
              <th>ID</th>
              <th>Date</th>
              <th>Modalities</th>
              <th>Description</th>
              <th className="num">Images</th>
              <th aria-label="Open" />
            </tr>
          </thead>
          <tbody>
            {studies.map((s) => (
              <StudyRow key={s.studyInstanceUid} study={s} />
            ))}
          </tbody>
        </table>
      </div>
      {studies.length === 0 && <p className="muted small">No study matches.</p>}
      <div className="row-between pager">
        <button type="button" className="small" data-testid="pacs-prev" disabled={searching || offset === 0} onClick={() => void search(Math.max(0, offset - PAGE_SIZE))}>
          ‹ Previous
        </button>
        <span className="muted small" data-testid="pacs-page">
          {studies.length ? `${offset + 1}–${offset + studies.length}` : `from ${offset + 1}`}
        </span>
        <button type="button" className="small" data-testid="pacs-next" disabled={searching || !more} onClick={() => void search(offset + PAGE_SIZE)}>
          Next ›
        </button>
      </div>
    </div>
  );
}

function Retrieval() {
  const retrieval = usePacs((s) => s.retrieval);
  const retrieved = usePacs((s) => s.retrieved);
  const cancel = usePacs((s) => s.cancel);
  if (retrieval)
    return (
      <div className="tool-progress" role="status" data-testid="pacs-progress">
        <span className="small">Retrieving…</span>
        {/* Without a total yet (the instance list is on its way) the bar is indeterminate. */}
        <progress max={retrieval.total || 1} value={retrieval.total ? retrieval.done : undefined} aria-label="Retrieval progress" />
        <span className="small">{retrieval.total ? `${retrieval.done} / ${retrieval.total}` : ''}</span>
        <button type="button" className="small" data-testid="pacs-cancel" onClick={() => void cancel()}>
          Cancel
        </button>
      </div>
    );
  if (!retrieved) return null;
  return (
    <p className="small" role="status" data-testid="pacs-retrieved">
      Retrieved {retrieved.images} image{retrieved.images === 1 ? '' : 's'}
      {retrieved.failed ? `; ${retrieved.failed} could not be retrieved` : ''}.
    </p>
  );
}

function ReviewSelected() {
  const selected = usePacs((s) => s.selected);
  const serverId = usePacs((s) => s.serverId);
  const clear = usePacs((s) => s.clearSelected);
  const { cam, setCam, start, starting } = useBatch(useShallow((s) => ({ cam: s.cam, setCam: s.setCam, start: s.start, starting: s.starting })));
  if (selected.length === 0) return null;
  const go = async () => {
    if (!serverId) return;
    if (await start({ kind: 'pacs', serverId, studyInstanceUids: selected })) {
      clear();
      useSideTab.getState().show('batch');
    }
  };
  return (
    <div className="tool-form review-selected" onKeyDown={keepControlKeys}>
      <label>
        Heatmap method
        <CamMethodSelect label="CAM method for the batch" testId="pacs-batch-cam" value={cam} onChange={setCam} />
      </label>
      <button type="button" className="primary" data-testid="pacs-review-selected" disabled={starting} onClick={() => void go()}>
        Review {selected.length} selected stud{selected.length === 1 ? 'y' : 'ies'} with the model
      </button>
    </div>
  );
}

export function PacsPanel() {
  const servers = usePacs((s) => s.servers);
  const loaded = usePacs((s) => s.serversLoaded);
  const error = usePacs((s) => s.error);
  const loadServers = usePacs((s) => s.loadServers);
  useEffect(() => {
    void loadServers();
  }, [loadServers]);

  return (
    <section className="tools-panel pacs-browser" aria-label="PACS" data-testid="pacs-panel" onKeyDown={keepControlKeys}>
      <h2>PACS</h2>
      {loaded && servers.length === 0 ? (
        <p className="small">
          No PACS server is set up.{' '}
          <button type="button" className="link" data-testid="pacs-to-settings" onClick={() => useSideTab.getState().show('settings')}>
            Add one in Settings
          </button>
        </p>
      ) : (
        <>
          <ServerChooser testId="pacs-server" />
          <SearchForm />
          {error && (
            <p className="field-error" role="alert" data-testid="pacs-error">
              {error}
            </p>
          )}
          <Retrieval />
          <Results />
          <ReviewSelected />
        </>
      )}
    </section>
  );
}
