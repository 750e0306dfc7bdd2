// Runs anywhere (pure). cases.csv: one row per case × label, for a spreadsheet or pandas. Columns
// per reader carry each reader's latest call; pointing game and IoU summarise the regions readers
// drew for that label (empty where none were drawn or the case has no Grad-CAM).
import type { Manifest, ManifestCase } from './manifest';

/** RFC 4180 quoting; a text cell that a spreadsheet would run as a formula gets a leading quote. */
export function csvCell(value: string | number | boolean | null | undefined): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return Number.isFinite(value) ? String(Math.round(value * 1e6) / 1e6) : '';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

function caseLabels(c: ManifestCase, labelIds: readonly string[]): string[] {
  const present = new Set([
    ...(c.result?.findings.map((f) => f.labelId) ?? []),
    ...c.reviews.flatMap((r) => r.labels.map((l) => l.labelId)),
    ...c.adjudications.map((a) => a.labelId),
  ]);
  return labelIds.filter((id) => present.has(id));
}

export function casesCsv(manifest: Manifest): string {
  const readers = manifest.readers;
  const header = [
    'case',
    'label_id',
    'label_name',
    'model_id',
    'model_version',
    'probability',
    'threshold',
    'positive',
    ...readers.map((r) => `reader:${r}`),
    'adjudicated',
    'reference',
    'reference_source',
    'regions',
    'pointing_game',
    'iou',
  ];
  const names = new Map(manifest.labels.map((l) => [l.id, l.name]));
  const rows: string[][] = [header.map(csvCell)];
  for (const c of manifest.cases) {
    for (const labelId of caseLabels(c, manifest.labels.map((l) => l.id))) {
      const f = c.result?.findings.find((x) => x.labelId === labelId);
      const calls = readers.map((reader) => c.reviews.find((r) => r.reader === reader)?.labels.find((l) => l.labelId === labelId)?.call ?? null);
      const adjudicated = c.adjudications.find((a) => a.labelId === labelId);
      const ref = c.reference.find((r) => r.labelId === labelId);
      const overlap = c.camOverlap.filter((o) => o.labelId === labelId);
      rows.push(
        [
          c.case,
          labelId,
          names.get(labelId) ?? labelId,
          c.result?.model.id,
          c.result?.model.version,
          f?.probability,
          f?.threshold,
          f?.positive,
          ...calls,
          adjudicated === undefined ? null : adjudicated.present ? 'present' : 'absent',
          ref?.present === null || ref === undefined ? null : ref.present ? 'present' : 'absent',
          ref?.source,
          overlap.length || null,
          overlap.length ? overlap.filter((o) => o.hit).length / overlap.length : null,
          overlap.length ? overlap.reduce((s, o) => s + o.iou, 0) / overlap.length : null,
        ].map(csvCell),
      );
    }
  }
  return rows.map((r) => r.join(',')).join('\r\n') + '\r\n';
}
