// Runs in the renderer. The researcher's export of the store's cases: a case-review bundle, COCO or
// DICOM SR, de-identified unless the researcher explicitly confirms keeping patient data, images
// with burned-in annotation only when asked for. The export reads the store; it never changes it.
import { useState, type FormEvent } from 'react';
import type { ExportFormat, ExportSummary } from '../../preload/api';
import { call } from '../api/client';
import { messageOf } from '../api/errors';
import { isAbsolutePath, keepControlKeys } from './tools-common';
import './tools.css';

const FORMATS: { id: ExportFormat; label: string; what: string }[] = [
  { id: 'bundle', label: 'Case-review bundle', what: 'Manifest, cases.csv, an HTML report, the images and their heatmap overlays.' },
  { id: 'coco', label: 'COCO JSON', what: "The regions readers drew, as COCO annotations in image pixels." },
  { id: 'sr', label: 'DICOM SR', what: "A DICOM Structured Report of each model result: probabilities, thresholds and the reader's assessment." },
];

export function ExportPanel() {
  const [format, setFormat] = useState<ExportFormat>('bundle');
  const [identified, setIdentified] = useState(false);
  const [confirmingIdentified, setConfirmingIdentified] = useState(false);
  const [allowBurnedIn, setAllowBurnedIn] = useState(false);
  const [outPath, setOutPath] = useState('');
  const [running, setRunning] = useState(false);
  const [summary, setSummary] = useState<ExportSummary | null>(null);
  const [error, setError] = useState<string | null>(null);

  const path = outPath.trim();
  const pathProblem = !path ? null : !isAbsolutePath(path) ? 'Give the full path of the file, from the top folder.' : !/\.zip$/i.test(path) ? 'The file name must end in .zip.' : null;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!path || pathProblem) return;
    setRunning(true);
    setSummary(null);
    setError(null);
    try {
      setSummary(await call('export.run', { format, identified, allowBurnedIn, outPath: path }));
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setRunning(false);
    }
  };

  return (
    <section className="tools-panel" aria-label="Export" data-testid="export-panel">
      <h2>Export</h2>
      <form className="tool-form" onSubmit={(e) => void submit(e)} onKeyDown={keepControlKeys}>
        <label>
          Format
          <select data-testid="export-format" value={format} onChange={(e) => setFormat(e.currentTarget.value as ExportFormat)}>
            {FORMATS.map((f) => (
              <option key={f.id} value={f.id}>
                {f.label}
              </option>
            ))}
          </select>
        </label>
        <p className="muted small">{FORMATS.find((f) => f.id === format)?.what}</p>
        <label className="check">
          <input
            type="checkbox"
            data-testid="export-deidentify"
            checked={!identified}
            disabled={confirmingIdentified}
            onChange={(e) => {
              if (e.currentTarget.checked) setIdentified(false);
              else setConfirmingIdentified(true);
            }}
          />
          De-identify (PS3.15 basic profile: names, IDs and dates removed or shifted)
        </label>
        {confirmingIdentified && (
          <div className="warning" role="alertdialog" aria-label="Keep patient data?" data-testid="export-identified-confirm">
            <p>The export will contain names, IDs, birth dates and other patient data. Only keep them when the export stays where that data may be.</p>
            <div className="row-gap">
              <button
                type="button"
                className="small danger"
                data-testid="export-identified-yes"
                onClick={() => {
                  setIdentified(true);
                  setConfirmingIdentified(false);
                }}
              >
                Keep patient data
              </button>
              <button type="button" className="small" autoFocus data-testid="export-identified-no" onClick={() => setConfirmingIdentified(false)}>
                Keep de-identifying
              </button>
            </div>
          </div>
        )}
        {identified && (
          <p className="field-error small" data-testid="export-identified">
            Patient data will be kept in this export.
          </p>
        )}
        <label className="check">
          <input type="checkbox" data-testid="export-burned-in" checked={allowBurnedIn} onChange={(e) => setAllowBurnedIn(e.currentTarget.checked)} />
          Include images with burned-in annotation
        </label>
        {allowBurnedIn && (
          <p className="warning small" data-testid="export-burned-in-warning">
            These images carry text in their pixels (often names, IDs or dates). De-identification cannot remove it; check every such image before the export
            leaves this workstation.
          </p>
        )}
        <label>
          Save as (.zip)
          <input
            type="text"
            data-testid="export-path"
            placeholder="/home/me/resight-export.zip"
            spellCheck={false}
            autoComplete="off"
            value={outPath}
            aria-invalid={pathProblem !== null}
            onChange={(e) => setOutPath(e.currentTarget.value)}
          />
        </label>
        {pathProblem && <p className="field-error small">{pathProblem}</p>}
        <button type="submit" className="primary" data-testid="export-run" disabled={running || !path || pathProblem !== null || confirmingIdentified}>
          {running ? 'Exporting…' : 'Export'}
        </button>
      </form>
      {error && (
        <p className="field-error" role="alert" data-testid="export-error">
          {error}
        </p>
      )}
      {summary && (
        <div className="tool-result" role="status" data-testid="export-summary">
          <p>
            <strong data-testid="export-cases">{summary.cases}</strong> case{summary.cases === 1 ? '' : 's'} exported ({summary.format}) to{' '}
            <span className="path">{summary.out}</span>
          </p>
          {summary.excluded.length > 0 && (
            <>
              <p className="small">{summary.excluded.length} left out:</p>
              <ul className="small" data-testid="export-excluded">
                {summary.excluded.map((x) => (
                  <li key={x.case}>
                    Case {x.case}: {x.reason}
                  </li>
                ))}
              </ul>
            </>
          )}
        </div>
      )}
    </section>
  );
}
