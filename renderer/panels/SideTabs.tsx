// Runs in the renderer. The right column's views: the review of the open case (default), the
// worklist, agreement between readers, the researcher's heatmap-against-region scores and export,
// the PACS browser, batch review and settings. The review's keys work whichever view is open;
// opening a case from a list shows its review.
import type { ReactNode } from 'react';
import { useStudy } from '../state/study';
import { useSideTab, type Tab } from '../state/tabs';
import { AgreementPanel } from './AgreementPanel';
import { BatchPanel } from './BatchPanel';
import { ExportPanel } from './ExportPanel';
import { PacsPanel } from './PacsPanel';
import { ResearchPanel } from './ResearchPanel';
import { keepFocus, useReviewKeys } from './ReviewPanel';
import { SettingsPanel } from './SettingsPanel';
import { WorklistPanel } from './WorklistPanel';

const TABS: { id: Tab; label: string }[] = [
  { id: 'review', label: 'Review' },
  { id: 'worklist', label: 'Worklist' },
  { id: 'agreement', label: 'Agreement' },
  { id: 'research', label: 'Research' },
  { id: 'pacs', label: 'PACS' },
  { id: 'batch', label: 'Batch' },
  { id: 'settings', label: 'Settings' },
];

export function SideTabs({ review }: { review: ReactNode }) {
  const { tab, show } = useSideTab();
  const hasImage = useStudy((s) => s.info !== null);
  useReviewKeys(hasImage);
  return (
    <>
      <div className="side-tabs" role="tablist" aria-label="Views">
        {TABS.map((t) => (
          <button
            key={t.id}
            type="button"
            role="tab"
            aria-selected={tab === t.id}
            className={tab === t.id ? 'tab on' : 'tab'}
            data-testid={`tab-${t.id}`}
            onMouseDown={keepFocus}
            onClick={() => show(t.id)}
          >
            {t.label}
          </button>
        ))}
      </div>
      <div className="panel-scroll" role="tabpanel">
        {tab === 'review' && review}
        {tab === 'worklist' && <WorklistPanel />}
        {tab === 'agreement' && <AgreementPanel />}
        {tab === 'research' && (
          <>
            <ResearchPanel />
            <ExportPanel />
          </>
        )}
        {tab === 'pacs' && <PacsPanel />}
        {tab === 'batch' && <BatchPanel />}
        {tab === 'settings' && <SettingsPanel />}
      </div>
    </>
  );
}
