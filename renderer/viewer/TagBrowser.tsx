// Runs in the renderer. The open DICOM file's data set as a searchable tree: sequences open into
// their items. A search keeps the elements whose tag, name or value matches, and the sequences
// that contain one.
import { useEffect, useState } from 'react';
import type { TagNode } from '../../preload/api';
import { call } from '../api/client';
import { useSession } from '../state/session';
import { useStudy } from '../state/study';
import { useViewport } from '../state/viewport';

function matches(n: TagNode, q: string): boolean {
  if (!q) return true;
  if (`${n.tag} ${n.name} ${n.vr} ${n.value}`.toLowerCase().includes(q)) return true;
  return (n.items ?? []).some((item) => item.some((c) => matches(c, q)));
}

function Nodes({ nodes, q }: { nodes: TagNode[]; q: string }) {
  return (
    <ul className="tag-list">
      {nodes
        .filter((n) => matches(n, q))
        .map((n, i) => (
          <li key={`${n.tag}-${i}`} data-testid="tag-row">
            {n.items ? (
              <details open={q.length > 0}>
                <summary>
                  <span className="tag-id">{n.tag}</span> <span className="tag-vr">SQ</span> <span className="tag-name">{n.name}</span> <span className="muted">{n.value}</span>
                </summary>
                {n.items.map((item, k) => (
                  <div key={k} className="tag-item">
                    <div className="muted small">Item {k + 1}</div>
                    <Nodes nodes={item} q={q} />
                  </div>
                ))}
              </details>
            ) : (
              <>
                <span className="tag-id">{n.tag}</span> <span className="tag-vr">{n.vr}</span> <span className="tag-name">{n.name}</span>{' '}
                <span className="tag-value">{n.value}</span>
              </>
            )}
          </li>
        ))}
    </ul>
  );
}

export function TagBrowser() {
  const open = useViewport((s) => s.tagsOpen);
  const info = useStudy((s) => s.info);
  const [tags, setTags] = useState<{ imageId: string; nodes: TagNode[] } | null>(null);
  const [query, setQuery] = useState('');
  const imageId = info?.imageId;

  useEffect(() => {
    if (!open || !imageId || tags?.imageId === imageId) return;
    let live = true;
    call('studies.tags', { imageId }).then(
      (nodes) => live && setTags({ imageId, nodes }),
      (err: unknown) => live && useSession.getState().reportError(err),
    );
    return () => {
      live = false;
    };
  }, [open, imageId, tags?.imageId]);

  if (!open || !info) return null;
  const nodes = tags && tags.imageId === imageId ? tags.nodes : null;
  return (
    <aside className="tag-browser" aria-label="DICOM tags" data-testid="tag-browser">
      <div className="help-head">
        <h2>DICOM tags</h2>
        <button type="button" onClick={() => useViewport.getState().setTagsOpen(false)} aria-label="Close tags">
          Close <kbd>Esc</kbd>
        </button>
      </div>
      <input type="search" placeholder="Search tag, name or value" value={query} onChange={(e) => setQuery(e.currentTarget.value)} aria-label="Search tags" data-testid="tag-search" />
      {info.format !== 'dicom' ? (
        <p className="muted small">This image is a {info.format.toUpperCase()} file: it has no DICOM tags.</p>
      ) : nodes ? (
        <Nodes nodes={nodes} q={query.trim().toLowerCase()} />
      ) : (
        <p className="muted small">Reading tags…</p>
      )}
    </aside>
  );
}
