// Runs in the renderer. The researcher's view of heatmap against annotation: for every region a
// reader drew for a label they called present, whether the model's Grad-CAM peak falls inside it
// (pointing game) and the IoU of the CAM above half its maximum with it; per case and in aggregate.
import { useEffect } from 'react';
import { useAgreement } from '../state/agreement';

const pct = (v: number | null) => (v === null ? '—' : `${Math.round(v * 100)}%`);
const num = (v: number | null) => (v === null ? '—' : v.toFixed(2));

export function ResearchPanel() {
  const { overlap, loadOverlap } = useAgreement();
  useEffect(() => {
    void loadOverlap();
  }, [loadOverlap]);

  return (
    <section className="research" aria-label="Heatmap against annotation">
      <div className="row-between">
        <h2>Heatmap vs regions</h2>
        <button type="button" className="small" onClick={() => void loadOverlap()}>
          Refresh
        </button>
      </div>
      <p className="muted small">Regions drawn for labels the reader called present, against the model's Grad-CAM from its latest run on the case.</p>
      {overlap && overlap.overall.regions === 0 && <p className="muted small">No scored regions yet: run the model on a case and draw a box for a present label.</p>}
      {overlap && overlap.overall.regions > 0 && (
        <>
          <p data-testid="overlap-overall">
            {overlap.overall.regions} region{overlap.overall.regions === 1 ? '' : 's'} · pointing game <strong>{pct(overlap.overall.pointingGame)}</strong> · mean IoU{' '}
            <strong>{num(overlap.overall.meanIou)}</strong>
          </p>
          <table className="stats">
            <thead>
              <tr>
                <th>Label</th>
                <th>Regions</th>
                <th>Pointing</th>
                <th>IoU</th>
              </tr>
            </thead>
            <tbody>
              {overlap.perLabel.map((l) => (
                <tr key={l.labelId}>
                  <td>{l.labelId}</td>
                  <td>{l.regions}</td>
                  <td>{pct(l.pointingGame)}</td>
                  <td>{num(l.meanIou)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <h3>Per case</h3>
          <table className="stats" data-testid="overlap-cases">
            <thead>
              <tr>
                <th>Case</th>
                <th>Reader</th>
                <th>Label</th>
                <th>Hit</th>
                <th>IoU</th>
              </tr>
            </thead>
            <tbody>
              {overlap.cases.map((c, i) => (
                <tr key={i}>
                  <td>{c.fileName}</td>
                  <td>{c.reader}</td>
                  <td>{c.labelId}</td>
                  <td>{c.hit ? 'yes' : 'no'}</td>
                  <td>{c.iou.toFixed(2)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}
