// Runs in the renderer. Non-modal notices: a failed call's sentence, kept until dismissed so a
// reader who looked away does not miss it.
import { useSession } from '../state/session';

export function Notices() {
  const notices = useSession((s) => s.notices);
  const dismiss = useSession((s) => s.dismiss);
  if (notices.length === 0) return null;
  return (
    <div className="notices" aria-live="polite">
      {notices.map((n) => (
        <div key={n.id} className={`notice ${n.tone}`} data-testid="notice" role={n.tone === 'error' ? 'alert' : 'status'}>
          <span>{n.message}</span>
          <button type="button" className="dismiss" aria-label="Dismiss" onClick={() => dismiss(n.id)}>
            ×
          </button>
        </div>
      ))}
    </div>
  );
}
