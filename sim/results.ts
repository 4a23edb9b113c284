/**
 * Results files of `sim sweep --out` (JSON Lines, one finished run per line, in completion order)
 * and the summary of a set of runs. The summary is computed from the runs sorted by (seed, mode), so
 * it depends only on which runs there are: n shards merged give the summary one sweep gives.
 */
import { readFileSync } from 'node:fs';
import { UsageError } from './errors.ts';
import type { ParamValue } from './params.ts';
import { nullMetrics, type Metrics, type RunResult } from './result.ts';

/**
 * One line: the result object `sim run --json` prints for the run, plus `replay`, the command that
 * makes it again; or, for a run that failed with an internal error (a model threw), the run's
 * identity with `error` instead of the figures.
 */
export type ResultLine = (RunResult & { replay: string }) | ErrorLine;

export interface ErrorLine {
  scenario: string;
  mode: RunResult['mode'];
  seed: number;
  params: Record<string, ParamValue>;
  replay: string;
  error: { kind: 'internal' | 'stall'; message: string };
}

export function isErrorLine(l: ResultLine): l is ErrorLine {
  return 'error' in l;
}

/** A run's key in a sweep: one line per (seed, mode). */
export function lineKey(l: { seed: number; mode: string | null }): string {
  return `${l.seed}/${l.mode ?? '-'}`;
}

/** What makes two lines part of one sweep: the scenario and every parameter's value. */
export function sweepIdentity(l: ResultLine): string {
  return JSON.stringify([l.scenario, l.params]);
}

export interface ReadResults {
  readonly lines: ResultLine[];
  /** Bytes up to the end of the last complete line. */
  readonly completeBytes: number;
  /** A last line without its newline: a write cut short by a kill. */
  readonly torn: boolean;
}

function malformed(file: string, lineNo: number, why: string): UsageError {
  return new UsageError(`${file}: line ${lineNo} is not a result line of sim sweep (${why})`);
}

/** Checks the fields the summary and the keys rely on. */
function asLine(v: unknown, file: string, lineNo: number): ResultLine {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw malformed(file, lineNo, 'not a JSON object');
  const o = v as Record<string, unknown>;
  if (typeof o['scenario'] !== 'string') throw malformed(file, lineNo, 'no scenario');
  if (!Number.isSafeInteger(o['seed']) || (o['seed'] as number) < 0) throw malformed(file, lineNo, 'no seed');
  if (o['mode'] !== null && o['mode'] !== 'zk' && o['mode'] !== 'kraft') throw malformed(file, lineNo, 'no mode');
  if (typeof o['params'] !== 'object' || o['params'] === null) throw malformed(file, lineNo, 'no params');
  if (typeof o['replay'] !== 'string') throw malformed(file, lineNo, 'no replay');
  if ('error' in o) {
    const e = o['error'] as Record<string, unknown> | null;
    if (typeof e !== 'object' || e === null || typeof e['message'] !== 'string') throw malformed(file, lineNo, 'bad error');
    return o as unknown as ErrorLine;
  }
  if (typeof o['traceHash'] !== 'string') throw malformed(file, lineNo, 'no traceHash');
  if (typeof o['metrics'] !== 'object' || o['metrics'] === null) throw malformed(file, lineNo, 'no metrics');
  if (!('violation' in o)) throw malformed(file, lineNo, 'no violation field');
  return o as unknown as ResultLine;
}

/**
 * Reads a results file. A last line without its newline is torn (the writer was killed in the middle
 * of it): with `tolerateTorn` it is left out and reported, otherwise it is an error like any
 * malformed line.
 */
export function readResults(file: string, opts: { tolerateTorn: boolean }): ReadResults {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UsageError(code === 'ENOENT' ? `results file not found: ${file}` : code === 'EISDIR' ? `${file} is a directory, not a results file` : `cannot read ${file}: ${code ?? String(e)}`);
  }
  const lastNl = text.lastIndexOf('\n');
  const complete = text.slice(0, lastNl + 1);
  const tail = text.slice(lastNl + 1);
  if (tail !== '' && !opts.tolerateTorn) throw new UsageError(`${file}: the last line is cut short (a sweep killed while writing it); continue that sweep with --resume`);
  const lines: ResultLine[] = [];
  const rows = complete === '' ? [] : complete.slice(0, -1).split('\n');
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!;
    if (row.trim() === '') continue;
    let v: unknown;
    try {
      v = JSON.parse(row);
    } catch {
      throw malformed(file, i + 1, 'not JSON');
    }
    lines.push(asLine(v, file, i + 1));
  }
  return { lines, completeBytes: Buffer.byteLength(complete, 'utf8'), torn: tail !== '' };
}

/**
 * The runs of several files as one set: a run present twice must be the same run (same trace
 * hash), and every run must belong to one sweep (same scenario and parameters).
 */
export function unionOf(sources: readonly { file: string; lines: readonly ResultLine[] }[]): ResultLine[] {
  const byKey = new Map<string, { line: ResultLine; file: string }>();
  let identity: { id: string; file: string } | null = null;
  for (const { file, lines } of sources) {
    for (const l of lines) {
      const id = sweepIdentity(l);
      if (identity === null) identity = { id, file };
      else if (id !== identity.id) {
        throw new UsageError(`${file} and ${identity.file} are not runs of one sweep: ${differs(l, JSON.parse(identity.id) as [string, Record<string, ParamValue>])}`);
      }
      const key = lineKey(l);
      const seen = byKey.get(key);
      if (seen === undefined) byKey.set(key, { line: l, file });
      else if (hashOf(seen.line) !== hashOf(l)) {
        throw new UsageError(`seed ${l.seed}${l.mode !== null ? ` (${l.mode})` : ''} differs between ${seen.file} and ${file} (${hashOf(seen.line)} vs ${hashOf(l)}): made by different code or settings`);
      }
    }
  }
  return [...byKey.values()].map((v) => v.line);
}

function hashOf(l: ResultLine): string {
  return isErrorLine(l) ? `error: ${l.error.message}` : l.traceHash;
}

function differs(l: ResultLine, [scenario, params]: [string, Record<string, ParamValue>]): string {
  if (l.scenario !== scenario) return `scenario ${l.scenario} vs ${scenario}`;
  const keys = [...new Set([...Object.keys(l.params), ...Object.keys(params)])];
  const k = keys.find((key) => l.params[key] !== params[key]);
  return k === undefined ? 'parameters differ' : `${k}=${String(l.params[k])} vs ${k}=${String(params[k])}`;
}

/** Every figure of `metrics`, flattened to dotted names, in a fixed order. */
function figures(m: Metrics): [string, number | null | undefined][] {
  return [
    ['recoveryMs', m.recoveryMs],
    ['phases.detectMs', m.phases.detectMs],
    ['phases.electMs', m.phases.electMs],
    ['phases.loadMs', m.phases.loadMs],
    ['phases.propagateMs', m.phases.propagateMs],
    ['unavailablePartitionMs', m.unavailablePartitionMs],
    ['maxUnavailablePartitions', m.maxUnavailablePartitions],
    ['divergence.maxPartitions', m.divergence.maxPartitions],
    ['divergence.partitionMs', m.divergence.partitionMs],
    ['divergence.phantomStates', m.divergence.phantomStates],
    ['divergence.convergedAtMs', m.divergence.convergedAtMs],
    ['splitBrainMs', m.splitBrainMs],
    ['shutdownMs', m.shutdownMs],
  ];
}

const FIGURE_NAMES = figures(nullMetrics()).map(([name]) => name);

export interface Quantiles {
  readonly metric: string;
  /** Runs where the figure applies (not null). */
  readonly n: number;
  readonly p50: number;
  readonly p95: number;
  readonly max: number;
}

export interface Summary {
  readonly scenario: string;
  readonly runs: number;
  readonly seeds: { readonly count: number; readonly first: number; readonly last: number } | null;
  readonly violated: number;
  readonly internalErrors: number;
  /** By invariant (sorted by name), each with the replay command of every run that violated it, by seed. */
  readonly violations: readonly { readonly invariant: string; readonly runs: number; readonly replays: readonly string[] }[];
  readonly errors: readonly { readonly message: string; readonly replay: string }[];
  /** Per mode, in the order zk, kraft, (none). */
  readonly metrics: readonly { readonly mode: string; readonly runs: number; readonly figures: readonly Quantiles[] }[];
}

/** Nearest rank: the smallest value with at least p % of the values at or below it. */
function rank(sorted: readonly number[], p: number): number {
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const MODE_ORDER = ['zk', 'kraft', '-'];

/** The summary of a set of runs; it depends on the set only, not on the order the runs finished in. */
export function summarise(input: readonly ResultLine[]): Summary {
  const lines = [...input].sort((a, b) => a.seed - b.seed || MODE_ORDER.indexOf(a.mode ?? '-') - MODE_ORDER.indexOf(b.mode ?? '-'));
  const seeds = [...new Set(lines.map((l) => l.seed))];
  const byInvariant = new Map<string, string[]>();
  const errors: { message: string; replay: string }[] = [];
  const byMode = new Map<string, Map<string, number[]>>();
  const runsByMode = new Map<string, number>();
  let violated = 0;
  for (const l of lines) {
    if (isErrorLine(l)) {
      errors.push({ message: l.error.message, replay: l.replay });
      continue;
    }
    if (l.violation !== null) {
      violated++;
      const list = byInvariant.get(l.violation.invariant) ?? [];
      list.push(l.violation.replay !== '' ? l.violation.replay : l.replay);
      byInvariant.set(l.violation.invariant, list);
    }
    const mode = l.mode ?? '-';
    runsByMode.set(mode, (runsByMode.get(mode) ?? 0) + 1);
    const figs = byMode.get(mode) ?? new Map<string, number[]>();
    byMode.set(mode, figs);
    for (const [name, v] of figures(l.metrics)) {
      if (typeof v !== 'number') continue;
      const vs = figs.get(name) ?? [];
      vs.push(v);
      figs.set(name, vs);
    }
  }
  const metrics = [...byMode.keys()]
    .sort((a, b) => MODE_ORDER.indexOf(a) - MODE_ORDER.indexOf(b))
    .map((mode) => {
      const figs = byMode.get(mode)!;
      return {
        mode,
        runs: runsByMode.get(mode) ?? 0,
        figures: FIGURE_NAMES
          .filter((name) => figs.has(name))
          .map((name) => {
            const vs = figs.get(name)!.sort((a, b) => a - b);
            return { metric: name, n: vs.length, p50: rank(vs, 50), p95: rank(vs, 95), max: vs[vs.length - 1]! };
          }),
      };
    });
  return {
    scenario: [...new Set(lines.map((l) => l.scenario))].join(', '),
    runs: lines.length,
    seeds: seeds.length === 0 ? null : { count: seeds.length, first: seeds[0]!, last: seeds[seeds.length - 1]! },
    violated,
    internalErrors: errors.length,
    violations: [...byInvariant.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([invariant, replays]) => ({ invariant, runs: replays.length, replays })),
    errors,
    metrics,
  };
}

/** Replay commands shown per invariant; the rest are counted (all are in --json). */
const REPLAYS_SHOWN = 5;

function fmt(v: number): string {
  return String(Math.round(v * 10) / 10);
}

/** The summary for people. */
export function renderSummary(s: Summary): string {
  const out: string[] = [];
  const seeds = s.seeds === null ? 'no runs' : `seeds ${s.seeds.first}..${s.seeds.last} (${s.seeds.count} seeds)`;
  out.push(`${s.scenario}: ${s.runs} runs, ${seeds}: ${s.runs - s.violated - s.internalErrors} held, ${s.violated} violated${s.internalErrors > 0 ? `, ${s.internalErrors} internal errors` : ''}`);
  if (s.violations.length > 0) {
    out.push('', 'violations by invariant:');
    for (const v of s.violations) {
      out.push(`  ${v.invariant}: ${v.runs} run${v.runs === 1 ? '' : 's'}`);
      for (const r of v.replays.slice(0, REPLAYS_SHOWN)) out.push(`    ${r}`);
      if (v.replays.length > REPLAYS_SHOWN) out.push(`    … and ${v.replays.length - REPLAYS_SHOWN} more (--json lists every one)`);
    }
  }
  if (s.errors.length > 0) {
    out.push('', 'internal errors (a bug of kraftsim):');
    for (const e of s.errors.slice(0, REPLAYS_SHOWN)) out.push(`  ${e.message.split('\n')[0]}`, `    ${e.replay} --debug`);
    if (s.errors.length > REPLAYS_SHOWN) out.push(`  … and ${s.errors.length - REPLAYS_SHOWN} more (--json lists every one)`);
  }
  for (const m of s.metrics) {
    if (m.figures.length === 0) continue;
    out.push('', `${m.mode === '-' ? 'figures' : `${m.mode} mode`} (${m.runs} runs; n = runs where the figure applies):`);
    const w = Math.max(6, ...m.figures.map((f) => f.metric.length));
    const cols = m.figures.map((f) => [f.n, f.p50, f.p95, f.max].map(fmt));
    const cw = [0, 1, 2, 3].map((i) => Math.max(4, ...cols.map((c) => c[i]!.length)));
    out.push(`  ${'metric'.padEnd(w)}  ${['n', 'p50', 'p95', 'max'].map((h, i) => h.padStart(cw[i]!)).join('  ')}`);
    m.figures.forEach((f, j) => out.push(`  ${f.metric.padEnd(w)}  ${cols[j]!.map((c, i) => c.padStart(cw[i]!)).join('  ')}`));
  }
  return out.join('\n');
}
