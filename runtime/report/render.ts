/**
 * The report as one self-contained HTML file: d3 and Observable Plot inlined from node_modules, the
 * model inlined as JSON, and the page's own script (`report-client.js`) that draws each chart. No
 * request leaves the page: no CDN, no font, no image.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { packageRoot } from '../../data/index.js';
import type { ReportModel } from './model.js';

/** One chart of the page: its model key, title, axis wording and the one-line note of what it shows. */
interface ChartSection {
  id: keyof Omit<ReportModel, 'meta'>;
  title: string;
  note: (m: ReportModel) => string;
}

const SECTIONS: readonly ChartSection[] = [
  {
    id: 'adherence', title: 'Adherence: participant × study day',
    note: (m) => `One cell per participant and study day with a planned session: ${Object.entries(m.adherence.data.counts).map(([s, n]) => `${n} ${s}`).join(', ')}. ` +
      'Expired: invited but never started before the window closed; missed: never invited (device off, busy or quiet hours); open: not over yet. A day with several sessions shows its best one.',
  },
  {
    id: 'durations', title: 'Session durations',
    note: (m) => `Minutes from start to end of each completed or interrupted session (${m.durations.data.sessions.length} sessions), by study day; colour is the participant.`,
  },
  {
    id: 'affect', title: 'Affect over the month',
    note: () => 'Mean fused valence and arousal (−1 to 1) of each participant per study day, from the affect samples of face, voice and words.',
  },
  {
    id: 'mood', title: 'Mood ratings over the month',
    note: (m) => `Daily self-rated mood (${m.mood.data.items.map((i) => `${i.label} ${i.min}–${i.max}`).join(', ')}) per participant, raw answers; gaps are days without an answer.`,
  },
  {
    id: 'empathy', title: 'Story empathy by condition (primary comparison)',
    note: (m) => {
      const d = m.empathy.data;
      const diffs = d.differences.map((x) => x.low === null ? `${x.label} = ${fmt(x.diff)} (no interval: ${x.noInterval})`
        : `${x.label} = ${fmt(x.diff)}, 95% CI [${fmt(x.low)}, ${fmt(x.high!)}] (Welch, df ${fmt(x.df!, 1)})`);
      return `Each dot is one participant's mean ${d.score} score (${d.min}–${d.max}, reverse keys applied) over their rated sessions; ticks are condition means ` +
        `(${d.conditions.map((c) => `${c.condition} ${fmt(c.mean)}, n = ${c.participants}`).join('; ')}). ${diffs.join('; ')}.`;
    },
  },
  {
    id: 'safeguards', title: 'Safeguard checks over time',
    note: (m) => `Safeguard checks per study day by decision (${m.safeguards.data.total} checks in all${m.safeguards.data.withoutDay ? `, ${m.safeguards.data.withoutDay} without a study day not shown` : ''}).`,
  },
  {
    id: 'incidents', title: 'Safeguard incidents',
    note: (m) => `${m.incidents.data.rows.length} incident(s) by study day and kind; colour is severity. Descriptions are not shown (they may hold the participant's words).`,
  },
  {
    id: 'completeness', title: 'Data completeness per table and study day',
    note: () => 'Rows each table holds on each study day (colour on a log scale; blank: no rows). The table below gives totals and rows without a study day.',
  },
];

const fmt = (x: number, digits = 2): string => x.toFixed(digits);

/** Escape text for HTML. */
function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** JSON that is safe inside a `<script>` element. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

/** JavaScript that is safe inside a `<script>` element. */
function inlineScript(source: string): string {
  return source.replace(/<\/script/gi, '<\\/script');
}

/** The folder of an installed package, found from its main entry (the dist files are not in `exports`). */
function packageDir(name: string): string {
  const require = createRequire(import.meta.url);
  let dir = dirname(require.resolve(name));
  for (;;) {
    try {
      if ((JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string }).name === name) return dir;
    } catch {
      /* no package.json here: keep walking up */
    }
    const up = dirname(dir);
    if (up === dir) throw new Error(`cannot find the folder of the installed package ${name}`);
    dir = up;
  }
}

/** The scripts inlined into every report: d3, Plot's UMD bundle (which needs the global d3), the page's script. */
export function reportAssets(): { d3: string; plot: string; client: string; plotVersion: string } {
  const plotDir = packageDir('@observablehq/plot');
  return {
    d3: readFileSync(join(packageDir('d3'), 'dist', 'd3.min.js'), 'utf8'),
    plot: readFileSync(join(plotDir, 'dist', 'plot.umd.min.js'), 'utf8'),
    client: readFileSync(join(packageRoot(), 'runtime', 'report', 'report-client.js'), 'utf8'),
    plotVersion: (JSON.parse(readFileSync(join(plotDir, 'package.json'), 'utf8')) as { version: string }).version,
  };
}

const STYLE = `
  body { font: 14px/1.45 system-ui, sans-serif; margin: 24px auto; max-width: 1100px; padding: 0 16px; color: #222; }
  h1 { font-size: 22px; margin-bottom: 4px; } h2 { font-size: 17px; margin: 0 0 4px; }
  header dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; margin: 8px 0; }
  header dt { color: #666; } header dd { margin: 0; word-break: break-all; }
  .warning { background: #fff4e5; border-left: 4px solid #f0a030; padding: 6px 10px; margin: 6px 0; }
  section.chart { border-top: 1px solid #ddd; padding: 16px 0; }
  .note { color: #555; margin: 0 0 8px; }
  .no-data { background: #f4f4f4; padding: 12px; color: #444; font-style: italic; }
  .plot svg { overflow: visible; } figure { margin: 0; }
  table.totals { border-collapse: collapse; margin-top: 12px; } table.totals td, table.totals th { padding: 2px 10px; border-bottom: 1px solid #eee; text-align: right; }
  table.totals td:first-child, table.totals th:first-child { text-align: left; }
  footer { color: #777; font-size: 12px; border-top: 1px solid #ddd; padding-top: 8px; }`;

/** The whole page. */
export function renderReport(model: ReportModel, assets = reportAssets()): string {
  const m = model.meta;
  const sections = SECTIONS.map((s) => {
    const chart = model[s.id];
    const body = chart.empty !== null
      ? `<p class="no-data">${esc(chart.empty)}</p>`
      : `<p class="note">${esc(s.note(model))}</p>\n<div class="plot" id="plot-${s.id}"></div>${s.id === 'completeness' ? totalsTable(model) : ''}`;
    return `<section class="chart" id="chart-${s.id}" data-chart="${s.id}" data-empty="${chart.empty !== null}">\n<h2>${esc(s.title)}</h2>\n${body}\n</section>`;
  }).join('\n');
  const conditions = Object.entries(m.conditions).map(([c, n]) => `${c} ${n}`).join(', ') || 'none';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<title>Hearth report: ${esc(m.title)}</title>
<style>${STYLE}</style>
</head>
<body>
<header>
<h1>Hearth report: ${esc(m.title)}</h1>
<dl>
<dt>file</dt><dd>${esc(m.file)} (${m.kind === 'study' ? `study database, ${m.collections} collection(s)` : 'device database'}, schema ${m.schemaVersion})</dd>
<dt>devices</dt><dd>${m.devices}</dd>
<dt>participants</dt><dd>${m.participants} (by condition: ${esc(conditions)})</dd>
<dt>protocol</dt><dd>${esc(m.protocol.id)} ${esc(m.protocol.version)} (${esc(m.protocol.hash)})</dd>
<dt>generated</dt><dd>${esc(m.generatedUtc)}</dd>
</dl>
${m.warnings.map((w) => `<p class="warning">${esc(w)}</p>`).join('\n')}
</header>
<main>
${sections}
</main>
<footer>Made by <code>hearth report</code> with Observable Plot ${esc(assets.plotVersion)} and d3, inlined; the page makes no network requests.
Times are study days (day 1 = each participant's start date, on their own clock).</footer>
<script>${inlineScript(assets.d3)}</script>
<script>${inlineScript(assets.plot)}</script>
<script type="application/json" id="hearth-report-data">${scriptJson(model)}</script>
<script>${inlineScript(assets.client)}</script>
</body>
</html>
`;
}

function totalsTable(model: ReportModel): string {
  const rows = model.completeness.data.tables.map((t) => `<tr><td>${esc(t.table)}</td><td>${t.rows}</td><td>${t.days}</td><td>${t.withoutDay}</td></tr>`).join('');
  return `<table class="totals"><thead><tr><th>table</th><th>rows</th><th>study days with rows</th><th>rows without a study day</th></tr></thead><tbody>${rows}</tbody></table>`;
}
