/**
 * `sim compare`'s table, as aligned text and as Markdown: one row per grid point, each mode's
 * recovery, phases, max unavailable partitions and max divergence, then the ZK/KRaft recovery ratio.
 */
import { isRun, type CompareDocument, type CompareRun } from '../sim/compare.ts';
import type { ParamValue } from '../sim/params.ts';


/** A duration: whole ms below a second, else seconds with one decimal. */
export function fmtDuration(ms: number | null): string {
  if (ms === null) return '—';
  if (Math.abs(ms) < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toLocaleString('en-US', { minimumFractionDigits: 1, maximumFractionDigits: 1 })} s`;
}

function fmtCount(n: number | null): string {
  return n === null ? '—' : n.toLocaleString('en-US');
}

export function fmtValue(v: ParamValue, unit: string): string {
  if (typeof v !== 'number') return String(v);
  const n = v.toLocaleString('en-US');
  return unit === '' || unit === 'count' || unit === 'partitions' ? n : `${n} ${unit}`;
}

interface Column {
  readonly head: string;
  readonly cell: (r: CompareRun) => string;
}

const MODE_COLUMNS: readonly Column[] = [
  { head: 'recovery', cell: (r) => fmtDuration(r.metrics.recoveryMs) },
  { head: 'detect', cell: (r) => fmtDuration(r.metrics.phases.detectMs) },
  { head: 'elect', cell: (r) => fmtDuration(r.metrics.phases.electMs) },
  { head: 'load', cell: (r) => fmtDuration(r.metrics.phases.loadMs) },
  { head: 'propagate', cell: (r) => fmtDuration(r.metrics.phases.propagateMs) },
  { head: 'max unavailable', cell: (r) => fmtCount(r.metrics.maxUnavailablePartitions) },
  { head: 'max divergence', cell: (r) => fmtCount(r.metrics.divergence.maxPartitions) },
];

export function fmtRatio(x: number | null): string {
  return x === null ? '—' : `${x.toLocaleString('en-US', { maximumFractionDigits: 1 })}×`;
}

interface Grid {
  readonly groups: { readonly name: string; readonly width: number }[];
  readonly heads: string[];
  readonly rows: string[][];
  /** Cells that are text (left-aligned). */
  readonly left: number;
}

function tableOf(doc: CompareDocument): Grid {
  const hasRatio = doc.modes.includes('zk') && doc.modes.includes('kraft');
  const heads = doc.grid.map((a) => a.key);
  const groups: { name: string; width: number }[] = [{ name: '', width: heads.length }];
  for (const m of doc.modes) {
    groups.push({ name: m ?? 'run', width: MODE_COLUMNS.length });
    heads.push(...MODE_COLUMNS.map((c) => c.head));
  }
  if (hasRatio) {
    groups.push({ name: '', width: 1 });
    heads.push('zk/kraft recovery');
  }
  const rows = doc.points.map((p) => {
    const row = doc.grid.map((a) => fmtValue(p.grid[a.key]!, a.unit));
    doc.modes.forEach((_m, i) => {
      const r = p.runs[i];
      if (isRun(r)) row.push(...MODE_COLUMNS.map((c) => c.cell(r) + (c.head === 'recovery' && r.violation !== null ? ' !' : '')));
      else row.push(`failed: ${r?.error.kind ?? 'missing'}`, ...MODE_COLUMNS.slice(1).map(() => ''));
    });
    if (hasRatio) row.push(fmtRatio(p.recoveryRatio));
    return row;
  });
  return { groups, heads, rows, left: doc.grid.length };
}

function notes(doc: CompareDocument): string[] {
  const out: string[] = [];
  for (const p of doc.points) {
    for (const r of p.runs) {
      const where = `${Object.entries(p.grid).map(([k, v]) => `${k}=${String(v)}`).join(' ')}${r.mode !== null ? ` ${r.mode}` : ''}`;
      if (!isRun(r)) out.push(`${where}: ${r.error.kind} error: ${r.error.message}; replay: ${r.replay}`);
      else if (r.violation !== null) out.push(`${where}: ! ${r.violation.invariant} violated at ${r.violation.atMs} ms; replay: ${r.violation.replay}`);
    }
  }
  return out;
}

function fixedText(doc: CompareDocument): string {
  const set = Object.entries(doc.set);
  return set.length === 0 ? '' : `  ${set.map(([k, v]) => `${k}=${String(v)}`).join(' ')}`;
}

/** The comparison as an aligned text table: a header line of mode groups, one row per grid point. */
export function renderCompareTable(doc: CompareDocument): string {
  const t = tableOf(doc);
  const widths = t.heads.map((h, i) => Math.max(h.length, ...t.rows.map((r) => r[i]!.length)));
  const pad = (cells: readonly string[]): string => cells.map((c, i) => (i < t.left ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd();
  const groupLine: string[] = [];
  let col = 0;
  for (const g of t.groups) {
    const span = widths.slice(col, col + g.width).reduce((s, w) => s + w, 0) + 2 * (g.width - 1);
    const label = g.name === '' ? '' : ` ${g.name} `;
    const fill = Math.max(0, span - label.length);
    groupLine.push(g.name === '' ? ' '.repeat(span) : `${'─'.repeat(Math.floor(fill / 2))}${label}${'─'.repeat(Math.ceil(fill / 2))}`);
    col += g.width;
  }
  const out = [`${doc.scenario}  seed ${doc.seed}${fixedText(doc)}`, groupLine.join('  ').trimEnd(), pad(t.heads), ...t.rows.map(pad)];
  const n = notes(doc);
  if (n.length > 0) out.push(...n);
  return out.join('\n');
}

/** The same table in Markdown (a README block): mode-prefixed column heads. */
export function renderCompareMarkdown(doc: CompareDocument): string {
  const t = tableOf(doc);
  const heads: string[] = [];
  let col = 0;
  for (const g of t.groups) {
    for (let i = 0; i < g.width; i++) heads.push(g.name === '' ? t.heads[col + i]! : `${g.name} ${t.heads[col + i]!}`);
    col += g.width;
  }
  const esc = (s: string): string => s.replace(/\|/g, '\\|');
  const out = [
    `| ${heads.map(esc).join(' | ')} |`,
    `|${heads.map((_h, i) => (i < t.left ? '---' : '---:')).join('|')}|`,
    ...t.rows.map((r) => `| ${r.map(esc).join(' | ')} |`),
  ];
  const n = notes(doc);
  if (n.length > 0) out.push('', ...n.map((l) => `- ${l}`));
  return out.join('\n');
}
