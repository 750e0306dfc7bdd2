// Runs in the renderer. What the model says about the open image, and plainly what the model is:
// id, version, provider, its notice, and that this is decision support. The reader picks the label
// whose CAM is shown and the CAM method; occlusion shows its progress and can be cancelled.
import type { Finding } from '../../preload/api';
import { useFindings } from '../state/findings';
import { useStudy } from '../state/study';
import { CamMethodSelect } from './CamMethodSelect';
import { SendToPacs } from './SendToPacs';

const pct = (p: number) => `${(p * 100).toFixed(1)}%`;

/** The model's identity, its notice and what it is for; shown whether or not it has run. */
export function ModelPanel() {
  const model = useFindings((s) => s.result?.model ?? s.model);
  const known = useFindings((s) => s.modelsLoaded);
  const used = useFindings((s) => s.result?.provider.used ?? null);
  const requested = useFindings((s) => s.result?.provider.requested ?? s.requestedProvider);
  const provider = used ?? (requested ? `${requested} (not run yet)` : null);
  return (
    <section className="model-header" aria-label="Model">
      <h2>AI model</h2>
      {model ? (
        <div className="model-info">
          {model.placeholder && (
            <div className="placeholder-warning" role="status">
              UNTRAINED PLACEHOLDER MODEL
              <small>Its outputs are random and mean nothing.</small>
            </div>
          )}
          <div className="model-badge" data-testid="model-badge" title={`ONNX sha256 ${model.sha256}`}>
            <span className="model-id">{model.id}</span>
            <span className="model-version">v{model.version}</span>
            {provider && (
              <span className="model-provider" data-testid="model-provider" title={requested && used ? `asked for ${requested}` : undefined}>
                {provider}
              </span>
            )}
          </div>
          <p className="model-notice">{model.notice}</p>
          <p className="decision-support">Decision support — not a diagnosis</p>
        </div>
      ) : (
        <div className="model-badge muted">{known ? 'No model is installed' : 'Model not loaded yet'}</div>
      )}
    </section>
  );
}

function FindingRow({ finding, top, selected, onSelect }: { finding: Finding; top: boolean; selected: boolean; onSelect(): void }) {
  const cls = ['finding', top ? 'top' : '', selected ? 'selected' : '', finding.positive ? 'positive' : 'negative'].join(' ');
  return (
    <li>
      <button
        type="button"
        className={cls}
        data-testid={top ? 'top-finding' : undefined}
        aria-pressed={selected}
        title="Show the heatmap for this label"
        onClick={onSelect}
      >
        <span className="finding-head">
          <span className="finding-name">{finding.name}</span>
          <span className="finding-prob">{pct(finding.probability)}</span>
        </span>
        <span className="prob-bar" aria-hidden="true">
          <span className="prob-fill" style={{ width: pct(finding.probability) }} />
          <span className="prob-threshold" style={{ left: pct(finding.threshold) }} />
        </span>
        <span className="finding-foot">
          <span className="verdict-tag">{finding.positive ? 'Positive' : 'Negative'}</span>
          <span className="muted">threshold {pct(finding.threshold)}</span>
          {top && <span className="top-tag">Top finding</span>}
        </span>
      </button>
    </li>
  );
}

function MethodChooser() {
  const method = useFindings((s) => s.method);
  const progress = useFindings((s) => s.progress);
  const loadingCam = useFindings((s) => s.loadingCam);
  const { setMethod, cancelCam } = useFindings.getState();
  return (
    <div className="cam-method">
      <label>
        Heatmap method{' '}
        <CamMethodSelect label="CAM method" testId="cam-method" value={method} disabled={loadingCam} onChange={(m) => void setMethod(m)} />
      </label>
      {progress && (
        <div className="cam-progress" role="status" data-testid="cam-progress">
          <progress max={progress.total} value={progress.done} aria-label="Occlusion progress" />
          <span className="small">
            {progress.done} / {progress.total}
          </span>
          <button type="button" onClick={() => void cancelCam()} data-testid="cam-cancel">
            Cancel
          </button>
        </div>
      )}
    </div>
  );
}

export function FindingsPanel() {
  const info = useStudy((s) => s.info);
  const frameIndex = useStudy((s) => s.frameIndex);
  const { model, modelsLoaded, result, selectedLabelId, running, loadingCam, run, select } = useFindings();
  const noModel = modelsLoaded && !(result?.model ?? model);

  return (
    <section className="findings" aria-label="Model findings">
      <h2>Findings</h2>
      <button
        type="button"
        className="primary wide"
        data-testid="run-model"
        disabled={!info || running || noModel}
        onClick={() => info && void run(info.imageId, frameIndex)}
      >
        {running ? 'Running model…' : result ? 'Run model again' : 'Run model'}
      </button>
      {result && (
        <>
          <MethodChooser />
          <ul className="finding-list" aria-busy={loadingCam}>
            {result.findings.map((f, i) => (
              <FindingRow
                key={f.labelId}
                finding={f}
                top={i === 0}
                selected={f.labelId === selectedLabelId}
                onSelect={() => void select(f.labelId)}
              />
            ))}
          </ul>
          <p className="muted small">
            {result.inferenceMs.toFixed(0)} ms on {result.provider.used}
            {result.frame > 0 ? ` · frame ${result.frame + 1}` : ''} · click a finding to see its heatmap
          </p>
          {info?.format === 'dicom' && <SendToPacs resultId={result.resultId} />}
        </>
      )}
      {!result && info && !running && <p className="muted small">The model has not been run on this image.</p>}
    </section>
  );
}
