// Runs in the renderer. The left column: bundled samples, and opening a file of one's own
// (the native dialog in Electron; a path on this computer in browser mode).
import { useState, type FormEvent } from 'react';
import { getTransport } from '../api/client';
import { useSession } from '../state/session';
import { useStudy } from '../state/study';

const FORMAT_LABEL = { dicom: 'DICOM', png: 'PNG', jpeg: 'JPEG' } as const;

function OpenFile() {
  const frontDoor = useSession((s) => s.frontDoor);
  const open = useStudy((s) => s.open);
  const [path, setPath] = useState('');
  if (frontDoor === 'electron' && getTransport().openFileDialog) {
    return (
      <button type="button" className="wide" onClick={() => void useStudy.getState().openWithDialog()}>
        Open file…
      </button>
    );
  }

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const p = path.trim();
    if (p) void open({ kind: 'file', path: p });
  };
  return (
    <form className="open-path" onSubmit={submit}>
      <label htmlFor="open-path">File on this computer</label>
      <div className="row">
        <input
          id="open-path"
          type="text"
          placeholder="/path/to/image.dcm"
          value={path}
          onChange={(e) => setPath(e.currentTarget.value)}
          spellCheck={false}
          autoComplete="off"
        />
        <button type="submit" disabled={!path.trim()}>
          Open
        </button>
      </div>
    </form>
  );
}

export function SamplesPanel() {
  const samples = useStudy((s) => s.samples);
  const loaded = useStudy((s) => s.samplesLoaded);
  const current = useStudy((s) => s.sampleName);
  const open = useStudy((s) => s.open);

  return (
    <aside className="panel left" aria-label="Studies">
      <h2>Samples</h2>
      <ul className="sample-list" data-testid="sample-list">
        {samples.map((s) => (
          <li key={s.name}>
            <button
              type="button"
              data-testid={`sample-${s.name}`}
              className={s.name === current ? 'sample active' : 'sample'}
              aria-current={s.name === current ? 'true' : undefined}
              onClick={() => void open({ kind: 'sample', name: s.name })}
            >
              <span className="sample-name">{s.name}</span>
              <span className="sample-meta">
                <span className={`format ${s.format}`}>{FORMAT_LABEL[s.format]}</span>
                {s.description && <span>{s.description}</span>}
              </span>
            </button>
          </li>
        ))}
        {loaded && samples.length === 0 && <li className="muted">No samples found.</li>}
        {!loaded && <li className="muted">Loading…</li>}
      </ul>
      <h2>Open</h2>
      <OpenFile />
    </aside>
  );
}
