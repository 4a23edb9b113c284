/**
 * The HTML report of `sim compare --report`: one self-contained file (uPlot and the data inline, no
 * network) with recovery, max divergence and max unavailable partitions against the first grid
 * parameter, one series per mode (and per combination of the other grid parameters), on a log x
 * axis when the values grow by a steady factor; then the table of every figure and each run's
 * replay command. Everything that comes from the scenario or the command line is escaped.
 */
import type { CompareDocument, CompareRun } from '../../sim/compare.ts';
import { isRun } from '../../sim/compare.ts';
import { fmtDuration, fmtRatio, fmtValue } from '../compare-table.ts';
import type { ParamValue } from '../../sim/params.ts';
import { escapeHtml, jsonForScript, scriptBody, uplotAssets } from './inline.ts';

/** One line of a chart: a label and a y value per x value (null: no run, or no figure). */
interface Series {
  readonly label: string;
  readonly mode: string;
  readonly values: (number | null)[];
}

interface Chart {
  readonly id: string;
  readonly title: string;
  readonly unit: string;
  readonly series: Series[];
}

/** What the page's script draws: the x values and the charts. */
export interface CompareView {
  readonly xKey: string;
  readonly xUnit: string;
  readonly xLog: boolean;
  readonly x: number[];
  /** Names of the x positions 1, 2, … when the first grid parameter is not a number; else null. */
  readonly xNames: string[] | null;
  readonly charts: Chart[];
}

const FIGURES: readonly { id: string; title: string; unit: string; get: (r: CompareRun) => number | null }[] = [
  { id: 'recovery', title: 'Recovery', unit: 's', get: (r) => (r.metrics.recoveryMs === null ? null : r.metrics.recoveryMs / 1000) },
  { id: 'divergence', title: 'Max divergence', unit: 'partitions', get: (r) => r.metrics.divergence.maxPartitions },
  { id: 'unavailable', title: 'Max unavailable partitions', unit: 'partitions', get: (r) => r.metrics.maxUnavailablePartitions },
];

function key(point: Record<string, ParamValue>, keys: readonly string[]): string {
  return keys.map((k) => `${k}=${String(point[k])}`).join(' ');
}

/**
 * The charts' data. The x axis is the first grid parameter when it is numeric; otherwise the grid
 * points in order (1, 2, 3, …, named in the table).
 */
export function compareView(doc: CompareDocument): CompareView {
  const first = doc.grid[0]!;
  const numeric = first.values.every((v) => typeof v === 'number');
  const xs = numeric ? [...(first.values as number[])].sort((a, b) => a - b) : first.values.map((_v, i) => i + 1);
  const xOf = (v: ParamValue): number => (numeric ? (v as number) : first.values.indexOf(v) + 1);
  const rest = doc.grid.slice(1).map((a) => a.key);
  const groups = [...new Set(doc.points.map((p) => key(p.grid, rest)))];
  const charts = FIGURES.map((f) => {
    const series: Series[] = [];
    doc.modes.forEach((mode, slot) => {
      for (const g of groups) {
        const values = xs.map((x) => {
          const p = doc.points.find((q) => xOf(q.grid[first.key]!) === x && key(q.grid, rest) === g);
          const r = p?.runs[slot];
          return isRun(r) ? f.get(r) : null;
        });
        series.push({ label: `${mode ?? 'run'}${g === '' ? '' : ` ${g}`}`, mode: mode ?? 'run', values });
      }
    });
    return { id: f.id, title: f.title, unit: f.unit, series };
  });
  return { xKey: first.key, xUnit: first.unit, xLog: numeric && first.geometric, x: xs, xNames: numeric ? null : first.values.map(String), charts };
}

function cell(s: string, numeric = true): string {
  return `<td${numeric ? ' class="n"' : ''}>${escapeHtml(s)}</td>`;
}

function table(doc: CompareDocument): string {
  const modes = doc.modes.map((m) => m ?? 'run');
  const cols = ['recovery', 'detect', 'elect', 'load', 'propagate', 'max unavailable', 'max divergence'];
  const ratio = doc.modes.includes('zk') && doc.modes.includes('kraft');
  const head1 = `<tr>${doc.grid.map(() => '<th></th>').join('')}${modes.map((m) => `<th colspan="${cols.length}" class="mode">${escapeHtml(m)}</th>`).join('')}${ratio ? '<th></th>' : ''}</tr>`;
  const head2 = `<tr>${doc.grid.map((a) => `<th>${escapeHtml(a.key)}</th>`).join('')}${modes.map(() => cols.map((c) => `<th>${escapeHtml(c)}</th>`).join('')).join('')}${ratio ? '<th>zk/kraft recovery</th>' : ''}</tr>`;
  const count = (n: number | null): string => (n === null ? '—' : n.toLocaleString('en-US'));
  const rows = doc.points.map((p) => {
    const cells = doc.grid.map((a) => cell(fmtValue(p.grid[a.key]!, a.unit), typeof p.grid[a.key] === 'number'));
    p.runs.forEach((r) => {
      if (!isRun(r)) {
        cells.push(`<td colspan="${cols.length}" class="bad">${escapeHtml(`failed (${r.error.kind}): ${r.error.message}`)}</td>`);
        return;
      }
      const m = r.metrics;
      cells.push(
        cell(fmtDuration(m.recoveryMs) + (r.violation !== null ? ' !' : '')),
        cell(fmtDuration(m.phases.detectMs)),
        cell(fmtDuration(m.phases.electMs)),
        cell(fmtDuration(m.phases.loadMs)),
        cell(fmtDuration(m.phases.propagateMs)),
        cell(count(m.maxUnavailablePartitions)),
        cell(count(m.divergence.maxPartitions)),
      );
    });
    if (ratio) cells.push(cell(fmtRatio(p.recoveryRatio)));
    return `<tr>${cells.join('')}</tr>`;
  });
  return `<table>\n<thead>${head1}${head2}</thead>\n<tbody>\n${rows.join('\n')}\n</tbody>\n</table>`;
}

function replays(doc: CompareDocument): string {
  const items = doc.points.flatMap((p) =>
    p.runs.map((r) => {
      const v = isRun(r) && r.violation !== null ? ` — ${r.violation.invariant} violated at ${r.violation.atMs} ms` : '';
      const hash = isRun(r) ? ` <span class="hash">${escapeHtml(r.traceHash)}</span>` : '';
      return `<li><code>${escapeHtml(r.replay)}</code>${hash}${escapeHtml(v)}</li>`;
    }),
  );
  return `<ul class="replays">\n${items.join('\n')}\n</ul>`;
}

const PAGE_CSS = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #222; }
h1 { font-size: 20px; margin: 0 0 4px; }
.sub { color: #555; margin-bottom: 16px; }
.charts { display: flex; flex-wrap: wrap; gap: 16px; }
.chart { border: 1px solid #ddd; padding: 8px; }
.chart h2 { font-size: 15px; margin: 0 0 4px; }
table { border-collapse: collapse; margin: 16px 0; }
th, td { border: 1px solid #ddd; padding: 3px 8px; }
th.mode { background: #f3f3f3; }
td.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.bad { color: #b00; }
.replays code { font-size: 12px; }
.hash { color: #777; font-family: monospace; font-size: 12px; }
`;

/** Draws every chart of the view with uPlot; runs in the page. */
const PAGE_JS = `
(function () {
  var view = JSON.parse(document.getElementById('compare-data').textContent);
  var colours = { zk: ['#d9480f', '#f08c00', '#e8590c', '#c92a2a'], kraft: ['#1864ab', '#2b8a3e', '#5f3dc4', '#0b7285'], run: ['#495057'] };
  var used = {};
  function colour(mode) {
    var list = colours[mode] || colours.run;
    var n = used[mode] || 0;
    used[mode] = n + 1;
    return list[n % list.length];
  }
  function fmt(v) { return v == null ? '—' : v.toLocaleString('en-US', { maximumFractionDigits: 2 }); }
  view.charts.forEach(function (c) {
    used = {};
    var el = document.getElementById('chart-' + c.id);
    var series = [{ label: view.xKey + (view.xUnit && view.xUnit !== 'count' ? ' (' + view.xUnit + ')' : ''), value: function (u, v) { return v == null ? '—' : view.xNames ? view.xNames[v - 1] : fmt(v); } }];
    c.series.forEach(function (s) {
      series.push({ label: s.label, stroke: colour(s.mode), width: 2, points: { show: true, size: 7 }, value: function (u, v) { return fmt(v) + ' ' + c.unit; } });
    });
    var opts = {
      width: 520, height: 300,
      scales: {
        x: view.xLog
          ? { time: false, distr: 3, log: 10, range: function (u, min, max) { return [min / 1.25, max * 1.25]; } }
          : { time: false, range: function (u, min, max) { var pad = view.xNames ? 0.4 : (max - min) * 0.08 || Math.abs(max) * 0.1 || 1; return [min - pad, max + pad]; } }
      },
      axes: [
        { label: view.xKey + (view.xLog ? ' (log scale)' : ''), splits: function () { return view.x; }, filter: function (u, splits) { return splits; }, values: function (u, vals) { return vals.map(function (v) { return v == null ? '' : view.xNames ? (view.xNames[v - 1] || '') : fmt(v); }); } },
        { label: c.unit, size: 70, values: function (u, vals) { return vals.map(function (v) { return v == null ? '' : fmt(v); }); } }
      ],
      series: series
    };
    var data = [view.x].concat(c.series.map(function (s) { return s.values; }));
    var plot = new uPlot(opts, data, el);
    el.setAttribute('data-series', String(c.series.length));
    window.compareCharts = (window.compareCharts || []).concat([plot]);
  });
})();
`;

/** The report: a complete HTML document, no external resource. */
export function renderCompareHtml(doc: CompareDocument): string {
  const { js, css } = uplotAssets();
  const view = compareView(doc);
  const fixed = Object.entries(doc.set).map(([k, v]) => `${k}=${String(v)}`).join(' ');
  const title = `${doc.scenario} — sim compare`;
  const grid = doc.grid.map((a) => `${a.key} = ${a.values.map((v) => fmtValue(v, a.unit)).join(', ')}`).join('; ');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(title)}</title>
<style>${css}</style>
<style>${PAGE_CSS}</style>
</head>
<body>
<h1>${escapeHtml(doc.scenario)}: ${escapeHtml(doc.modes.map((m) => m ?? 'run').join(' vs '))}</h1>
<div class="sub">seed ${doc.seed} · grid: ${escapeHtml(grid)}${fixed === '' ? '' : ` · fixed: ${escapeHtml(fixed)}`} · file ${escapeHtml(doc.file)}</div>
<div class="charts">
${view.charts.map((c) => `<div class="chart"><h2>${escapeHtml(c.title)} (${escapeHtml(c.unit)})</h2><div id="chart-${c.id}" class="plot"></div></div>`).join('\n')}
</div>
${table(doc)}
<h2>Replay each run</h2>
${replays(doc)}
<script type="application/json" id="compare-data">${jsonForScript(view)}</script>
<script>${scriptBody(js)}</script>
<script>${scriptBody(PAGE_JS)}</script>
</body>
</html>
`;
}
