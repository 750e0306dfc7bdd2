// Runs in the renderer. The reader's review of the open case, per label: agree / disagree /
// uncertain with the model's call (clinician), present / absent of one's own (annotator, number
// keys), regions drawn on the image, confidence, note; Save, Sign, and Enter to submit and open the
// next case. Keyboard first: every action here has a key, listed in the panel.
import { useEffect, useState } from 'react';
import type { ModelSummary, Review, Verdict } from '../../preload/api';
import { call } from '../api/client';
import { useFindings } from '../state/findings';
import { draftOf, modelLabels, useReview, type Tool } from '../state/review';
import { useSession } from '../state/session';
import { useStudy } from '../state/study';
import './review.css';

/** One empty list, so the selector's answer is stable when there is no model. */
const NO_LABELS: ModelSummary['labels'] = [];

const VERDICTS: { value: Verdict; label: string }[] = [
  { value: 'agree', label: 'Agree' },
  { value: 'disagree', label: 'Disagree' },
  { value: 'uncertain', label: 'Unsure' },
];

const pct = (p: number) => `${(p * 100).toFixed(0)}%`;
const minutes = (ms: number) => (ms < 60_000 ? `${Math.round(ms / 1000)} s` : `${(ms / 60_000).toFixed(1)} min`);
const timeOf = (iso: string) => {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleTimeString();
};

function isTyping(target: EventTarget | null): boolean {
  return (
    target instanceof HTMLElement &&
    (target.isContentEditable || target instanceof HTMLInputElement || target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement)
  );
}

const TOOL_KEYS: Record<string, Tool> = { b: 'box', g: 'polygon', p: 'point' };
const TOOLS: { tool: Tool; label: string; key: string }[] = [
  { tool: 'box', label: 'Box', key: 'B' },
  { tool: 'polygon', label: 'Polygon', key: 'G' },
  { tool: 'point', label: 'Point', key: 'P' },
];

/** Keys of the review: digits toggle labels, Enter submits and opens the next case, B/G/P draw. */
export function useReviewKeys(enabled: boolean) {
  useEffect(() => {
    if (!enabled) return;
    const onKey = (e: KeyboardEvent) => {
      const review = useReview.getState();
      const mod = e.ctrlKey || e.metaKey;
      if (mod && !e.altKey && e.key.toLowerCase() === 'z') {
        if (isTyping(e.target)) return;
        e.preventDefault();
        if (e.shiftKey) review.redo();
        else review.undo();
        return;
      }
      if (mod && !e.altKey && e.key.toLowerCase() === 'y') {
        if (isTyping(e.target)) return;
        e.preventDefault();
        review.redo();
        return;
      }
      if (mod || e.altKey || isTyping(e.target)) return;
      // A focused button elsewhere keeps its own Enter; the review's buttons hand it to the review.
      if (e.key === 'Enter' && e.target instanceof HTMLButtonElement && !e.target.closest('[data-review-keys]')) return;
      const labels = modelLabels();
      if (/^[1-9]$/.test(e.key)) {
        const label = labels[Number(e.key) - 1];
        if (!label) return;
        e.preventDefault();
        review.togglePresent(label.id);
      } else if (e.key === 'Enter') {
        e.preventDefault();
        void review.submitAndNext();
      } else if (TOOL_KEYS[e.key.toLowerCase()]) {
        e.preventDefault();
        const tool = TOOL_KEYS[e.key.toLowerCase()]!;
        review.setTool(review.tool === tool ? 'select' : tool);
      } else if (e.key === 'Escape') {
        review.setTool('select');
      } else if ((e.key === 'Delete' || e.key === 'Backspace') && review.selected !== null) {
        e.preventDefault();
        review.deleteRegion(review.selected);
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [enabled]);
}

/** Keeps focus where it was, so a click on a review button does not steal Enter from the review. */
export const keepFocus = (e: React.MouseEvent) => e.preventDefault();

/** The reader's versions of this case, fetched when opened: signing never hides what came before. */
function History({ imageId, latest }: { imageId: string; latest: number }) {
  const [versions, setVersions] = useState<Review[] | null>(null);
  const [open, setOpen] = useState(false);
  useEffect(() => {
    if (!open) return;
    let live = true;
    call('review.history', { imageId }).then(
      (v) => live && setVersions(v),
      (err: unknown) => useSession.getState().reportError(err),
    );
    return () => {
      live = false;
    };
  }, [open, imageId, latest]);
  return (
    <details className="history small" onToggle={(e) => setOpen(e.currentTarget.open)} data-testid="review-history">
      <summary>
        History ({latest} version{latest === 1 ? '' : 's'})
      </summary>
      <ol>
        {versions?.map((v) => (
          <li key={v.version}>
            v{v.version} · {timeOf(v.savedAt)} · {v.signed ? <strong className="signed">signed</strong> : 'saved'} ·{' '}
            {v.labels.filter((l) => l.present).map((l) => l.labelId).join(', ') || 'nothing present'}
            {v.regions.length ? ` · ${v.regions.length} region${v.regions.length === 1 ? '' : 's'}` : ''}
            {v.note ? ` · “${v.note.length > 60 ? `${v.note.slice(0, 60)}…` : v.note}”` : ''}
          </li>
        ))}
      </ol>
    </details>
  );
}

export function ReviewPanel() {
  const info = useStudy((s) => s.info);
  const result = useFindings((s) => (s.result?.imageId === s.imageId ? s.result : null));
  const labels = useFindings((s) => s.result?.model.labels ?? s.model?.labels ?? NO_LABELS);
  const review = useReview();
  const { draft, saved, others, saving, loading, tool, activeLabel, past, future, selected } = review;

  const disabled = !info || loading;
  const findings = new Map(result?.findings.map((f) => [f.labelId, f]) ?? []);
  const dirty = JSON.stringify(draft) !== JSON.stringify(draftOf(saved));
  const nameOf = (id: string) => labels.find((l) => l.id === id)?.name ?? id;
  const drawLabel = activeLabel ?? labels[0]?.id ?? null;
  const otherReaders = others.filter((o) => o.reader !== saved?.reader);

  return (
    <section className="review" aria-label="Per-label review" data-review-keys>
      <h2>Labels</h2>
      {!info && <p className="muted small">Open a case to review it.</p>}
      {info && labels.length === 0 && <p className="muted small">No model is installed, so there are no labels to review.</p>}
      <ul className="label-rows">
        {labels.map((label, i) => {
          const call = draft.labels[label.id] ?? { verdict: null, present: null };
          const f = findings.get(label.id);
          return (
            <li key={label.id} className="label-row" data-testid={`label-row-${label.id}`}>
              <div className="label-head">
                <button
                  type="button"
                  className={`present ${call.present === true ? 'yes' : call.present === false ? 'no' : ''}`}
                  data-testid={`label-${label.id}-present`}
                  aria-pressed={call.present === true}
                  disabled={disabled}
                  onMouseDown={keepFocus}
                  onClick={() => review.togglePresent(label.id)}
                  title={`Mark ${label.name} present or absent (${i + 1})`}
                >
                  {i < 9 && <kbd>{i + 1}</kbd>} {label.name}
                  <span className="present-word">{call.present === true ? 'present' : call.present === false ? 'absent' : ''}</span>
                </button>
                {f && (
                  <span className={`model-call ${f.positive ? 'positive' : 'negative'}`} title="The model's call">
                    AI {f.positive ? '+' : '−'} {pct(f.probability)}
                  </span>
                )}
              </div>
              {f && (
                <div className="label-verdicts" role="group" aria-label={`Your verdict on the model's call for ${label.name}`}>
                  {VERDICTS.map((v) => (
                    <button
                      key={v.value}
                      type="button"
                      data-testid={`label-${label.id}-${v.value}`}
                      className={`verdict small ${v.value}${call.verdict === v.value ? ' chosen' : ''}`}
                      aria-pressed={call.verdict === v.value}
                      disabled={disabled}
                      onMouseDown={keepFocus}
                      onClick={() => review.setVerdict(label.id, v.value)}
                    >
                      {v.label}
                    </button>
                  ))}
                </div>
              )}
            </li>
          );
        })}
      </ul>

      {info && labels.length > 0 && (
        <>
          <div className="region-tools" role="toolbar" aria-label="Regions">
            {TOOLS.map((t) => (
              <button
                key={t.tool}
                type="button"
                data-testid={`tool-${t.tool}`}
                className={tool === t.tool ? 'toggle on' : 'toggle'}
                aria-pressed={tool === t.tool}
                onMouseDown={keepFocus}
                onClick={() => review.setTool(tool === t.tool ? 'select' : t.tool)}
                disabled={disabled}
                title={t.tool === 'polygon' ? 'Click the corners; double-click or click the first corner to close' : undefined}
              >
                {t.label} <kbd>{t.key}</kbd>
              </button>
            ))}
            <label className="draw-label">
              for
              <select value={drawLabel ?? ''} onChange={(e) => review.setActiveLabel(e.currentTarget.value)} disabled={disabled} data-testid="draw-label">
                {labels.map((l) => (
                  <option key={l.id} value={l.id}>
                    {l.name}
                  </option>
                ))}
              </select>
            </label>
            <button type="button" onMouseDown={keepFocus} onClick={review.undo} disabled={past.length === 0} title="Undo (Ctrl+Z)" data-testid="review-undo">
              Undo
            </button>
            <button type="button" onMouseDown={keepFocus} onClick={review.redo} disabled={future.length === 0} title="Redo (Ctrl+Shift+Z)" data-testid="review-redo">
              Redo
            </button>
          </div>
          {draft.regions.length > 0 && (
            <ul className="region-list" data-testid="region-list">
              {draft.regions.map((r, i) => (
                <li key={i} className={i === selected ? 'selected' : ''}>
                  <button type="button" className="link" onMouseDown={keepFocus} onClick={() => review.select(i)}>
                    {r.kind} · {nameOf(r.labelId)}
                    {r.kind === 'box' ? ` · ${Math.round(r.x1 - r.x0)} × ${Math.round(r.y1 - r.y0)} px` : ''}
                  </button>
                  <button type="button" className="small" aria-label="Delete region" onMouseDown={keepFocus} onClick={() => review.deleteRegion(i)}>
                    ✕
                  </button>
                </li>
              ))}
            </ul>
          )}

          <div className="confidence" role="group" aria-label="Confidence">
            <span className="muted small">Confidence</span>
            {[1, 2, 3, 4, 5].map((n) => (
              <button
                key={n}
                type="button"
                className={draft.confidence === n ? 'small chosen' : 'small'}
                aria-pressed={draft.confidence === n}
                data-testid={`confidence-${n}`}
                onMouseDown={keepFocus}
                onClick={() => review.setConfidence(draft.confidence === n ? null : n)}
                disabled={disabled}
              >
                {n}
              </button>
            ))}
          </div>
          <textarea
            aria-label="Review note"
            data-testid="review-note"
            rows={3}
            maxLength={20_000}
            placeholder="Note on this case"
            value={draft.note}
            disabled={disabled}
            onChange={(e) => review.setNote(e.currentTarget.value)}
          />
          <div className="save-row">
            <button type="button" data-testid="review-save" onClick={() => void review.save()} disabled={disabled || saving}>
              Save
            </button>
            <button type="button" className="primary" data-testid="review-sign" onClick={() => void review.save({ sign: true })} disabled={disabled || saving}>
              Sign
            </button>
            <button type="button" data-testid="review-submit" onClick={() => void review.submitAndNext()} disabled={disabled || saving} title="Unmarked labels count as absent">
              Submit, next <kbd>⏎</kbd>
            </button>
          </div>
          <p className="small review-status" data-testid="review-status">
            {saved ? (
              <>
                {saved.signed ? <strong className="signed">Signed</strong> : 'Saved'} by {saved.reader} · version {saved.version} · {timeOf(saved.savedAt)} ·{' '}
                {minutes(saved.timeSpentMs)} on this case
              </>
            ) : (
              'Not reviewed by you yet'
            )}
            {dirty ? ' · unsaved changes' : ''}
          </p>
          {saved?.signed && dirty && (
            <p className="small signed-hint" data-testid="review-amend-hint">
              Version {saved.version} is signed and stays as it is; saving makes version {saved.version + 1}.
            </p>
          )}
          {saved && <History imageId={saved.imageId} latest={saved.version} />}
          {otherReaders.length > 0 && (
            <div className="case-readers" data-testid="case-readers">
              <span className="muted small">Other readers</span>
              <ul>
                {otherReaders.map((o) => (
                  <li key={o.reader}>
                    <strong>{o.reader}</strong>:{' '}
                    {o.labels.filter((l) => l.present).map((l) => nameOf(l.labelId)).join(', ') || 'nothing present'}
                    {o.signed ? ' (signed)' : ''}
                  </li>
                ))}
              </ul>
            </div>
          )}
          <p className="muted small keys-help">
            Keys: <kbd>1</kbd>–<kbd>9</kbd> labels · <kbd>B</kbd>/<kbd>G</kbd>/<kbd>P</kbd> box, polygon, point · <kbd>Esc</kbd> stop drawing · <kbd>Del</kbd> region · <kbd>Ctrl</kbd>+<kbd>Z</kbd> undo · <kbd>⏎</kbd> submit and next
          </p>
        </>
      )}
    </section>
  );
}
