/**
 * `sim compare`: one scenario over a grid of parameter values (`--grid key=v1,v2,…`, several axes
 * make their cartesian product), every point in each mode, on the run pool. Each run is the run
 * `sim run … --set key=value` makes (same trace hash); the outcome is a table of recovery, its
 * phases, max unavailable partitions and max divergence per mode and point, with the ZooKeeper /
 * KRaft recovery ratio, as text, Markdown, JSON (`kraftsim-compare/1`) or an HTML report.
 */
import { UsageError } from './errors.ts';
import { estimateRunBytes, formatBytes } from './memory.ts';
import { defaults, parseSettings, parseValue, type ParamSpecs, type ParamValue } from './params.ts';
import { runPool, type RunJob } from './pool.ts';
import type { Mode, RunResult } from './result.ts';
import { checkMemory, memoryLimit } from './run.ts';
import type { Scenario } from './scenario.ts';

export const COMPARE_FORMAT = 'kraftsim-compare/1';

/** One `--grid key=v1,v2,…`: the values in the order given, parsed against the parameter's spec. */
export interface GridAxis {
  readonly key: string;
  readonly unit: string;
  readonly values: readonly ParamValue[];
  /** Numbers whose successive ratios are about constant (200k, 500k, 1M, 2M): plotted on a log axis. */
  readonly geometric: boolean;
}

/** Parses every `--grid`; throws a one-line UsageError for an unknown key, an empty list or a bad value. */
export function parseGrid(texts: readonly string[], specs: ParamSpecs, sets: readonly string[] = []): GridAxis[] {
  if (texts.length === 0) throw new UsageError('--grid is required: give at least one key=v1,v2,… (e.g. --grid partitions=200000,500000)');
  const setKeys = new Set(sets.map((s) => s.slice(0, Math.max(0, s.indexOf('='))).trim()));
  const axes: GridAxis[] = [];
  for (const text of texts) {
    const eq = text.indexOf('=');
    if (eq <= 0) throw new UsageError(`--grid expects key=v1,v2,… (e.g. partitions=200000,500000), got '${text}'`);
    const key = text.slice(0, eq).trim();
    const spec = specs[key];
    if (spec === undefined) throw new UsageError(`--grid: unknown parameter '${key}' (see 'sim params <scenario>')`);
    if (axes.some((a) => a.key === key)) throw new UsageError(`--grid ${key}: given twice; put every value in one list`);
    if (setKeys.has(key)) throw new UsageError(`--grid ${key}: also given with --set; a parameter is either fixed or varied`);
    const raws = text.slice(eq + 1).split(',').map((s) => s.trim());
    if (raws.every((r) => r === '')) throw new UsageError(`--grid ${key}: the list of values is empty (e.g. ${key}=${String(spec.default)},…)`);
    const values: ParamValue[] = [];
    for (const raw of raws) {
      if (raw === '') throw new UsageError(`--grid ${key}: an empty value in '${text.slice(eq + 1)}'`);
      let v: ParamValue;
      try {
        v = parseValue(key, raw, spec);
      } catch (e) {
        if (e instanceof UsageError) throw new UsageError(e.message.replace(/^--set /, '--grid '));
        throw e;
      }
      if (values.includes(v)) throw new UsageError(`--grid ${key}: ${String(v)} is listed twice`);
      values.push(v);
    }
    axes.push({ key, unit: spec.unit, values, geometric: isGeometric(values) });
  }
  return axes;
}

/**
 * Positive numbers that grow by a steady factor rather than a steady step (200k, 500k, 1M, 2M is;
 * 100, 200, 300, 400 is not): sorted, their successive ratios vary less (coefficient of variation)
 * than their successive differences, and the ratios average at least 1.5. Two values are when one
 * is at least ten times the other.
 */
export function isGeometric(values: readonly ParamValue[]): boolean {
  if (values.length < 2 || !values.every((v) => typeof v === 'number' && v > 0)) return false;
  const xs = [...(values as number[])].sort((a, b) => a - b);
  const ratios = xs.slice(1).map((x, i) => x / xs[i]!);
  if (ratios.length === 1) return ratios[0]! >= 10;
  const steps = xs.slice(1).map((x, i) => x - xs[i]!);
  const cv = (v: number[]): number => {
    const m = v.reduce((s, x) => s + x, 0) / v.length;
    return Math.sqrt(v.reduce((s, x) => s + (x - m) ** 2, 0) / v.length) / m;
  };
  const meanRatio = Math.exp(ratios.reduce((s, r) => s + Math.log(r), 0) / ratios.length);
  return meanRatio >= 1.5 && cv(ratios) < cv(steps);
}

/** Every combination of the axes' values, the first axis varying slowest. */
export function gridPoints(axes: readonly GridAxis[]): Record<string, ParamValue>[] {
  let points: Record<string, ParamValue>[] = [{}];
  for (const a of axes) points = points.flatMap((p) => a.values.map((v) => ({ ...p, [a.key]: v })));
  return points;
}

/** A run of the comparison: the result of `sim run --json` for it, plus its replay command. */
export type CompareRun = RunResult & { readonly replay: string };

/** A run that could not finish (a model error): its identity and what went wrong. */
export interface CompareFailedRun {
  readonly mode: Mode | null;
  readonly seed: number;
  readonly replay: string;
  readonly error: { readonly kind: string; readonly message: string };
}

export interface ComparePoint {
  /** The grid values of this point. */
  readonly grid: Record<string, ParamValue>;
  /** One per mode, in the order of `modes`. */
  readonly runs: (CompareRun | CompareFailedRun)[];
  /** ZooKeeper-mode recovery / KRaft recovery; null when either is missing or KRaft's is 0. */
  readonly recoveryRatio: number | null;
}

/** The JSON document of `sim compare --json`. */
export interface CompareDocument {
  readonly format: typeof COMPARE_FORMAT;
  readonly scenario: string;
  readonly file: string;
  readonly seed: number;
  readonly modes: readonly (Mode | null)[];
  /** Fixed `--set` values, as given. */
  readonly set: Record<string, ParamValue>;
  readonly grid: readonly GridAxis[];
  readonly points: readonly ComparePoint[];
}

export interface CompareOptions {
  readonly file: string;
  readonly scenario: Scenario;
  readonly modes: readonly (Mode | null)[];
  readonly seed: number;
  readonly sets: readonly string[];
  readonly grid: readonly GridAxis[];
  readonly workers: number | 'inline';
  readonly untilText?: string;
  readonly untilUs: number;
  readonly maxStalledEvents?: number;
  /** True when a stall is the input's doing; always so unless every grid value is a default. */
  readonly stallIsUsers: boolean;
  readonly onRun?: (done: number, total: number, job: CompareJob) => void;
}

export interface CompareJob extends RunJob {
  readonly point: number;
  readonly slot: number;
}

function gridSets(point: Record<string, ParamValue>): string[] {
  return Object.entries(point).map(([k, v]) => `${k}=${String(v)}`);
}

/** Refuses up front a grid whose largest run, or `workers` of its largest runs at once, cannot fit. */
export function checkCompareMemory(opts: Omit<CompareOptions, 'onRun'>): void {
  const fixed = parseSettings(opts.sets, opts.scenario.params);
  let largest = 0;
  for (const point of gridPoints(opts.grid)) {
    const overrides = { ...fixed, ...point };
    const params = { ...defaults(opts.scenario.params), ...overrides };
    for (const mode of opts.modes) {
      checkMemory({ file: opts.file, scenario: opts.scenario, seed: opts.seed, mode, overrides, untilUs: opts.untilUs }, params);
      largest = Math.max(largest, estimateRunBytes(params, mode) ?? 0);
    }
  }
  const workers = opts.workers === 'inline' ? 1 : opts.workers;
  const lim = memoryLimit();
  if (workers > 1 && largest * workers > lim.bytes) {
    throw new UsageError(`${opts.file}: ${workers} workers at up to ${formatBytes(largest)} each need more than ${formatBytes(lim.bytes)} (${lim.what}); use --workers ${Math.max(1, Math.floor(lim.bytes / largest))}`);
  }
}

/** Runs every grid point in every mode on the pool; the document lists them in grid order whatever the completion order. */
export async function runCompare(opts: CompareOptions): Promise<CompareDocument> {
  const fixed = parseSettings(opts.sets, opts.scenario.params);
  const points = gridPoints(opts.grid);
  const jobs: CompareJob[] = [];
  points.forEach((point, i) =>
    opts.modes.forEach((mode, slot) =>
      jobs.push({
        file: opts.file,
        seed: opts.seed,
        mode,
        sets: [...opts.sets, ...gridSets(point)],
        point: i,
        slot,
        ...(opts.untilText !== undefined ? { untilText: opts.untilText } : {}),
        ...(opts.maxStalledEvents !== undefined ? { maxStalledEvents: opts.maxStalledEvents } : {}),
      }),
    ),
  );
  const runs: (CompareRun | CompareFailedRun)[][] = points.map(() => []);
  let done = 0;
  // Largest runs first: the longest ones start at once and the short ones fill the gaps.
  const order = [...jobs].sort((a, b) => sizeOf(points[b.point]!) - sizeOf(points[a.point]!) || a.point - b.point || a.slot - b.slot);
  await runPool(order, {
    workers: opts.workers,
    jobCount: jobs.length,
    onOutcome: (job, o) => {
      if (o.ok) runs[job.point]![job.slot] = { ...o.result, replay: o.replay };
      else if (o.kind === 'usage') throw new UsageError(o.message);
      else if (o.kind === 'stall' && opts.stallIsUsers) throw new UsageError(`${o.message}; raise --max-stalled-events if that many events at one instant is intended (replay: ${o.replay})`);
      else runs[job.point]![job.slot] = { mode: job.mode, seed: job.seed, replay: o.replay, error: { kind: o.kind, message: o.message.split('\n')[0]! } };
      opts.onRun?.(++done, jobs.length, job);
    },
  });
  return {
    format: COMPARE_FORMAT,
    scenario: opts.scenario.name,
    file: opts.file,
    seed: opts.seed,
    modes: opts.modes,
    set: fixed,
    grid: opts.grid,
    points: points.map((grid, i) => ({ grid, runs: runs[i]!, recoveryRatio: ratioOf(runs[i]!) })),
  };
}

/** A rough size for scheduling: the product of the point's numeric values. */
function sizeOf(point: Record<string, ParamValue>): number {
  return Object.values(point).reduce<number>((s, v) => (typeof v === 'number' && v > 0 ? s * v : s), 1);
}

export function isRun(r: CompareRun | CompareFailedRun | undefined): r is CompareRun {
  return r !== undefined && !('error' in r);
}

function ratioOf(runs: readonly (CompareRun | CompareFailedRun)[]): number | null {
  const zk = runs.find((r) => r.mode === 'zk');
  const kraft = runs.find((r) => r.mode === 'kraft');
  if (!isRun(zk) || !isRun(kraft)) return null;
  const a = zk.metrics.recoveryMs;
  const b = kraft.metrics.recoveryMs;
  if (a === null || b === null || b <= 0) return null;
  return Math.round((a / b) * 100) / 100;
}

/** 0 every property held; 1 a run violated one; 70 a run failed with an internal error. */
export function compareExitCode(doc: CompareDocument): number {
  const all = doc.points.flatMap((p) => p.runs);
  if (all.some((r) => !isRun(r))) return 70;
  return all.some((r) => isRun(r) && r.violation !== null) ? 1 : 0;
}
