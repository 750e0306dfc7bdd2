// Runs in the renderer. The workstation's settings: where inference runs (execution provider, CPU
// threads), the decoded-frame cache budget, the active model, the PACS servers, and encryption of
// the feedback database. Passwords and tokens are written, never read back: the field is always
// empty, and the list says only whether one is stored.
import { useEffect, useState, type FormEvent } from 'react';
import type { DatabaseEncryptionState, ExecutionProvider, PacsAuth, PacsServer } from '../../preload/api';
import { call } from '../api/client';
import { useFindings } from '../state/findings';
import { usePacs } from '../state/pacs';
import { useSession } from '../state/session';
import { useSettings } from '../state/settings';
import { keepControlKeys, parseCount } from './tools-common';
import './tools.css';

const PROVIDERS: { id: ExecutionProvider; label: string }[] = [
  { id: 'auto', label: 'Automatic (GPU when available, else CPU)' },
  { id: 'cpu', label: 'CPU' },
  { id: 'webgpu', label: 'WebGPU (Vulkan / Metal / Direct3D)' },
  { id: 'cuda', label: 'CUDA (NVIDIA)' },
  { id: 'dml', label: 'DirectML (Windows)' },
  { id: 'coreml', label: 'Core ML (macOS)' },
];

function InferenceSettings() {
  const settings = useSettings((s) => s.settings);
  const saving = useSettings((s) => s.saving);
  const save = useSettings((s) => s.save);
  const used = useFindings((s) => s.result?.provider.used ?? null);
  const [provider, setProvider] = useState<ExecutionProvider>('auto');
  const [threads, setThreads] = useState('');
  const [cache, setCache] = useState('');
  const [status, setStatus] = useState<string | null>(null);

  // The fields show what is stored whenever the stored settings change (load, save).
  useEffect(() => {
    if (!settings) return;
    setProvider(settings.provider);
    setThreads(settings.threads === null ? '' : String(settings.threads));
    setCache(settings.frameCacheMB === null ? '' : String(settings.frameCacheMB));
  }, [settings]);

  const threadCount = parseCount(threads, 1, 256);
  const cacheMB = parseCount(cache, 64, 262_144);
  const invalid = threadCount === undefined || cacheMB === undefined;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (invalid) return;
    setStatus(null);
    if (await save({ provider, threads: threadCount, frameCacheMB: cacheMB })) setStatus('Saved. The next model run uses these settings.');
  };

  return (
    <form className="tool-form" aria-label="Inference settings" onSubmit={(e) => void submit(e)} onKeyDown={keepControlKeys}>
      <h3>Inference</h3>
      <label>
        Execution provider
        <select data-testid="settings-provider" value={provider} disabled={!settings} onChange={(e) => setProvider(e.currentTarget.value as ExecutionProvider)}>
          {PROVIDERS.map((p) => (
            <option key={p.id} value={p.id}>
              {p.label}
            </option>
          ))}
        </select>
      </label>
      <p className="muted small" data-testid="settings-provider-used">
        {used
          ? `The last run used ${used}; the model badge above always names the provider a result came from.`
          : 'The provider a result actually came from is named in the model badge above after each run (a GPU that fails falls back to CPU).'}
      </p>
      <label>
        CPU threads
        <input
          type="text"
          inputMode="numeric"
          data-testid="settings-threads"
          placeholder="all cores but one"
          value={threads}
          aria-invalid={threadCount === undefined}
          onChange={(e) => setThreads(e.currentTarget.value)}
        />
      </label>
      {threadCount === undefined && <p className="field-error small">Threads: a whole number from 1 to 256, or blank for all cores but one.</p>}
      <label>
        Frame cache (MiB)
        <input
          type="text"
          inputMode="numeric"
          data-testid="settings-frame-cache"
          placeholder="default (1024, or RESIGHT_FRAME_CACHE_MB)"
          value={cache}
          aria-invalid={cacheMB === undefined}
          onChange={(e) => setCache(e.currentTarget.value)}
        />
      </label>
      {cacheMB === undefined && <p className="field-error small">Frame cache: a whole number of MiB from 64 to 262144, or blank for the default.</p>}
      <div className="save-row">
        <button type="submit" className="primary" data-testid="settings-save" disabled={!settings || saving || invalid}>
          {saving ? 'Saving…' : 'Save settings'}
        </button>
        {status && (
          <span className="saved-line" role="status" data-testid="settings-saved">
            {status}
          </span>
        )}
      </div>
    </form>
  );
}

function ModelChooser() {
  const models = useSettings((s) => s.models);
  const loaded = useSettings((s) => s.loaded);
  const setActive = useSettings((s) => s.setActiveModel);
  return (
    <section className="tool-form" aria-label="Models">
      <h3>Model</h3>
      {loaded && models.length === 0 && <p className="muted small">No model is installed.</p>}
      <ul className="tool-list" data-testid="settings-models">
        {models.map((m) => (
          <li key={`${m.id}@${m.version}`} className={m.active ? 'active' : ''} data-testid={`model-${m.id}-${m.version}`}>
            <div className="row-between">
              <span>
                <strong>{m.id}</strong> <span className="model-version">v{m.version}</span>
                {m.source === 'user' && <span className="muted small"> · imported</span>}
              </span>
              {m.active ? (
                <span className="pill on" data-testid="model-active">
                  Active
                </span>
              ) : (
                <button type="button" className="small" aria-label={`Use ${m.id} version ${m.version}`} onClick={() => void setActive(m.id, m.version)}>
                  Use this model
                </button>
              )}
            </div>
            {m.placeholder && <p className="field-error small">Untrained placeholder: its outputs mean nothing.</p>}
            <p className="model-notice">{m.notice}</p>
            <p className="small">
              <span className="muted">Intended use: </span>
              {m.intendedUse}
            </p>
            <p className="muted small">
              {m.labels.length} label{m.labels.length === 1 ? '' : 's'}: {m.labels.map((l) => l.name).join(', ')}
            </p>
          </li>
        ))}
      </ul>
      <p className="decision-support small">Every model here is decision support, not a diagnosis.</p>
    </section>
  );
}

interface ServerDraft {
  id?: string;
  name: string;
  url: string;
  auth: PacsAuth;
  user: string;
  secret: string;
  /** Editing a server that has a stored secret: a blank field keeps it. */
  hasSecret: boolean;
}

const NEW_SERVER: ServerDraft = { name: '', url: '', auth: 'none', user: '', secret: '', hasSecret: false };

function ServerForm({ draft, onDone }: { draft: ServerDraft; onDone(): void }) {
  const saveServer = usePacs((s) => s.saveServer);
  const [d, setD] = useState(draft);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const patch = (p: Partial<ServerDraft>) => setD((x) => ({ ...x, ...p }));
  const secretWord = d.auth === 'bearer' ? 'Token' : 'Password';

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    const failure = await saveServer({
      ...(d.id ? { id: d.id } : {}),
      name: d.name.trim(),
      url: d.url.trim(),
      auth: d.auth,
      ...(d.auth === 'basic' && d.user.trim() ? { user: d.user.trim() } : {}),
      ...(d.auth !== 'none' && d.secret ? { secret: d.secret } : {}),
    });
    setBusy(false);
    if (failure) setError(failure);
    else onDone();
  };

  return (
    <form className="tool-form server-form" aria-label={d.id ? 'Edit PACS server' : 'Add a PACS server'} onSubmit={(e) => void submit(e)} onKeyDown={keepControlKeys}>
      <label>
        Name
        <input type="text" data-testid="server-name" required maxLength={100} value={d.name} onChange={(e) => patch({ name: e.currentTarget.value })} />
      </label>
      <label>
        DICOMweb URL
        <input
          type="url"
          data-testid="server-url"
          required
          placeholder="http://pacs.local:8042/dicom-web"
          value={d.url}
          spellCheck={false}
          onChange={(e) => patch({ url: e.currentTarget.value })}
        />
      </label>
      <label>
        Authentication
        <select data-testid="server-auth" value={d.auth} onChange={(e) => patch({ auth: e.currentTarget.value as PacsAuth })}>
          <option value="none">None</option>
          <option value="basic">Basic (user and password)</option>
          <option value="bearer">Bearer token</option>
        </select>
      </label>
      {d.auth === 'basic' && (
        <label>
          User
          <input type="text" data-testid="server-user" autoComplete="off" value={d.user} onChange={(e) => patch({ user: e.currentTarget.value })} />
        </label>
      )}
      {d.auth !== 'none' && (
        <label>
          {secretWord}
          <input
            type="password"
            data-testid="server-secret"
            autoComplete="new-password"
            placeholder={d.hasSecret ? `stored; leave blank to keep it` : ''}
            value={d.secret}
            onChange={(e) => patch({ secret: e.currentTarget.value })}
          />
        </label>
      )}
      {error && (
        <p className="field-error" role="alert" data-testid="server-error">
          {error}
        </p>
      )}
      <div className="save-row">
        <button type="submit" className="primary small" data-testid="server-save" disabled={busy || !d.name.trim() || !d.url.trim()}>
          {busy ? 'Saving…' : 'Save server'}
        </button>
        <button type="button" className="small" onClick={onDone}>
          Cancel
        </button>
      </div>
    </form>
  );
}

const draftOf = (s: PacsServer): ServerDraft => ({ id: s.id, name: s.name, url: s.url, auth: s.auth, user: s.user ?? '', secret: '', hasSecret: s.hasSecret });

const AUTH_WORDS: Record<PacsAuth, string> = { none: 'no authentication', basic: 'basic', bearer: 'bearer token' };

function PacsServers() {
  const { servers, serversLoaded, loadServers, removeServer } = usePacs();
  const [editing, setEditing] = useState<ServerDraft | null>(null);
  useEffect(() => {
    void loadServers();
  }, [loadServers]);
  return (
    <section className="tool-form" aria-label="PACS servers">
      <div className="row-between">
        <h3>PACS servers</h3>
        {!editing && (
          <button type="button" className="small" data-testid="server-add" onClick={() => setEditing(NEW_SERVER)}>
            Add server
          </button>
        )}
      </div>
      <ul className="tool-list" data-testid="server-list">
        {servers.map((s) => (
          <li key={s.id} data-testid={`server-${s.id}`}>
            <div className="row-between">
              <strong>{s.name}</strong>
              <span className="row-gap">
                <button type="button" className="small" aria-label={`Edit ${s.name}`} onClick={() => setEditing(draftOf(s))}>
                  Edit
                </button>
                <button type="button" className="small" aria-label={`Remove ${s.name}`} data-testid={`server-remove-${s.id}`} onClick={() => void removeServer(s.id)}>
                  Remove
                </button>
              </span>
            </div>
            <span className="muted small url">{s.url}</span>
            <span className="muted small">
              {AUTH_WORDS[s.auth]}
              {s.user ? ` · ${s.user}` : ''}
              {s.auth !== 'none' ? (s.hasSecret ? ' · secret stored' : ' · no secret stored') : ''}
            </span>
          </li>
        ))}
        {serversLoaded && servers.length === 0 && !editing && <li className="muted small">No PACS server yet.</li>}
      </ul>
      {editing && <ServerForm key={editing.id ?? 'new'} draft={editing} onDone={() => setEditing(null)} />}
    </section>
  );
}

/** Off and on again in place (the backend backs up, converts and checks); the reason shows where it cannot. */
function DatabaseEncryption() {
  const [state, setState] = useState<DatabaseEncryptionState | null>(null);
  const [working, setWorking] = useState(false);
  const [status, setStatus] = useState<string | null>(null);
  useEffect(() => {
    call('database.encryption', {}).then(setState, (err: unknown) => useSession.getState().reportError(err));
  }, []);
  const toggle = async () => {
    if (!state) return;
    setWorking(true);
    setStatus(null);
    try {
      const next = await call('database.setEncryption', { enabled: !state.encrypted });
      setState(next);
      setStatus(next.encrypted ? 'Encrypted; every table was checked.' : 'Decrypted; every table was checked.');
    } catch (err) {
      useSession.getState().reportError(err);
    } finally {
      setWorking(false);
    }
  };
  return (
    <section className="tool-form" aria-label="Database encryption">
      <h3>Database encryption</h3>
      <p className="muted small" data-testid="encryption-state">
        {state === null
          ? 'Checking…'
          : state.encrypted
            ? 'The feedback database is encrypted; its key is kept in the system keychain of this account.'
            : "The feedback database is not encrypted; your account's file permissions protect it."}
      </p>
      {state?.unavailableReason && (
        <p className="small" data-testid="encryption-unavailable">
          {state.unavailableReason}
        </p>
      )}
      <div className="save-row">
        <button type="button" data-testid="encryption-toggle" disabled={!state || working || state.unavailableReason !== null} onClick={() => void toggle()}>
          {working ? 'Working…' : state?.encrypted ? 'Turn encryption off' : 'Encrypt the database'}
        </button>
        {status && (
          <span className="saved-line" role="status">
            {status}
          </span>
        )}
      </div>
    </section>
  );
}

export function SettingsPanel() {
  const load = useSettings((s) => s.load);
  useEffect(() => {
    void load();
  }, [load]);
  return (
    <section className="tools-panel" aria-label="Settings" data-testid="settings-panel">
      <h2>Settings</h2>
      <InferenceSettings />
      <ModelChooser />
      <PacsServers />
      <DatabaseEncryption />
    </section>
  );
}
