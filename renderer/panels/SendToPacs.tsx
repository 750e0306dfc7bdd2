// Runs in the renderer. Sends the model's result on the open DICOM image back to a PACS as a DICOM
// SR (and the heatmaps as Secondary Captures) by STOW-RS, then says what was stored and what failed.
import { useEffect, useState } from 'react';
import type { PacsSendOutcome } from '../../preload/api';
import { call } from '../api/client';
import { messageOf } from '../api/errors';
import { usePacs } from '../state/pacs';
import { useSideTab } from '../state/tabs';
import { ServerChooser } from './PacsPanel';
import { keepControlKeys } from './tools-common';
import './tools.css';

export function SendToPacs({ resultId }: { resultId: number }) {
  const servers = usePacs((s) => s.servers);
  const loaded = usePacs((s) => s.serversLoaded);
  const browsing = usePacs((s) => s.serverId);
  // Its own choice, so sending somewhere does not clear the PACS browser's results.
  const [chosen, setChosen] = useState<string | null>(null);
  const serverId = chosen !== null && servers.some((s) => s.id === chosen) ? chosen : browsing;
  const [overlays, setOverlays] = useState(true);
  const [sending, setSending] = useState(false);
  const [outcome, setOutcome] = useState<PacsSendOutcome | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    if (!loaded) void usePacs.getState().loadServers();
  }, [loaded]);
  // What was said about one result does not carry over to the next.
  useEffect(() => {
    setOutcome(null);
    setError(null);
  }, [resultId]);

  if (!loaded) return null;
  if (servers.length === 0)
    return (
      <p className="muted small">
        To send results to a PACS,{' '}
        <button type="button" className="link" onClick={() => useSideTab.getState().show('settings')}>
          add a server in Settings
        </button>
        .
      </p>
    );

  const send = async () => {
    if (!serverId) return;
    setSending(true);
    setOutcome(null);
    setError(null);
    try {
      setOutcome(await call('pacs.sendResult', { serverId, resultId, overlays }));
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setSending(false);
    }
  };

  return (
    <details className="send-to-pacs" data-testid="send-to-pacs" onKeyDown={keepControlKeys}>
      <summary>Send results to PACS</summary>
      <div className="tool-form">
        <ServerChooser testId="send-server" value={serverId} onChange={setChosen} />
        <label className="check">
          <input type="checkbox" data-testid="send-overlays" checked={overlays} onChange={(e) => setOverlays(e.currentTarget.checked)} />
          Include the heatmaps as images
        </label>
        <button type="button" className="primary small" data-testid="send-result" disabled={sending || !serverId} onClick={() => void send()}>
          {sending ? 'Sending…' : 'Send results to PACS'}
        </button>
        {error && (
          <p className="field-error small" role="alert" data-testid="send-error">
            {error}
          </p>
        )}
        {outcome && (
          <ul className="small send-outcome" role="status" data-testid="send-outcome">
            {outcome.stored.map((s) => (
              <li key={`ok-${s}`} className="ok">
                Stored: {s}
              </li>
            ))}
            {outcome.failed.map((f) => (
              <li key={`bad-${f.what}`} className="bad">
                Failed: {f.what} — {f.reason}
              </li>
            ))}
          </ul>
        )}
      </div>
    </details>
  );
}
