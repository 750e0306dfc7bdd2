// Runs in the renderer. The study browser in the left column: a folder (read recursively) or a
// DICOMDIR opened by its path, its studies listed (patient, ID, date, modalities, description), and
// the chosen study's series as a strip of thumbnails. A series opens at its first instance; the
// wheel and ↑↓ then walk its instances (and the frames of a multi-frame one).
import { useEffect, useRef, useState, type FormEvent } from 'react';
import type { StudyTree } from '../../preload/api';
import { call } from '../api/client';
import { useSession } from '../state/session';
import { useStudy } from '../state/study';
import './StudyBrowser.css';

type Patient = StudyTree['patients'][number];
type Study = Patient['studies'][number];
type Series = Study['series'][number];

interface StudyRow {
  key: string;
  patient: Patient;
  study: Study;
}

const THUMB_SIZE = 96;

/** Thumbnails already drawn, by file path, the most recent last: reselecting a study does not ask again. */
const thumbnails = new Map<string, ImageData>();
/** About 37 kB each at 96 px: a few hundred series' worth. */
const THUMB_CACHE_LIMIT = 400;

function remember(path: string, image: ImageData): void {
  thumbnails.delete(path);
  thumbnails.set(path, image);
  while (thumbnails.size > THUMB_CACHE_LIMIT) thumbnails.delete(thumbnails.keys().next().value as string);
}

const fileName = (p: string) => p.split(/[\\/]/).pop() ?? p;
/** DICOM dates (YYYYMMDD) as ISO dates; anything else as it came. */
const formatDate = (d: string | undefined) => (d && /^\d{8}$/.test(d) ? `${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6)}` : d);
const personName = (n: string | undefined) => n?.replace(/\^+/g, ' ').trim();
const modalities = (study: Study) => [...new Set(study.series.map((s) => s.modality).filter(Boolean))].join(', ');
const instanceCount = (series: Series) => `${series.instances.length} ${series.instances.length === 1 ? 'image' : 'images'}`;

function Thumbnail({ path, label }: { path: string; label: string }) {
  const ref = useRef<HTMLCanvasElement>(null);
  const [state, setState] = useState<'loading' | 'drawn' | 'failed'>(thumbnails.has(path) ? 'drawn' : 'loading');
  useEffect(() => {
    let live = true;
    const draw = (image: ImageData) => {
      const canvas = ref.current;
      const ctx = canvas?.getContext('2d');
      if (!canvas || !ctx) return;
      canvas.width = image.width;
      canvas.height = image.height;
      ctx.putImageData(image, 0, 0);
      setState('drawn');
    };
    const cached = thumbnails.get(path);
    if (cached) {
      draw(cached);
      return;
    }
    call('studies.thumbnail', { path, size: THUMB_SIZE }).then(
      ({ meta, data }) => {
        const image = new ImageData(meta.width, meta.height);
        for (let i = 0; i < meta.width * meta.height; i++) {
          const v = data[i] ?? 0;
          image.data[i * 4] = image.data[i * 4 + 1] = image.data[i * 4 + 2] = v;
          image.data[i * 4 + 3] = 255;
        }
        remember(path, image);
        if (live) draw(image);
      },
      // A file that cannot be previewed may still open (and say why it cannot): no notice here.
      () => live && setState('failed'),
    );
    return () => {
      live = false;
    };
  }, [path]);
  return (
    <span className="thumb-box">
      <canvas ref={ref} className="thumb" data-testid="series-thumbnail" data-state={state} aria-label={label} role="img" />
      {state === 'failed' && <span className="thumb-note">No preview</span>}
    </span>
  );
}

function SeriesStrip({ study }: { study: Study }) {
  const stack = useStudy((s) => s.stack);
  const open = (series: Series) =>
    void useStudy.getState().openSeries({
      seriesInstanceUid: series.seriesInstanceUid,
      instances: series.instances.map((i) => ({ path: i.path, frames: i.frames })),
      position: 0,
    });
  return (
    <ul className="series-strip" aria-label="Series" data-testid="series-strip">
      {study.series.map((series, i) => {
        const first = series.instances[0];
        const current = stack?.seriesInstanceUid === series.seriesInstanceUid;
        const title = [series.seriesNumber !== undefined ? `Series ${series.seriesNumber}` : `Series ${i + 1}`, series.modality, series.description].filter(Boolean).join(' · ');
        return (
          <li key={series.seriesInstanceUid}>
            <button
              type="button"
              className={current ? 'series active' : 'series'}
              aria-current={current ? 'true' : undefined}
              aria-label={`${title}, ${instanceCount(series)}: open`}
              data-testid={`series-${i}`}
              disabled={!first}
              onClick={() => open(series)}
            >
              {first && <Thumbnail path={first.path} label={`Preview of ${title}`} />}
              <span className="series-text">
                <span className="series-title">
                  {series.seriesNumber ?? i + 1}
                  {series.modality && <span className="format dicom">{series.modality}</span>}
                </span>
                {series.description && <span className="series-desc">{series.description}</span>}
                <span className="muted">{instanceCount(series)}</span>
              </span>
            </button>
          </li>
        );
      })}
    </ul>
  );
}

export function StudyBrowser() {
  const [path, setPath] = useState('');
  const [tree, setTree] = useState<StudyTree | null>(null);
  const [scanning, setScanning] = useState(false);
  const [selected, setSelected] = useState<string | null>(null);

  const rows: StudyRow[] = (tree?.patients ?? []).flatMap((patient, p) => patient.studies.map((study) => ({ key: `${p}|${study.studyInstanceUid}`, patient, study })));
  const chosen = rows.find((r) => r.key === selected) ?? null;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const p = path.trim();
    if (!p) return;
    setScanning(true);
    try {
      const scanned = await call('studies.scanFolder', { path: p });
      setTree(scanned);
      const first = scanned.patients[0]?.studies[0];
      // One study: show its series at once.
      setSelected(scanned.patients.length === 1 && scanned.patients[0]?.studies.length === 1 && first ? `0|${first.studyInstanceUid}` : null);
    } catch (err) {
      useSession.getState().reportError(err);
    } finally {
      setScanning(false);
    }
  };

  return (
    <section className="panel study-browser" aria-label="Study browser" data-testid="study-browser">
      <h2>Studies</h2>
      <form className="open-path" onSubmit={(e) => void submit(e)}>
        <label htmlFor="browse-path">Folder or DICOMDIR</label>
        <div className="row">
          <input
            id="browse-path"
            type="text"
            placeholder="/path/to/folder"
            value={path}
            onChange={(e) => setPath(e.currentTarget.value)}
            spellCheck={false}
            autoComplete="off"
            data-testid="browse-path"
          />
          <button type="submit" disabled={!path.trim() || scanning} data-testid="browse-open">
            {scanning ? 'Reading…' : 'Read'}
          </button>
        </div>
      </form>
      {tree && (
        <>
          <ul className="study-list" aria-label="Studies found" data-testid="study-list">
            {rows.map(({ key, patient, study }) => {
              const active = key === selected;
              return (
                <li key={key}>
                  <button
                    type="button"
                    className={active ? 'sample active' : 'sample'}
                    aria-pressed={active}
                    data-testid="study-row"
                    onClick={() => setSelected(active ? null : key)}
                  >
                    <span className="sample-name">{personName(patient.patientName) ?? 'Unnamed patient'}</span>
                    <span className="sample-meta">
                      {patient.patientId && <span>ID {patient.patientId}</span>}
                      {study.studyDate && <span>{formatDate(study.studyDate)}</span>}
                      {modalities(study) && <span className="format dicom">{modalities(study)}</span>}
                    </span>
                    {study.description && <span className="sample-meta">{study.description}</span>}
                  </button>
                  {active && <SeriesStrip study={study} />}
                </li>
              );
            })}
            {rows.length === 0 && <li className="muted">No DICOM studies here.</li>}
          </ul>
          {tree.rasters.length > 0 && (
            <>
              <h3 className="browser-sub">Other images</h3>
              <ul className="study-list" aria-label="PNG and JPEG images found" data-testid="raster-list">
                {tree.rasters.map((r) => (
                  <li key={r}>
                    <button type="button" className="sample" title={r} onClick={() => void useStudy.getState().open({ kind: 'file', path: r })}>
                      <span className="sample-name">{fileName(r)}</span>
                    </button>
                  </li>
                ))}
              </ul>
            </>
          )}
          {tree.skipped > 0 && (
            <p className="muted small" data-testid="browse-skipped">
              {tree.skipped} {tree.skipped === 1 ? 'file was' : 'files were'} neither DICOM nor PNG/JPEG and {tree.skipped === 1 ? 'was' : 'were'} left out.
            </p>
          )}
          {chosen === null && rows.length > 1 && <p className="muted small">Choose a study to see its series.</p>}
        </>
      )}
    </section>
  );
}
