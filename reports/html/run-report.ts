/**
 * `sim run --report out.html`: one self-contained HTML file (no network; uPlot, styles and data
 * inline) showing the runs of one scenario and seed — both modes on shared time axes:
 * controller role bands per node, unavailable partitions, divergence per broker (stale and
 * phantom), ZooKeeper sessions / Raft epochs, the fault plan as shaded intervals on every chart,
 * phase bars, the table of figures, every property's verdict and the replay command.
 *
 * Everything a scenario supplies (names, descriptions, node names, details) is escaped: HTML text
 * through escapeHtml, data through jsonForScript into a JSON script element, and the page's script
 * puts strings on the page only through textContent and canvas text (uPlot too).
 *
 * The page exposes what it drew as `window.kraftsimReport = { charts: [{ id, title, series }],
 * errors: [] }` (series: the number of data series of the chart, x excluded) and sets
 * `data-ready="1"` on <body> when every chart is drawn; the browser test reads both.
 */
import type { SeriesJson, SeriesPoints } from '../../sim/cluster/series.ts';
import type { RunResult } from '../../sim/result.ts';
import { fmt, ROWS, stopWords } from '../terminal.ts';
import { escapeHtml, jsonForScript, scriptBody, uplotAssets } from './inline.ts';

export interface RunReportInput {
  readonly scenario: { readonly name: string; readonly description: string; readonly file: string };
  /** The command that reproduces these runs. */
  readonly command: string;
  readonly results: readonly RunResult[];
}

const MODE_LABEL: Record<string, string> = { zk: 'ZooKeeper mode', kraft: 'KRaft mode' };
const modeLabel = (r: RunResult): string => (r.mode === null ? 'run' : (MODE_LABEL[r.mode] ?? r.mode));

/** Step series in seconds, as the page's script takes them. */
interface Steps {
  t: number[];
  v: (number | null)[];
}
/** ms → s, kept to the µs (no floating-point tails in the page's data). */
const toS = (ms: number): number => Math.round(ms * 1000) / 1e6;
const secs = (s: SeriesPoints): Steps => ({ t: s.tMs.map(toS), v: s.v });

/** The view model embedded in the page. */
export interface ReportView {
  endS: number;
  roleNames: readonly string[];
  modes: {
    key: string;
    label: string;
    faults: { type: string; node: string | null; start: number; end: number | null; main: boolean }[];
    unavailable: Steps | null;
    controllers: { node: string; role: Steps }[];
    brokers: { node: string; stale: Steps; phantom: Steps | null }[];
    zkSessions: { node: string; v: Steps }[];
    raftEpochs: { node: string; v: Steps }[];
  }[];
}

const anyPositive = (s: SeriesPoints): boolean => s.v.some((v) => v !== null && v > 0);

/** The charts' data: one entry per run that recorded series. */
export function reportView(results: readonly RunResult[]): ReportView {
  const withSeries = results.filter((r): r is RunResult & { series: SeriesJson } => r.series !== undefined);
  const endS = Math.max(0, ...withSeries.map((r) => toS(r.series.endMs)));
  return {
    endS,
    roleNames: withSeries[0]?.series.roleNames ?? [],
    modes: withSeries.map((r) => {
      const s = r.series;
      return {
        key: r.mode ?? 'run',
        label: modeLabel(r),
        faults: s.faults.map((f) => ({ type: f.type, node: f.node, start: toS(f.startMs), end: f.endMs === null ? null : toS(f.endMs), main: f.main })),
        unavailable: s.brokers.length > 0 ? secs(s.unavailable) : null,
        controllers: s.controllers.map((c) => ({ node: c.node, role: secs(c.role) })),
        // Phantom lines only for brokers that ever held a phantom state: most runs have none.
        brokers: s.brokers.map((b) => ({ node: b.node, stale: secs(b.stale), phantom: anyPositive(b.phantom) ? secs(b.phantom) : null })),
        zkSessions: s.zkSessions.map((z) => ({ node: z.node, v: secs(z.sessions) })),
        raftEpochs: s.raftEpochs.map((e) => ({ node: e.node, v: secs(e.epoch) })),
      };
    }),
  };
}

/** The charts the page draws for this view, with their series counts (what the browser test expects). */
export function expectedCharts(view: ReportView): { id: string; series: number }[] {
  const out: { id: string; series: number }[] = [];
  for (const m of view.modes) if (m.controllers.length > 0) out.push({ id: `roles-${m.key}`, series: m.controllers.length });
  const unavailable = view.modes.filter((m) => m.unavailable !== null);
  if (unavailable.length > 0) out.push({ id: 'unavailable', series: unavailable.length });
  for (const m of view.modes) {
    if (m.brokers.length > 0) out.push({ id: `divergence-${m.key}`, series: m.brokers.length + m.brokers.filter((b) => b.phantom !== null).length });
  }
  for (const m of view.modes) if (m.zkSessions.length > 0) out.push({ id: `sessions-${m.key}`, series: m.zkSessions.length });
  for (const m of view.modes) if (m.raftEpochs.length > 0) out.push({ id: `epochs-${m.key}`, series: m.raftEpochs.length });
  return out;
}

const PHASES = [
  ['detect', 'detectMs', '#4285f4'],
  ['elect', 'electMs', '#f4b400'],
  ['load', 'loadMs', '#db4437'],
  ['propagate', 'propagateMs', '#0f9d58'],
] as const;

function phaseBars(results: readonly RunResult[]): string {
  const total = (r: RunResult): number => PHASES.reduce((a, [, k]) => a + (r.metrics.phases[k] ?? 0), 0);
  const max = Math.max(0, ...results.map(total));
  if (max === 0) return '<p class="muted">No recovery phases in these runs (no main fault, or it did not apply).</p>';
  const rows = results.map((r) => {
    const segs = PHASES.filter(([, k]) => r.metrics.phases[k] !== null && r.metrics.phases[k]! > 0)
      .map(([name, k, color]) => {
        const v = r.metrics.phases[k]!;
        const pct = (100 * v) / max;
        return `<div class="seg" style="width:${pct.toFixed(3)}%;background:${color}" title="${escapeHtml(`${name}: ${fmt(v, 'ms')}`)}"><span>${escapeHtml(pct > 8 ? `${name} ${fmt(v, 'ms')}` : '')}</span></div>`;
      })
      .join('');
    const rec = r.metrics.recoveryMs;
    return `<div class="phase-row"><div class="phase-label">${escapeHtml(modeLabel(r))}</div><div class="phase-bar">${segs}</div><div class="phase-total">${escapeHtml(rec === null ? 'no recovery figure' : `recovery ${fmt(rec, 'ms')}`)}</div></div>`;
  });
  const legend = PHASES.map(([name, , color]) => `<span class="key"><i style="background:${color}"></i>${name}</span>`).join('');
  return `${rows.join('\n')}<div class="legend">${legend}</div>`;
}

function faultTable(results: readonly RunResult[]): string {
  const rows = results.flatMap((r) =>
    (r.series?.faults ?? []).map(
      (f) =>
        `<tr><td>${escapeHtml(modeLabel(r))}</td><td>${escapeHtml(f.type)}${f.main ? ' (main)' : ''}</td><td>${escapeHtml(f.node ?? '—')}</td><td class="num">${escapeHtml(fmt(f.startMs, 'ms'))}</td><td class="num">${escapeHtml(f.endMs === null ? 'end of run' : fmt(f.endMs, 'ms'))}</td><td>${escapeHtml(f.endType ?? '')}</td></tr>`,
    ),
  );
  if (rows.length === 0) return '';
  return `<h3>Faults</h3><table class="faults"><tr><th></th><th>action</th><th>node</th><th>from</th><th>until</th><th>ended by</th></tr>\n${rows.join('\n')}</table>`;
}

function figuresTable(results: readonly RunResult[]): string {
  const rows = ROWS.filter(([, get]) => results.some((r) => get(r) !== null));
  const head = `<tr><th></th>${results.map((r) => `<th>${escapeHtml(modeLabel(r))}</th>`).join('')}</tr>`;
  const body = rows
    .map(([label, get, unit]) => `<tr><td class="${label.startsWith('  ') ? 'sub' : ''}">${escapeHtml(label.trim())}</td>${results.map((r) => `<td class="num">${escapeHtml(fmt(get(r), unit))}</td>`).join('')}</tr>`)
    .join('\n');
  return `<table class="figures">${head}\n${body}</table>`;
}

function properties(results: readonly RunResult[]): string {
  return results
    .map((r) => {
      const held = r.invariants.filter((i) => i.violations === 0).length;
      const rows = r.invariants
        .map(
          (i) =>
            `<tr class="${i.violations === 0 ? 'held' : 'violated'}"><td>${escapeHtml(i.name)}</td><td>${escapeHtml(i.kind)}</td><td class="num">${escapeHtml(fmt(i.checks, ''))}</td><td class="verdict">${i.violations === 0 ? 'held' : `VIOLATED (${escapeHtml(String(i.violations))})`}</td></tr>`,
        )
        .join('\n');
      const v = r.violation;
      const violation =
        v === null
          ? ''
          : `<div class="violation"><b>Violation of ${escapeHtml(v.invariant)} at ${escapeHtml(fmt(v.atMs, 'ms'))}:</b> ${escapeHtml(v.detail)}<br>replay: <code>${escapeHtml(v.replay)}</code></div>`;
      return `<h3>${escapeHtml(modeLabel(r))}: ${held}/${r.invariants.length} held; ${escapeHtml(stopWords(r))}</h3>
${violation}<table class="props"><tr><th>property</th><th>kind</th><th>checks</th><th>verdict</th></tr>
${rows}</table>`;
    })
    .join('\n');
}

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#202124;background:#fff}
main{max-width:1200px;margin:0 auto;padding:16px 24px 48px}
h1{font-size:22px;margin:8px 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #e0e0e0;padding-bottom:4px}
h3{font-size:14px;margin:16px 0 6px}
.muted{color:#5f6368}code{font:12.5px ui-monospace,SFMono-Regular,Menlo,monospace;background:#f1f3f4;padding:2px 5px;border-radius:3px;word-break:break-all}
table{border-collapse:collapse}td,th{padding:3px 10px;border-bottom:1px solid #eee;text-align:left}
td.num{text-align:right;font-variant-numeric:tabular-nums}td.sub{padding-left:26px;color:#5f6368}
tr.violated td{color:#b3261e;font-weight:600}tr.held td.verdict{color:#188038}
.violation{border-left:4px solid #b3261e;background:#fce8e6;padding:6px 10px;margin:6px 0}
.chart{margin:10px 0 18px}.chart h3{margin:0 0 2px}
.phase-row{display:flex;align-items:center;margin:6px 0}.phase-label{width:130px}.phase-total{width:190px;padding-left:10px;color:#5f6368}
.phase-bar{flex:1;display:flex;height:22px;background:#f1f3f4;border-radius:3px;overflow:hidden}
.seg{height:100%;color:#fff;font-size:11.5px;white-space:nowrap;overflow:hidden}.seg span{padding:0 5px;line-height:22px}
.legend{margin:6px 0 0 130px}.key{margin-right:14px;white-space:nowrap}.key i{display:inline-block;width:12px;height:12px;margin-right:5px;vertical-align:-1px;border-radius:2px}
.u-legend{font-size:12px}
`;

/**
 * The page's script: builds the charts from the embedded view. Plain ES2017; strings reach the page
 * only through textContent (uPlot's titles and legend too) and canvas text.
 */
const PAGE_JS = String.raw`
(function () {
  var state = { charts: [], errors: [] };
  window.kraftsimReport = state;
  var D = JSON.parse(document.getElementById('report-data').textContent);
  var ROLE_COLORS = ['#bdc1c6', '#d2e3fc', '#fbbc04', '#188038', '#d93025'];
  var PALETTE = ['#1a73e8', '#e8710a', '#188038', '#d93025', '#9334e6', '#12b5cb', '#f538a0', '#a8710a', '#5f6368', '#3c4043'];
  var MODE_COLOR = { zk: '#e8710a', kraft: '#1a73e8', run: '#5f6368' };
  var charts = [];
  var syncing = false;
  // Wide enough for node names and for counts such as 2,000,000.
  var Y_AXIS = 16 + 7 * Math.max(9, D.modes.reduce(function (w, m) {
    m.controllers.forEach(function (c) { w = Math.max(w, c.node.length); });
    return w;
  }, 0));

  // Step series {t, v} onto the union of their times (and 0 and the common end): uPlot wants one x array.
  function align(list) {
    var set = {}; set[0] = 0; set[D.endS] = D.endS;
    list.forEach(function (s) { s.t.forEach(function (t) { set[t] = t; }); });
    var xs = Object.keys(set).map(function (k) { return set[k]; }).sort(function (a, b) { return a - b; });
    var out = [xs];
    list.forEach(function (s) {
      var ys = new Array(xs.length), j = -1;
      for (var i = 0; i < xs.length; i++) {
        while (j + 1 < s.t.length && s.t[j + 1] <= xs[i]) j++;
        ys[i] = j < 0 ? null : s.v[j];
      }
      out.push(ys);
    });
    return out;
  }

  function faultsPlugin(faults) {
    return {
      hooks: {
        drawClear: [function (u) {
          var ctx = u.ctx; ctx.save();
          faults.forEach(function (f) {
            var x0 = u.valToPos(f.start, 'x', true);
            var x1 = u.valToPos(f.end === null ? D.endS : f.end, 'x', true);
            ctx.fillStyle = f.main ? 'rgba(217,48,37,0.10)' : 'rgba(95,99,104,0.10)';
            ctx.fillRect(x0, u.bbox.top, Math.max(x1 - x0, 1), u.bbox.height);
          });
          ctx.restore();
        }],
        draw: [function (u) {
          var ctx = u.ctx, px = window.devicePixelRatio || 1; ctx.save();
          ctx.font = (11 * px) + 'px system-ui, sans-serif'; ctx.textBaseline = 'top'; ctx.textAlign = 'left';
          faults.forEach(function (f, k) {
            var x = u.valToPos(f.start, 'x', true);
            ctx.strokeStyle = f.main ? '#d93025' : '#5f6368'; ctx.lineWidth = px; ctx.setLineDash([4 * px, 3 * px]);
            ctx.beginPath(); ctx.moveTo(x, u.bbox.top); ctx.lineTo(x, u.bbox.top + u.bbox.height); ctx.stroke();
            ctx.fillStyle = f.main ? '#d93025' : '#5f6368';
            ctx.fillText(f.type + (f.node === null ? '' : ' ' + f.node), x + 3 * px, u.bbox.top + (2 + 13 * (k % 4)) * px);
          });
          ctx.restore();
        }]
      }
    };
  }

  function rolesPlugin(n) {
    return {
      hooks: {
        draw: [function (u) {
          var ctx = u.ctx; ctx.save();
          var xs = u.data[0];
          for (var s = 1; s <= n; s++) {
            var ys = u.data[s];
            var top = u.valToPos(n - s + 0.9, 'y', true), bot = u.valToPos(n - s + 0.1, 'y', true);
            for (var i = 0; i < xs.length - 1; i++) {
              if (ys[i] === null || ys[i] === undefined) continue;
              var x0 = u.valToPos(xs[i], 'x', true), x1 = u.valToPos(xs[i + 1], 'x', true);
              ctx.fillStyle = ROLE_COLORS[ys[i]] || '#000';
              ctx.fillRect(x0, top, Math.max(x1 - x0, 1), bot - top);
            }
          }
          ctx.restore();
        }]
      }
    };
  }

  function make(id, title, height, series, data, extra) {
    var host = document.getElementById('charts');
    var box = document.createElement('div'); box.className = 'chart'; box.id = 'chart-' + id;
    var h = document.createElement('h3'); h.textContent = title; box.appendChild(h);
    host.appendChild(box);
    var opts = {
      width: Math.max(400, host.clientWidth - 4), height: height,
      cursor: { sync: { key: 'kraftsim' } },
      scales: { x: { time: false } },
      // One y-axis width on every chart, so that the plots and their time axes line up.
      axes: [{ label: 'virtual time (s)' }, { size: Y_AXIS }],
      series: [{ label: 't (s)', value: function (u, v) { return v === null ? '—' : v.toFixed(3); } }].concat(series),
      plugins: [],
      hooks: { setScale: [function (u, key) {
        if (key !== 'x' || syncing) return;
        syncing = true;
        charts.forEach(function (o) { if (o !== u) o.setScale('x', { min: u.scales.x.min, max: u.scales.x.max }); });
        syncing = false;
      }] }
    };
    if (extra) extra(opts);
    var u = new uPlot(opts, data, box);
    charts.push(u);
    state.charts.push({ id: id, title: title, series: series.length });
    return u;
  }

  var stepped = uPlot.paths.stepped({ align: 1 });
  function line(label, color, dash) {
    return { label: label, stroke: color, width: 1.5, dash: dash, paths: stepped, points: { show: false },
      value: function (u, v) { return v === null ? '—' : v.toLocaleString('en-US'); } };
  }
  function modeFaults(m) { return faultsPlugin(m.faults); }
  function allFaults() {
    var seen = {}, out = [];
    D.modes.forEach(function (m) { m.faults.forEach(function (f) {
      var k = f.type + '|' + f.node + '|' + f.start + '|' + f.end;
      if (!seen[k]) { seen[k] = 1; out.push(f); }
    }); });
    return faultsPlugin(out);
  }

  try {
    D.modes.forEach(function (m) {
      if (m.controllers.length === 0) return;
      var n = m.controllers.length;
      var names = m.controllers.map(function (c) { return c.node; });
      make('roles-' + m.key, 'Controller role per node — ' + m.label, 44 + 34 * n + 40,
        m.controllers.map(function (c, i) {
          return { label: c.node, stroke: PALETTE[i % PALETTE.length], paths: function () { return null; }, points: { show: false },
            value: function (u, v) { return v === null || v === undefined ? '—' : D.roleNames[v]; } };
        }),
        align(m.controllers.map(function (c) { return c.role; })),
        function (o) {
          o.scales.y = { auto: false, range: [0, n] };
          o.axes[1] = { size: Y_AXIS, splits: function () { return names.map(function (_, i) { return n - i - 0.5; }); },
            values: function (u, splits) { return splits.map(function (s) { return names[n - 1 - Math.floor(s)] || ''; }); }, grid: { show: false }, ticks: { show: false } };
          o.plugins.push(rolesPlugin(n), modeFaults(m));
        });
    });

    var un = D.modes.filter(function (m) { return m.unavailable !== null; });
    if (un.length > 0) {
      make('unavailable', 'Unavailable partitions', 240,
        un.map(function (m) { return line(m.label, MODE_COLOR[m.key] || '#000'); }),
        align(un.map(function (m) { return m.unavailable; })),
        function (o) { o.plugins.push(allFaults()); });
    }

    D.modes.forEach(function (m) {
      if (m.brokers.length === 0) return;
      var series = [], data = [];
      m.brokers.forEach(function (b, i) {
        series.push(line(b.node + ' stale', PALETTE[i % PALETTE.length])); data.push(b.stale);
      });
      m.brokers.forEach(function (b, i) {
        if (b.phantom === null) return;
        series.push(line(b.node + ' phantom', PALETTE[i % PALETTE.length], [6, 3])); data.push(b.phantom);
      });
      make('divergence-' + m.key, 'Divergent partitions per broker (stale; phantom dashed) — ' + m.label, 260, series, align(data),
        function (o) { o.plugins.push(modeFaults(m)); });
    });

    D.modes.forEach(function (m) {
      if (m.zkSessions.length === 0) return;
      make('sessions-' + m.key, 'ZooKeeper sessions tracked by the leader, per server — ' + m.label, 200,
        m.zkSessions.map(function (z, i) { return line(z.node, PALETTE[i % PALETTE.length]); }),
        align(m.zkSessions.map(function (z) { return z.v; })),
        function (o) { o.plugins.push(modeFaults(m)); });
    });
    D.modes.forEach(function (m) {
      if (m.raftEpochs.length === 0) return;
      make('epochs-' + m.key, 'Raft epoch per controller — ' + m.label, 200,
        m.raftEpochs.map(function (e, i) { return line(e.node, PALETTE[i % PALETTE.length]); }),
        align(m.raftEpochs.map(function (e) { return e.v; })),
        function (o) { o.plugins.push(modeFaults(m)); });
    });

    var resizeTimer = null;
    window.addEventListener('resize', function () {
      if (resizeTimer !== null) clearTimeout(resizeTimer);
      resizeTimer = setTimeout(function () {
        var w = Math.max(400, document.getElementById('charts').clientWidth - 4);
        charts.forEach(function (u) { u.setSize({ width: w, height: u.height }); });
      }, 100);
    });
  } catch (e) {
    state.errors.push(String(e && e.stack || e));
    throw e;
  } finally {
    document.body.setAttribute('data-ready', '1');
  }
})();
`;

/** The whole page. */
export function renderRunReport(input: RunReportInput): string {
  const { scenario, command, results } = input;
  const view = reportView(results);
  const { js, css } = uplotAssets();
  const first = results[0];
  const title = `${scenario.name} — seed ${first?.seed ?? ''}`;
  const modes = results.map(modeLabel).join(' and ');
  const roleKey = view.roleNames.map((name, i) => `<span class="key"><i style="background:${['#bdc1c6', '#d2e3fc', '#fbbc04', '#188038', '#d93025'][i] ?? '#000'}"></i>${escapeHtml(name)}</span>`).join('');
  const timeline =
    view.modes.length === 0
      ? '<p class="muted">No time series were recorded.</p>'
      : `<p class="muted">Virtual time in seconds, the same axis on every chart (drag to zoom, double-click to reset). Shaded: faults of the plan (red: the main fault) from the action to the one that ends it. Role bands: ${roleKey}</p>
<div id="charts"></div>`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<title>${escapeHtml(title)}</title>
<style>${css.replace(/<\/style/gi, '<\\/style')}</style>
<style>${CSS}</style>
</head>
<body>
<main>
<h1>${escapeHtml(scenario.name)}</h1>
<p>${escapeHtml(scenario.description)}</p>
<p class="muted">${escapeHtml(`${scenario.file} · seed ${first?.seed ?? ''} · ${modes}`)}</p>
<p>Replay: <code>${escapeHtml(command)}</code></p>
<h2>Recovery phases</h2>
${phaseBars(results)}
<h2>Timeline</h2>
${timeline}
${faultTable(results)}
<h2>Figures</h2>
${figuresTable(results)}
<h2>Properties</h2>
${properties(results)}
</main>
<script type="application/json" id="report-data">${jsonForScript(view)}</script>
<script>${scriptBody(js)}</script>
<script>${scriptBody(PAGE_JS)}</script>
</body>
</html>
`;
}
