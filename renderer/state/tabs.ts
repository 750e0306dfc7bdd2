// Runs in the renderer. Which view the right column shows; lists switch to the review when they open a case.
import { create } from 'zustand';

export type Tab = 'review' | 'worklist' | 'agreement' | 'research' | 'pacs' | 'batch' | 'settings';

export const useSideTab = create<{ tab: Tab; show(tab: Tab): void }>()((set) => ({ tab: 'review', show: (tab) => set({ tab }) }));
