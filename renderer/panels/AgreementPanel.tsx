// Runs in the renderer. Several readers: agreement per label (Cohen's kappa for two readers,
// Fleiss' for more, raw agreement), each reader against the model, and the adjudication queue where
// the designated reader records the final label.
import { useEffect, useState } from 'react';
import type { AdjudicationItem } from '../../preload/api';
import { useAgreement } from '../state/agreement';
import { useReaders } from '../state/readers';
import { useStudy } from '../state/study';
import { useSideTab } from '../state/tabs';

const num = (v: number | null, digits = 2) => (v === null ? '—' : v.toFixed(digits));
const pct = (v: number | null) => (v === null ? '—' : `${Math.round(v * 100)}%`);

function QueueItem({ item, canDecide }: { item: AdjudicationItem; canDecide: boolean }) {
  const decide = useAgreement((s) => s.decide);
  const [note, setNote] = useState('');
  return (
    <li className={`adjudication${item.final ? ' decided' : ''}`} data-testid="adjudication-item" data-label={item.labelId}>
      <div className="adj-head">
        <button type="button" className="link" onClick={() => void useStudy.getState().open({ kind: 'case', imageId: item.imageId }).then(() => useSideTab.getState().show('review'))}>
          {item.fileName}
        </button>
        <span className="muted">· {item.labelId}</span>
      </div>
      <div className="small">
        {item.votes.map((v) => (
          <span key={v.reader} className={`vote ${v.present ? 'yes' : 'no'}`}>
            {v.reader}: {v.present ? 'present' : 'absent'}
          </span>
        ))}
      </div>
      {item.final ? (
        <div className="small final" data-testid="adjudication-final">
          Final: <strong>{item.final.present ? 'present' : 'absent'}</strong> by {item.final.reader}
          {item.final.note ? ` — ${item.final.note}` : ''}
        </div>
      ) : (
        canDecide && (
          <div className="adj-actions">
            <input type="text" placeholder="Reason (optional)" value={note} maxLength={2000} onChange={(e) => setNote(e.currentTarget.value)} aria-label="Reason" />
            <button type="button" className="small" data-testid="adjudicate-present" onClick={() => void decide(item.imageId, item.labelId, true, note)}>
              Present
            </button>
            <button type="button" className="small" data-testid="adjudicate-absent" onClick={() => void decide(item.imageId, item.labelId, false, note)}>
              Absent
            </button>
          </div>
        )
      )}
    </li>
  );
}

export function AgreementPanel() {
  const { summary, queue, loadAgreement } = useAgreement();
  const { readers, current, adjudicator, setAdjudicator } = useReaders();

  useEffect(() => {
    void loadAgreement();
  }, [loadAgreement]);

  const canDecide = !!current && current.readerId === adjudicator?.readerId;
  return (
    <section className="agreement" aria-label="Agreement">
      <div className="row-between">
        <h2>Agreement</h2>
        <button type="button" className="small" data-testid="agreement-refresh" onClick={() => void loadAgreement()}>
          Refresh
        </button>
      </div>
      {summary && summary.labels.length === 0 && <p className="muted small">No reader has labelled a case yet.</p>}
      {summary && summary.labels.length > 0 && (
        <table className="stats" data-testid="agreement-table">
          <thead>
            <tr>
              <th>Label</th>
              <th title="Readers who called it">Readers</th>
              <th title="Cases with two or more calls">Cases</th>
              <th title="Share of cases where every reader agreed">Raw</th>
              <th title="Cohen's kappa (2 readers) or Fleiss' kappa (more)">κ</th>
            </tr>
          </thead>
          <tbody>
            {summary.labels.map((l) => (
              <tr key={l.labelId}>
                <td>{l.labelId}</td>
                <td>{l.raters.length}</td>
                <td>{l.cases}</td>
                <td>{pct(l.rawAgreement)}</td>
                <td data-testid={`kappa-${l.labelId}`} title={l.method ? `${l.method === 'cohen' ? "Cohen's" : "Fleiss'"} kappa over ${l.kappaCases} cases` : 'Needs two readers'}>
                  {l.kappa === null && l.method && l.rawAgreement === 1 ? 'all agree' : num(l.kappa)}{' '}
                  <span className="muted">{l.method === 'cohen' ? 'Cohen' : l.method === 'fleiss' ? 'Fleiss' : ''}</span>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {summary && summary.labels.some((l) => l.modelVsReader.some((m) => m.cases > 0)) && (
        <>
          <h3>Model against each reader</h3>
          <table className="stats" data-testid="model-agreement-table">
            <thead>
              <tr>
                <th>Label</th>
                <th>Reader</th>
                <th>Cases</th>
                <th>Agree</th>
                <th>κ</th>
              </tr>
            </thead>
            <tbody>
              {summary.labels.flatMap((l) =>
                l.modelVsReader
                  .filter((m) => m.cases > 0)
                  .map((m) => (
                    <tr key={`${l.labelId}-${m.reader}`}>
                      <td>{l.labelId}</td>
                      <td>{m.reader}</td>
                      <td>{m.cases}</td>
                      <td>{pct(m.agreement)}</td>
                      <td>{num(m.kappa)}</td>
                    </tr>
                  )),
              )}
            </tbody>
          </table>
        </>
      )}

      <h3>
        Adjudication <span className="muted small" data-testid="adjudication-pending">{queue ? `${queue.pending} pending` : ''}</span>
      </h3>
      <label className="small adjudicator">
        Adjudicator{' '}
        <select data-testid="adjudicator-select" value={adjudicator?.readerId ?? ''} onChange={(e) => e.currentTarget.value && void setAdjudicator(Number(e.currentTarget.value)).then(loadAgreement)}>
          <option value="">(none yet)</option>
          {readers.map((r) => (
            <option key={r.readerId} value={r.readerId}>
              {r.name}
            </option>
          ))}
        </select>
      </label>
      {adjudicator && !canDecide && <p className="muted small">Switch reader to {adjudicator.name} to record final labels.</p>}
      <ul className="adjudication-queue" data-testid="adjudication-queue">
        {queue?.items.map((item) => <QueueItem key={`${item.imageId}-${item.labelId}`} item={item} canDecide={canDecide} />)}
        {queue && queue.items.length === 0 && <li className="muted small">Readers agree on every case so far.</li>}
      </ul>
    </section>
  );
}
