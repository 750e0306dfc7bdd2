// Runs in the renderer. Batch review: run the model over a folder (or studies picked in the PACS
// tab) with a chosen CAM method, and follow every job: progress, failures, time left, pause and
// resume (a job paused before a restart is listed as paused and resumes where it stopped), and
// where its results and case-review bundle went.
import { useEffect, useState, type FormEvent } from 'react';
import type { BatchJob } from '../../preload/api';
import { useBatch } from '../state/batch';
import { methodName } from '../state/findings';
import { useSideTab } from '../state/tabs';
import { CamMethodSelect } from './CamMethodSelect';
import { humanDuration, isAbsolutePath, keepControlKeys } from './tools-common';
import './tools.css';

const STATE_WORDS: Record<BatchJob['state'], string> = {
  running: 'Running',
  pausing: 'Pausing after the images in flight',
  paused: 'Paused',
  finished: 'Finished',
  failed: 'Failed',
};

function StartForm() {
  const { cam, setCam, start, starting } = useBatch();
  const [folder, setFolder] = useState('');
  const path = folder.trim();
  const problem = path && !isAbsolutePath(path) ? 'Give the full path of the folder, from the top folder.' : null;
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!path || problem) return;
    if (await start({ kind: 'folder', path })) setFolder('');
  };
  return (
    <form className="tool-form" aria-label="Start a batch review" onSubmit={(e) => void submit(e)}>
      <label>
        Folder of images (DICOM, PNG, JPEG or a DICOMDIR)
        <input
          type="text"
          data-testid="batch-folder"
          placeholder="/data/study-folder"
          spellCheck={false}
          autoComplete="off"
          value={folder}
          aria-invalid={problem !== null}
          onChange={(e) => setFolder(e.currentTarget.value)}
        />
      </label>
      {problem && <p className="field-error small">{problem}</p>}
      <label>
        Heatmap method
        <CamMethodSelect testId="batch-cam" value={cam} onChange={setCam} />
      </label>
      <button type="submit" className="primary" data-testid="batch-start" disabled={starting || !path || problem !== null}>
        {starting ? 'Starting…' : 'Review the folder with the model'}
      </button>
      <p className="muted small">
        To review studies from a PACS, tick them in the{' '}
        <button type="button" className="link" onClick={() => useSideTab.getState().show('pacs')}>
          PACS tab
        </button>
        .
      </p>
    </form>
  );
}

function JobRow({ job }: { job: BatchJob }) {
  const { pause, resume } = useBatch.getState();
  const active = job.state === 'running' || job.state === 'pausing';
  const label = `${job.source === 'pacs' ? 'PACS' : 'Folder'} batch started ${new Date(job.startedAt).toLocaleString()}`;
  return (
    <li className={`batch-job ${job.state}`} data-testid="batch-job" data-job-id={job.jobId} data-state={job.state} aria-label={label}>
      <div className="row-between">
        <span className="small">
          {job.source === 'pacs' ? 'PACS' : 'Folder'} · {new Date(job.startedAt).toLocaleString()}
        </span>
        <span className={`status ${job.state}`} data-testid="batch-state">
          {STATE_WORDS[job.state]}
        </span>
      </div>
      <div className="small batch-what" data-testid="batch-what" title={job.description}>
        {job.description}
      </div>
      <div className="small muted" data-testid="batch-model">
        {job.model.id} {job.model.version} · {methodName(job.cam)} · decision support
      </div>
      <div className="tool-progress">
        <progress max={job.total || 1} value={job.total ? job.done : 0} aria-label="Batch progress" />
        <span className="small num" data-testid="batch-count">
          {job.done} / {job.total}
        </span>
      </div>
      <div className="job-facts small">
        <span data-testid="batch-failed" className={job.failed ? 'bad' : 'muted'}>
          {job.failed} failed
        </span>
        {job.resumed > 0 && <span className="muted">{job.resumed} from an earlier run</span>}
        {active && job.etaSeconds !== null && <span data-testid="batch-eta">about {humanDuration(job.etaSeconds)} left</span>}
      </div>
      {job.error && (
        <p className="field-error small" role="alert" data-testid="batch-error">
          {job.error.message}
        </p>
      )}
      {job.state === 'finished' && (
        <dl className="job-out small" data-testid="batch-out">
          <dt>Results</dt>
          <dd className="path" data-testid="batch-outdir">
            {job.outDir}
          </dd>
          {job.bundle && (
            <>
              <dt>Bundle</dt>
              <dd className="path" data-testid="batch-bundle">
                {job.bundle}
              </dd>
            </>
          )}
        </dl>
      )}
      <div className="row-gap">
        {job.state === 'running' && (
          <button type="button" className="small" data-testid="batch-pause" aria-label={`Pause: ${label}`} onClick={() => void pause(job.jobId)}>
            Pause
          </button>
        )}
        {job.state === 'paused' && (
          <button type="button" className="small primary" data-testid="batch-resume" aria-label={`Resume: ${label}`} onClick={() => void resume(job.jobId)}>
            Resume
          </button>
        )}
      </div>
    </li>
  );
}

export function BatchPanel() {
  const { jobs, loaded, load } = useBatch();
  useEffect(() => {
    void load();
  }, [load]);
  return (
    <section className="tools-panel" aria-label="Batch review" data-testid="batch-panel" onKeyDown={keepControlKeys}>
      <h2>Batch review</h2>
      <StartForm />
      <div className="row-between">
        <h3>Jobs</h3>
        <button type="button" className="small" onClick={() => void load()}>
          Refresh
        </button>
      </div>
      <ul className="tool-list" data-testid="batch-jobs">
        {jobs.map((j) => (
          <JobRow key={j.jobId} job={j} />
        ))}
        {loaded && jobs.length === 0 && <li className="muted small">No batch review yet.</li>}
      </ul>
      <p className="decision-support small">Batch results are decision support, not a diagnosis.</p>
    </section>
  );
}
