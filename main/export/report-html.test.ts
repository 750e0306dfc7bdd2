// Runs in tests. report.html and cases.csv from a hand-made manifest: text from the store (reader
// names, label names) is escaped in HTML and defused in CSV, and the report says which reference
// standard it used.
import { describe, expect, it } from 'vitest';
import { casesCsv } from './cases-csv';
import { Manifest, MANIFEST_SCHEMA, type ManifestCase } from './manifest';
import { reportHtml } from './report-html';

const READER = '<img src=x onerror=alert(1)>';

function manifest(adjudicated: boolean): Manifest {
  const c: ManifestCase = {
    case: 'case-0001',
    format: 'png',
    image: 'images/case-0001.png',
    width: 10,
    height: 10,
    result: {
      model: { id: 'm', version: '1', sha256: 'c'.repeat(64), provider: 'cpu' },
      providerRequested: 'auto',
      frame: 0,
      createdAt: '2026-01-01T00:00:00.000Z',
      findings: [{ labelId: 'nodule', name: '=HYPERLINK("x")', probability: 0.7, threshold: 0.5, positive: true }],
    },
    overlays: [],
    feedback: [],
    reviews: [{ reader: READER, version: 1, signed: true, confidence: null, timeSpentMs: 0, savedAt: '2026-01-01T00:00:00.000Z', labels: [{ labelId: 'nodule', call: 'present', verdict: null }], regions: [] }],
    adjudications: adjudicated ? [{ labelId: 'nodule', present: true, reader: 'Dr A', decidedAt: '2026-01-02T00:00:00.000Z' }] : [],
    reference: [{ labelId: 'nodule', present: true, source: adjudicated ? 'adjudicated' : 'unanimous' }],
    camOverlap: [],
    warnings: [],
  };
  return Manifest.parse({
    schema: MANIFEST_SCHEMA,
    app: { name: 'Resight', version: '0.1.0' },
    exportedAt: '2026-01-03T00:00:00.000Z',
    format: 'bundle',
    identified: false,
    deidentification: { method: 'test method', codes: [], notes: [] },
    notice: 'Decision support, not a diagnosis.',
    models: [c.result!.model],
    labels: [{ id: 'nodule', name: '=HYPERLINK("x")' }],
    readers: [READER],
    cases: [c],
    excluded: [],
    agreement: [],
    metrics: [
      {
        labelId: 'nodule',
        name: '=HYPERLINK("x")',
        cases: 1,
        positives: 1,
        reference: { adjudicated: adjudicated ? 1 : 0, unanimous: adjudicated ? 0 : 1, majority: 0, undetermined: 0 },
        auroc: null,
        sensitivity: 1,
        specificity: null,
      },
    ],
  });
}

describe('report.html', () => {
  it('escapes store text and names the reference standard it used', () => {
    const html = reportHtml(manifest(true), { thumbnails: new Map() });
    expect(html).not.toContain(READER);
    expect(html).toContain('&#60;img src=x onerror=alert(1)&#62;');
    expect(html).toContain('Reference standard: the adjudicated labels.');
    expect(html).toContain("default-src 'none'");
    expect(reportHtml(manifest(false), { thumbnails: new Map() })).toContain('Reference standard: reader consensus (no adjudicated labels were recorded)');
  });
});

describe('cases.csv', () => {
  it('quotes cells and keeps a spreadsheet from running store text as a formula', () => {
    const [header, row] = casesCsv(manifest(false)).split('\r\n');
    expect(header).toContain(`reader:${READER}`);
    expect(row).toBe(`case-0001,nodule,"'=HYPERLINK(""x"")",m,1,0.7,0.5,true,present,,present,unanimous,,,`);
  });
});
