// Runs in the renderer. The worklist: every case with the current reader's status, filters by
// status, label and model–reader disagreement, progress, and time per case.
import { useEffect } from 'react';
import type { CaseStatus, ModelSummary } from '../../preload/api';
import { useFindings } from '../state/findings';
import { useStudy } from '../state/study';
import { useWorklist } from '../state/worklist';
import { useSideTab } from '../state/tabs';

/** One empty list, so the selector's answer is stable when there is no model. */
const NO_LABELS: ModelSummary['labels'] = [];

const STATUS_WORDS: Record<CaseStatus, string> = { unread: 'Unread', read: 'Read', flagged: 'Flagged' };
const seconds = (ms: number) => (ms === 0 ? '' : ms < 60_000 ? `${Math.round(ms / 1000)} s` : `${(ms / 60_000).toFixed(1)} min`);

/** "done / total" for the header, so progress shows whatever tab is open. */
export function WorklistProgress() {
  const progress = useWorklist((s) => s.progress);
  const load = useWorklist((s) => s.load);
  useEffect(() => {
    void load();
  }, [load]);
  if (progress.total === 0) return null;
  return (
    <span className="pill" data-testid="worklist-progress" title="Cases you have read or flagged">
      {progress.done} / {progress.total} cases
    </span>
  );
}

export function WorklistPanel() {
  const { cases, filter, loading, load, setFilter, addSamples, setFlag } = useWorklist();
  const openId = useStudy((s) => s.info?.imageId);
  const labels = useFindings((s) => s.result?.model.labels ?? s.model?.labels ?? NO_LABELS);

  useEffect(() => {
    void load();
  }, [load]);

  const open = async (imageId: string) => {
    await useStudy.getState().open({ kind: 'case', imageId });
    useSideTab.getState().show('review');
    // Hand the keyboard back to the review shortcuts.
    if (document.activeElement instanceof HTMLElement) document.activeElement.blur();
  };

  return (
    <section className="worklist" aria-label="Worklist">
      <h2>Worklist</h2>
      <div className="worklist-filters">
        <select aria-label="Status" data-testid="worklist-status" value={filter.status} onChange={(e) => setFilter({ status: e.currentTarget.value as CaseStatus | 'all' })}>
          <option value="all">All statuses</option>
          <option value="unread">Unread</option>
          <option value="read">Read</option>
          <option value="flagged">Flagged</option>
        </select>
        <select aria-label="Label" data-testid="worklist-label" value={filter.labelId} onChange={(e) => setFilter({ labelId: e.currentTarget.value })}>
          <option value="all">All labels</option>
          {labels.map((l) => (
            <option key={l.id} value={l.id}>
              {l.name}
            </option>
          ))}
        </select>
        <label className="small">
          <input type="checkbox" data-testid="worklist-disagreement" checked={filter.disagreement} onChange={(e) => setFilter({ disagreement: e.currentTarget.checked })} /> Model and
          I disagree
        </label>
      </div>
      <button type="button" className="wide" data-testid="worklist-add-samples" onClick={() => void addSamples()}>
        Add the samples to the worklist
      </button>
      <ul className="case-list" data-testid="worklist" aria-busy={loading}>
        {cases.map((c) => (
          <li key={c.imageId} className={c.imageId === openId ? 'active' : ''}>
            <button type="button" className="case" data-testid={`case-${c.fileName}`} data-status={c.status} onClick={() => void open(c.imageId)}>
              <span className="case-name">{c.fileName}</span>
              <span className="case-meta">
                <span className={`status ${c.status}`}>{STATUS_WORDS[c.status]}</span>
                {c.signed && <span className="status signed">Signed</span>}
                {c.disagreement && <span className="status disagree">Disagrees with AI</span>}
                {c.readers > 0 && <span>{c.readers} reader{c.readers === 1 ? '' : 's'}</span>}
                {c.timeSpentMs > 0 && <span>{seconds(c.timeSpentMs)}</span>}
              </span>
            </button>
            <button
              type="button"
              className={`small flag${c.status === 'flagged' ? ' on' : ''}`}
              aria-pressed={c.status === 'flagged'}
              title={c.status === 'flagged' ? 'Remove the flag' : 'Flag this case'}
              onClick={() => void setFlag(c.imageId, c.status !== 'flagged')}
            >
              ⚑
            </button>
          </li>
        ))}
        {cases.length === 0 && <li className="muted small">No cases{filter.status !== 'all' || filter.labelId !== 'all' || filter.disagreement ? ' match the filter' : ' yet: open an image or add the samples'}.</li>}
      </ul>
    </section>
  );
}
