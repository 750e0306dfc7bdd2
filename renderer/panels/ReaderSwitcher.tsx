// Runs in the renderer. The header's reader switcher: who is reading (every write is attributed to
// them) and a small form to add a local profile. Profiles name readers; they are not logins.
import { useEffect, useState, type FormEvent } from 'react';
import type { ReaderRole } from '../../preload/api';
import { useReaders } from '../state/readers';

const ROLES: { value: ReaderRole; label: string }[] = [
  { value: 'clinician', label: 'Clinician' },
  { value: 'annotator', label: 'Annotator' },
  { value: 'researcher', label: 'Researcher' },
];

export function ReaderSwitcher() {
  const { readers, current, loaded, load, create, setCurrent } = useReaders();
  const [adding, setAdding] = useState(false);
  const [name, setName] = useState('');
  const [role, setRole] = useState<ReaderRole>('clinician');

  useEffect(() => {
    void load();
  }, [load]);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!name.trim()) return;
    if (await create(name.trim(), role)) {
      setName('');
      setAdding(false);
    }
  };

  return (
    <div className="reader-switcher" data-testid="reader-switcher">
      <label>
        <span className="muted small">Reader</span>
        <select
          data-testid="reader-select"
          value={current?.readerId ?? ''}
          disabled={!loaded}
          onChange={(e) => {
            if (e.currentTarget.value === '+') setAdding(true);
            else if (e.currentTarget.value) void setCurrent(Number(e.currentTarget.value));
          }}
        >
          {!current && <option value="">(this computer's user)</option>}
          {readers.map((r) => (
            <option key={r.readerId} value={r.readerId}>
              {r.name} · {r.role}
            </option>
          ))}
          <option value="+">New reader…</option>
        </select>
      </label>
      <button type="button" className="small" data-testid="reader-add" onClick={() => setAdding((a) => !a)}>
        +
      </button>
      {adding && (
        <form className="reader-form" onSubmit={(e) => void submit(e)}>
          <input
            type="text"
            data-testid="reader-name"
            placeholder="Name"
            maxLength={64}
            value={name}
            autoFocus
            onChange={(e) => setName(e.currentTarget.value)}
          />
          <select data-testid="reader-role" value={role} onChange={(e) => setRole(e.currentTarget.value as ReaderRole)}>
            {ROLES.map((r) => (
              <option key={r.value} value={r.value}>
                {r.label}
              </option>
            ))}
          </select>
          <button type="submit" className="primary small" data-testid="reader-create" disabled={!name.trim()}>
            Add
          </button>
        </form>
      )}
    </div>
  );
}
