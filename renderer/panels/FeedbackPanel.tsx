// Runs in the renderer. The reader's verdict on the finding in view, with a note. Each save is a
// new version in the store; the last one is shown again when the image is reopened.
import type { Verdict } from '../../preload/api';
import { useFeedback } from '../state/feedback';
import { useFindings } from '../state/findings';
import { useStudy } from '../state/study';

const VERDICTS: { value: Verdict; label: string }[] = [
  { value: 'agree', label: 'Agree' },
  { value: 'disagree', label: 'Disagree' },
  { value: 'uncertain', label: 'Uncertain' },
];

const timeOf = (iso: string) => {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleTimeString();
};

export function FeedbackPanel() {
  const info = useStudy((s) => s.info);
  const result = useFindings((s) => s.result);
  const model = useFindings((s) => s.result?.model ?? s.model);
  const selectedLabelId = useFindings((s) => s.selectedLabelId);
  const { verdict, note, saved, saving, loading, setVerdict, setNote, save } = useFeedback();

  const labelId = selectedLabelId ?? result?.findings[0]?.labelId ?? saved?.labelId ?? null;
  const labelName = model?.labels.find((l) => l.id === labelId)?.name ?? labelId;
  const dirty = verdict !== (saved?.verdict ?? null) || note !== (saved?.note ?? '');
  const disabled = !info || loading;

  return (
    <section className="feedback" aria-label="Your review">
      <h2>Your review</h2>
      <p className="muted small">
        {labelName ? (
          <>
            On <strong>{labelName}</strong>
            {labelId === result?.findings[0]?.labelId ? ' (top finding)' : ''}
          </>
        ) : (
          'On the image as a whole (run the model to review a finding)'
        )}
      </p>
      <div className="verdicts" role="group" aria-label="Verdict">
        {VERDICTS.map((v) => (
          <button
            key={v.value}
            type="button"
            data-testid={`verdict-${v.value}`}
            className={`verdict ${v.value}${verdict === v.value ? ' chosen' : ''}`}
            aria-pressed={verdict === v.value}
            disabled={disabled}
            onClick={() => setVerdict(v.value)}
          >
            {v.label}
          </button>
        ))}
      </div>
      <label className="note-label" htmlFor="feedback-note">
        Note
      </label>
      <textarea
        id="feedback-note"
        data-testid="feedback-note"
        rows={4}
        maxLength={20_000}
        placeholder="What you saw, or why you disagree"
        value={note}
        disabled={disabled}
        onChange={(e) => setNote(e.currentTarget.value)}
      />
      <div className="save-row">
        <button
          type="button"
          className="primary"
          data-testid="feedback-save"
          disabled={disabled || !verdict || saving || (!dirty && saved !== null)}
          onClick={() => void save({ resultId: result?.resultId ?? null, labelId })}
        >
          {saving ? 'Saving…' : 'Save'}
        </button>
        {saved && (
          <span className="saved-line" data-testid="feedback-saved">
            Saved {timeOf(saved.savedAt)} (version {saved.version}){dirty ? ' · unsaved changes' : ''}
          </span>
        )}
      </div>
    </section>
  );
}
