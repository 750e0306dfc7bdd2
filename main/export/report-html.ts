// Runs anywhere (pure). report.html: one self-contained page (inline CSS, images as data: URIs, a
// Content-Security-Policy that forbids any request) that a reader opens without Resight: summary,
// per-label accuracy against the reference standard, reader agreement, and a thumbnail per case.
import type { Manifest } from './manifest';

const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const fixed = (v: number | null | undefined, digits = 3): string => (v === null || v === undefined ? '—' : v.toFixed(digits));
const pct = (v: number | null | undefined): string => (v === null || v === undefined ? '—' : `${(v * 100).toFixed(1)}%`);

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;max-width:1100px;padding:0 1rem;color:#1b1b1b}
h1{font-size:1.5rem;margin-bottom:.2rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:.5rem 0}th,td{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f2f2f2}td.num{text-align:right;font-variant-numeric:tabular-nums}
.notice{background:#fff4d6;border:1px solid #e0b000;padding:.5rem .75rem;margin:1rem 0}
.meta{color:#555}.pos{font-weight:600;color:#a40000}
.cases{display:grid;grid-template-columns:repeat(auto-fill,minmax(240px,1fr));gap:1rem}
.case{border:1px solid #ccc;padding:.5rem}.case img{width:100%;height:auto;background:#000;display:block}
.case h3{font-size:1rem;margin:.25rem 0}.case ul{margin:.25rem 0;padding-left:1.1rem}
`;

export interface ReportImages {
  /** case → data: URI of a small PNG (the first overlay, else the image). */
  thumbnails: ReadonlyMap<string, string>;
}

function referenceSentence(m: Manifest): string {
  const totals = m.metrics.reduce(
    (t, l) => ({ adjudicated: t.adjudicated + l.reference.adjudicated, unanimous: t.unanimous + l.reference.unanimous, majority: t.majority + l.reference.majority, undetermined: t.undetermined + l.reference.undetermined }),
    { adjudicated: 0, unanimous: 0, majority: 0, undetermined: 0 },
  );
  const used =
    totals.adjudicated > 0 && totals.unanimous + totals.majority === 0
      ? 'the adjudicated labels'
      : totals.adjudicated === 0
        ? 'reader consensus (no adjudicated labels were recorded): unanimous calls, else the majority'
        : 'adjudicated labels where recorded, otherwise reader consensus (unanimous calls, else the majority)';
  return `Reference standard: ${used}. Case × label pairs: ${totals.adjudicated} adjudicated, ${totals.unanimous} unanimous, ${totals.majority} majority, ${totals.undetermined} without a reference (no calls or a tie; left out of the figures).`;
}

export function reportHtml(m: Manifest, images: ReportImages): string {
  const labelName = new Map(m.labels.map((l) => [l.id, l.name]));
  const name = (id: string) => escapeHtml(labelName.get(id) ?? id);
  const models = m.models.map((x) => `${escapeHtml(x.id)} ${escapeHtml(x.version)} (sha256 ${escapeHtml(x.sha256.slice(0, 12))}…, ${escapeHtml(x.provider)})`).join('; ') || 'none';

  const summary = `<table>
<tr><th>Cases exported</th><td class="num">${m.cases.length}</td></tr>
<tr><th>Cases excluded</th><td class="num">${m.excluded.length}${m.excluded.length ? ` (${escapeHtml([...new Set(m.excluded.map((e) => e.reason))].join('; '))})` : ''}</td></tr>
<tr><th>With a model result</th><td class="num">${m.cases.filter((c) => c.result).length}</td></tr>
<tr><th>Reviewed</th><td class="num">${m.cases.filter((c) => c.reviews.length).length}</td></tr>
<tr><th>Readers</th><td>${m.readers.map(escapeHtml).join(', ') || '—'}</td></tr>
<tr><th>Model(s)</th><td>${models}</td></tr>
<tr><th>De-identification</th><td>${m.identified ? '<strong>None: this export is identified.</strong>' : escapeHtml(m.deidentification.method ?? '')}</td></tr>
</table>`;

  const metrics = `<p>${escapeHtml(referenceSentence(m))}</p>
<table><tr><th>Label</th><th>Cases</th><th>Reference positive</th><th>AUROC</th><th>Sensitivity</th><th>Specificity</th></tr>
${m.metrics.map((l) => `<tr><td>${name(l.labelId)}</td><td class="num">${l.cases}</td><td class="num">${l.positives}</td><td class="num">${fixed(l.auroc)}</td><td class="num">${pct(l.sensitivity)}</td><td class="num">${pct(l.specificity)}</td></tr>`).join('\n')}
</table><p class="meta">Sensitivity and specificity use each label's own threshold as stored with the result; — means undefined (no positive or no negative reference cases).</p>`;

  const agreement = m.agreement.length
    ? `<table><tr><th>Label</th><th>Readers</th><th>Cases (≥ 2 readers)</th><th>Raw agreement</th><th>Kappa</th><th>Model vs reader (agreement, κ)</th></tr>
${m.agreement
  .map(
    (a) =>
      `<tr><td>${name(a.labelId)}</td><td>${a.raters.map(escapeHtml).join(', ')}</td><td class="num">${a.cases}</td><td class="num">${pct(a.rawAgreement)}</td><td class="num">${a.method ? `${fixed(a.kappa)} (${a.method === 'cohen' ? "Cohen's" : "Fleiss'"}, ${a.kappaCases} cases)` : '—'}</td><td>${a.modelVsReader.map((r) => `${escapeHtml(r.reader)}: ${pct(r.agreement)}, κ ${fixed(r.kappa)} (${r.cases})`).join('<br>')}</td></tr>`,
  )
  .join('\n')}
</table>`
    : '<p>No reader calls were recorded.</p>';

  const cases = m.cases
    .map((c) => {
      const thumb = images.thumbnails.get(c.case);
      const findings = c.result?.findings.map((f) => `<li${f.positive ? ' class="pos"' : ''}>${name(f.labelId)}: ${f.probability.toFixed(3)} (threshold ${f.threshold.toFixed(3)})${f.positive ? ' — positive' : ''}</li>`).join('') ?? '<li>No model result</li>';
      const ref = c.reference
        .filter((r) => r.present !== null)
        .map((r) => `${name(r.labelId)} ${r.present ? 'present' : 'absent'} (${r.source})`)
        .join('; ');
      return `<div class="case"><h3>${escapeHtml(c.case)}</h3>${thumb ? `<img alt="${escapeHtml(c.case)}" src="${thumb}">` : ''}
<ul>${findings}</ul><p class="meta">Readers: ${c.reviews.map((r) => `${escapeHtml(r.reader)}${r.signed ? ' (signed)' : ''}`).join(', ') || 'none'}${ref ? `<br>Reference: ${ref}` : ''}</p></div>`;
    })
    .join('\n');

  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>Resight case review</title><style>${CSS}</style></head>
<body>
<h1>Resight case review</h1>
<p class="meta">Exported ${escapeHtml(m.exportedAt)} by Resight ${escapeHtml(m.app.version)} · manifest schema ${escapeHtml(m.schema)}</p>
<div class="notice">${escapeHtml(m.notice)}</div>
<h2>Summary</h2>${summary}
<h2>Model accuracy per label</h2>${metrics}
<h2>Reader agreement</h2>${agreement}
<h2>Cases</h2><div class="cases">${cases}</div>
</body></html>
`;
}
