import { join, relative } from 'node:path';
import { UsageError } from './errors.ts';
import { loadScenario } from './load.ts';
import { parseSetting, type ParamValue } from './params.ts';
import type { Mode, RunResult } from './result.ts';
import { defaultWorkers, runPool, type JobOutcome, type RunJob } from './pool.ts';
import { PROJECT_ROOT } from './root.ts';

/** One entry of the safety corpus: a scenario file, its settings, and how many seeds to run. */
export interface CorpusEntry {
  readonly file: string;
  readonly sets: Readonly<Record<string, string>>;
  readonly seeds: number;
}

/**
 * The safety corpus: every scenario with every safety and liveness property on, over seeds 1…N,
 * at sizes that keep the whole corpus (515 runs) to about half a minute on two worker threads. The
 * swarm scenario draws a different fault mix for every seed, so most of the runs are its.
 */
export const CORPUS: readonly CorpusEntry[] = [
  { file: 'scenarios/ping.ts', sets: {}, seeds: 100 },
  { file: 'scenarios/swarm.ts', sets: {}, seeds: 200 },
  { file: 'scenarios/controller-failover.ts', sets: { partitions: '20000' }, seeds: 3 },
  { file: 'scenarios/zombie-controller.ts', sets: {}, seeds: 3 },
  { file: 'scenarios/controlled-shutdown.ts', sets: { partitions: '20000' }, seeds: 3 },
  { file: 'scenarios/broker-crash.ts', sets: { partitions: '5000', brokers: '6' }, seeds: 2 },
  { file: 'scenarios/broker-bounce.ts', sets: { partitions: '5000', brokers: '6' }, seeds: 2 },
  { file: 'scenarios/network-partition.ts', sets: { partitions: '5000', brokers: '6', variant: 'controller-isolated' }, seeds: 2 },
  { file: 'scenarios/network-partition.ts', sets: { partitions: '5000', brokers: '6', variant: 'controller-from-quorum' }, seeds: 2 },
  { file: 'scenarios/network-partition.ts', sets: { partitions: '5000', brokers: '6', variant: 'broker-from-controller' }, seeds: 2 },
  { file: 'scenarios/rolling-restart.ts', sets: { partitions: '3000', brokers: '4' }, seeds: 2 },
  { file: 'scenarios/clock-skew.ts', sets: { partitions: '5000', brokers: '6' }, seeds: 2 },
  { file: 'scenarios/flapping-link.ts', sets: { partitions: '5000', brokers: '6' }, seeds: 2 },
];

export interface CheckOptions {
  /** Seeds per entry instead of the corpus's own count. */
  readonly seeds?: number;
  readonly firstSeed?: number;
  /** Only entries whose file contains this text. */
  readonly only?: string;
  /** Extra --set values for every run (e.g. bugs=…); entries that do not know a key are skipped. */
  readonly sets?: readonly string[];
  /** The no-progress watchdog's limit for every run. */
  readonly maxStalledEvents?: number;
  readonly onRun?: (done: number, total: number, r: RunResult) => void;
  /** Worker threads of the run pool (default one per core); 'inline' runs on this thread. */
  readonly workers?: number | 'inline';
}

interface CheckJob extends RunJob {
  readonly plan: number;
  readonly m: number;
  readonly index: number;
}

export interface CheckLine {
  readonly file: string;
  readonly mode: Mode | null;
  readonly runs: number;
  readonly failed: number;
  readonly failures: readonly { seed: number; invariant: string; atMs: number; detail: string; replay: string }[];
}

/** Runs the corpus; every run is independent and replays from the command it prints. */
export async function runCheck(opts: CheckOptions): Promise<CheckLine[]> {
  const first = opts.firstSeed ?? 1;
  const most = opts.seeds ?? Math.max(...CORPUS.map((e) => e.seeds));
  if (!Number.isSafeInteger(first) || first < 0) throw new UsageError(`--from must be an integer from 0 to 2^53 − 1, got ${first}`);
  if (first + most - 1 > Number.MAX_SAFE_INTEGER) {
    throw new UsageError(`--from ${first} with ${most} seeds goes past 2^53 − 1 (${Number.MAX_SAFE_INTEGER}): the last seed must be at most that`);
  }
  const entries = CORPUS.filter((e) => opts.only === undefined || e.file.includes(opts.only));
  const known: Record<string, unknown>[] = [];
  const plans: { entry: CorpusEntry; file: string; scenario: Awaited<ReturnType<typeof loadScenario>>; overrides: Record<string, ParamValue>; modes: (Mode | null)[] }[] = [];
  for (const entry of entries) {
    const path = join(PROJECT_ROOT, entry.file);
    const scenario = await loadScenario(path);
    const overrides: Record<string, ParamValue> = {};
    for (const [k, v] of Object.entries(entry.sets)) overrides[k] = parseSetting(`${k}=${v}`, scenario.params)[1];
    let applicable = true;
    for (const s of opts.sets ?? []) {
      const key = s.slice(0, Math.max(0, s.indexOf('='))).trim();
      if (scenario.params[key] === undefined) applicable = false;
      else {
        const [k, v] = parseSetting(s, scenario.params);
        overrides[k] = v;
      }
    }
    if (!applicable) {
      known.push(scenario.params);
      continue;
    }
    known.push(scenario.params);
    const shown = relative(process.cwd(), path) || path;
    plans.push({ entry, file: shown, scenario, overrides, modes: scenario.modes === null ? [null] : [...scenario.modes] });
  }
  // A key that no scenario of the (selected) corpus has is a typo, not a filter.
  for (const set of opts.sets ?? []) {
    const eq = set.indexOf('=');
    if (eq <= 0) throw new UsageError(`--set expects key=value, got '${set}'`);
    const key = set.slice(0, eq).trim();
    if (!known.some((p) => p[key] !== undefined)) throw new UsageError(`--set: unknown parameter '${key}' (no scenario of the corpus${opts.only !== undefined ? ` matching --only ${opts.only}` : ''} has it; see 'sim params <scenario>')`);
  }
  const total = plans.reduce((n, p) => n + p.modes.length * (opts.seeds ?? p.entry.seeds), 0);
  // Every run of the corpus is a job of the run pool; outcomes come back in completion order and
  // are put back in corpus order, so the report is the same for any number of workers.
  const jobs: CheckJob[] = [];
  plans.forEach((p, plan) =>
    p.modes.forEach((mode, m) => {
      for (let seed = first; seed < first + (opts.seeds ?? p.entry.seeds); seed++) {
        jobs.push({
          file: p.file,
          seed,
          mode,
          sets: [...Object.entries(p.entry.sets).map(([k, v]) => `${k}=${v}`), ...(opts.sets ?? [])],
          ...(opts.maxStalledEvents !== undefined ? { maxStalledEvents: opts.maxStalledEvents } : {}),
          plan,
          m,
          index: jobs.length,
        });
      }
    }),
  );
  const outcomes: (JobOutcome | undefined)[] = new Array<JobOutcome | undefined>(jobs.length);
  let done = 0;
  await runPool(jobs, {
    workers: opts.workers ?? defaultWorkers(),
    jobCount: jobs.length,
    onOutcome: (job, o) => {
      if (!o.ok && o.kind === 'usage') throw new UsageError(o.message);
      // A stall caused by the user's --set is bad input; with the corpus's own settings it is our bug.
      if (!o.ok && o.kind === 'stall' && (opts.sets ?? []).length > 0) throw new UsageError(`${o.message} (replay: ${o.replay})`);
      outcomes[job.index] = o;
      done++;
      if (o.ok) opts.onRun?.(done, total, o.result);
    },
  });
  const lines: CheckLine[] = [];
  plans.forEach((p, plan) =>
    p.modes.forEach((mode, m) => {
      const failures: CheckLine['failures'][number][] = [];
      const mine = jobs.filter((j) => j.plan === plan && j.m === m);
      for (const job of mine) {
        const o = outcomes[job.index]!;
        // A model that throws is a bug of the simulator: reported with its replay (exit 70).
        if (!o.ok) failures.push({ seed: job.seed, invariant: 'internal-error', atMs: -1, detail: o.message.split('\n')[0]!, replay: `${o.replay} --debug` });
        else if (o.result.violation !== null) {
          const v = o.result.violation;
          failures.push({ seed: job.seed, invariant: v.invariant, atMs: v.atMs, detail: v.detail, replay: o.replay });
        }
      }
      lines.push({ file: p.file, mode, runs: mine.length, failed: failures.length, failures });
    }),
  );
  return lines;
}
