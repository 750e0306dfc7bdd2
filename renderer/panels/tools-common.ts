// Runs in the renderer. Small pieces the settings, export, PACS and batch panels share.
import type { KeyboardEvent } from 'react';

/**
 * The review's keys listen on the window, and they treat a focused checkbox or radio as "not
 * typing": Enter would submit the case behind this panel and a digit would toggle its label.
 * Keys pressed on those controls stay in the panel.
 */
export function keepControlKeys(e: KeyboardEvent): void {
  const t = e.target;
  if (t instanceof HTMLInputElement && (t.type === 'checkbox' || t.type === 'radio')) e.stopPropagation();
}

/** "45 s", "3 min", "1 h 05 min": an estimate, so no more precision than a reader needs. */
export function humanDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m} min`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min`;
}

/** A whole number typed in a field, null when blank, undefined when it is not a whole number in range. */
export function parseCount(text: string, min: number, max: number): number | null | undefined {
  const t = text.trim();
  if (t === '') return null;
  if (!/^\d+$/.test(t)) return undefined;
  const n = Number(t);
  return n >= min && n <= max ? n : undefined;
}

/** An absolute path on this computer (POSIX, or a Windows drive or UNC path). */
export const isAbsolutePath = (p: string) => p.startsWith('/') || /^[A-Za-z]:[\\/]/.test(p) || p.startsWith('\\\\');
