/**
 * Results files of `sim sweep --out` (JSON Lines, one finished run per line, in completion order)
 * and the summary of a set of runs. The summary is computed from the runs sorted by (seed, mode), so
 * it depends only on which runs there are: n shards merged give the summary one sweep gives.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
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

export interface ReadResults {
  /** Complete lines read. */
  readonly count: number;
  /** Bytes up to the end of the last complete line. */
  readonly completeBytes: number;
  /** A last line without its newline: a write cut short by a kill. */
  readonly torn: boolean;
}

/** Bytes read at a time: a results file of a long sweep is far larger than one string may be. */
const CHUNK_BYTES = 1 << 20;

/**
 * Reads a results file line by line, never whole (a sweep of 10^5 seeds writes about a gigabyte),
 * handing each run to `onLine` with the line's text. A last line without its newline is torn (the
 * writer was killed in the middle of it): with `tolerateTorn` it is left out and reported,
 * otherwise it is an error like any malformed line.
 */
export function readResults(file: string, opts: { tolerateTorn: boolean; onLine: (line: ResultLine, text: string) => void }): ReadResults {
  let fd: number;
  try {
    fd = openSync(file, 'r');
    if (!fstatSync(fd).isFile()) {
      closeSync(fd);
      throw Object.assign(new Error('not a regular file'), { code: 'EISDIR' });
    }
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UsageError(code === 'ENOENT' ? `results file not found: ${file}` : code === 'EISDIR' ? `${file} is not a regular file` : `cannot read ${file}: ${code ?? String(e)}`);
  }
  const decoder = new StringDecoder('utf8');
  const buf = Buffer.alloc(CHUNK_BYTES);
  let pending = '';
  let lineNo = 0;
  let count = 0;
  let completeBytes = 0;
  try {
    for (;;) {
      const n = readSync(fd, buf, 0, CHUNK_BYTES, null);
      if (n === 0) break;
      pending += decoder.write(buf.subarray(0, n));
      let nl = pending.indexOf('\n');
      let from = 0;
      while (nl >= 0) {
        const row = pending.slice(from, nl);
        lineNo++;
        completeBytes += Buffer.byteLength(row, 'utf8') + 1;
        if (row.trim() !== '') {
          let v: unknown;
          try {
            v = JSON.parse(row);
          } catch {
            throw malformed(file, lineNo, 'not JSON');
          }
          opts.onLine(asLine(v, file, lineNo), row);
          count++;
        }
        from = nl + 1;
        nl = pending.indexOf('\n', from);
      }
      pending = pending.slice(from);
    }
    pending += decoder.end();
  } finally {
    closeSync(fd);
  }
  if (pending !== '' && !opts.tolerateTorn) throw new UsageError(`${file}: the last line is cut short (a sweep killed while writing it); continue that sweep with --resume`);
  return { count, completeBytes, torn: pending !== '' };
}

/**
 * The runs of several files as one set: a run present twice must be the same run (same trace
 * hash), and every run must belong to one sweep (same scenario and parameters). Each run's line is
 * handed to `onFirst` the first time it is seen.
 */
export function unionOf(files: readonly string[], onFirst: (text: string) => void = () => {}): RunDigest[] {
  const byKey = new Map<string, { digest: RunDigest; file: string }>();
  let identity: { id: string; file: string } | null = null;
  for (const file of files) {
    readResults(file, {
      tolerateTorn: false,
      onLine: (l, text) => {
        const id = sweepIdentity(l);
        if (identity === null) identity = { id, file };
        else if (id !== identity.id) {
          throw new UsageError(`${file} and ${identity.file} are not runs of one sweep: ${differs(l, JSON.parse(identity.id) as [string, Record<string, ParamValue>])}`);
        }
        const key = lineKey(l);
        const seen = byKey.get(key);
        const digest = digestOf(l);
        if (seen === undefined) {
          byKey.set(key, { digest, file });
          onFirst(text);
        } else if (seen.digest.hash !== digest.hash) {
          throw new UsageError(`seed ${l.seed}${l.mode !== null ? ` (${l.mode})` : ''} differs between ${seen.file} and ${file} (${seen.digest.hash} vs ${digest.hash}): made by different code or settings`);
        }
      },
    });
  }
  return [...byKey.values()].map((v) => v.digest);
}

/**
 * What the summary needs of a run, and its identity: a sweep holds one per run, not the run's
 * whole result (params alone are kilobytes).
 */
export interface RunDigest {
  readonly scenario: string;
  readonly seed: number;
  readonly mode: RunResult['mode'];
  /** The trace hash; for a run that threw, its error. */
  readonly hash: string;
  readonly violation: { readonly invariant: string; readonly replay: string } | null;
  readonly error: { readonly message: string; readonly replay: string } | null;
  /** The figures of FIGURE_NAMES, in that order. */
  readonly figures: readonly (number | null)[];
}

export function digestOf(l: ResultLine): RunDigest {
  if (isErrorLine(l)) {
    return { scenario: l.scenario, seed: l.seed, mode: l.mode, hash: `error: ${l.error.message}`, violation: null, error: { message: l.error.message, replay: l.replay }, figures: [] };
  }
  return {
    scenario: l.scenario,
    seed: l.seed,
    mode: l.mode,
    hash: l.traceHash,
    violation: l.violation === null ? null : { invariant: l.violation.invariant, replay: l.violation.replay !== '' ? l.violation.replay : l.replay },
    error: null,
    figures: figures(l.metrics).map(([, v]) => (typeof v === 'number' ? v : null)),
  };
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
export function summarise(input: readonly RunDigest[]): Summary {
  const runs = [...input].sort((a, b) => a.seed - b.seed || MODE_ORDER.indexOf(a.mode ?? '-') - MODE_ORDER.indexOf(b.mode ?? '-'));
  let seedCount = 0;
  const byInvariant = new Map<string, string[]>();
  const errors: { message: string; replay: string }[] = [];
  const byMode = new Map<string, number[][]>();
  const runsByMode = new Map<string, number>();
  let violated = 0;
  runs.forEach((r, i) => {
    if (i === 0 || runs[i - 1]!.seed !== r.seed) seedCount++;
    if (r.error !== null) {
      errors.push(r.error);
      return;
    }
    if (r.violation !== null) {
      violated++;
      const list = byInvariant.get(r.violation.invariant) ?? [];
      list.push(r.violation.replay);
      byInvariant.set(r.violation.invariant, list);
    }
    const mode = r.mode ?? '-';
    runsByMode.set(mode, (runsByMode.get(mode) ?? 0) + 1);
    const figs = byMode.get(mode) ?? FIGURE_NAMES.map(() => []);
    byMode.set(mode, figs);
    r.figures.forEach((v, k) => {
      if (v !== null) figs[k]!.push(v);
    });
  });
  const metrics = [...byMode.keys()]
    .sort((a, b) => MODE_ORDER.indexOf(a) - MODE_ORDER.indexOf(b))
    .map((mode) => ({
      mode,
      runs: runsByMode.get(mode) ?? 0,
      figures: FIGURE_NAMES.flatMap((metric, k) => {
        const vs = byMode.get(mode)![k]!.sort((a, b) => a - b);
        return vs.length === 0 ? [] : [{ metric, n: vs.length, p50: rank(vs, 50), p95: rank(vs, 95), max: vs[vs.length - 1]! }];
      }),
    }));
  return {
    scenario: [...new Set(runs.map((r) => r.scenario))].join(', '),
    runs: runs.length,
    seeds: runs.length === 0 ? null : { count: seedCount, first: runs[0]!.seed, last: runs[runs.length - 1]!.seed },
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
