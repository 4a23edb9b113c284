/**
 * The run pool: runs independent run requests (scenario file + seed + mode + settings) on worker
 * threads and hands each outcome back as it finishes, in completion order. `sim sweep` and
 * `sim check` drive it; anything that runs a grid of runs (parameter points × modes) can too: a job
 * may carry any extra fields, they come back with its outcome.
 *
 * A job is plain data (structured-cloneable), not a loaded scenario: each thread imports the file
 * itself and parses the settings against the scenario's parameters, exactly as `sim run` does, so
 * the run in a worker is the run `sim run` makes and its trace hash is the same (test/sweep/).
 * Threads share nothing but messages; a run never sees which thread it is on, or in which order
 * runs finish.
 */
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
// eslint-disable-next-line no-restricted-imports -- driver code: each run stays on one thread, and results are keyed, not ordered
import { Worker } from 'node:worker_threads';
import { parseDurationUs } from '../core/time.ts';
import { UsageError } from './errors.ts';
import { loadScenario } from './load.ts';
import { parseSettings } from './params.ts';
import type { Mode, RunResult } from './result.ts';
import { replayCommand, runOnceAsync, StallError, type RunRequest } from './run.ts';
import type { Scenario } from './scenario.ts';
import { PROJECT_ROOT, RUNNING_BUILT } from './root.ts';

/** One run to make. */
export interface RunJob {
  /** The scenario file as the user typed it (it appears in the replay command). */
  readonly file: string;
  readonly seed: number;
  readonly mode: Mode | null;
  /** `key=value` settings, parsed against the scenario's parameters where the run is made. */
  readonly sets: readonly string[];
  /** --until as typed; absent: the scenario's own. */
  readonly untilText?: string;
  readonly maxStalledEvents?: number;
}

/** What became of one run. `replay` is the command that makes the same run again. */
export type JobOutcome =
  | { readonly ok: true; readonly result: RunResult; readonly replay: string }
  | {
      readonly ok: false;
      /** usage: the input's doing (exit 2); stall: the run stopped advancing; internal: a model threw. */
      readonly kind: 'usage' | 'stall' | 'internal';
      readonly message: string;
      readonly stack?: string;
      readonly replay: string;
    };

/** Scenarios imported by this thread, by resolved path. */
const scenarios = new Map<string, Promise<Scenario>>();

function scenarioOf(file: string, watch: boolean): Promise<Scenario> {
  const path = resolve(file);
  let s = scenarios.get(path);
  if (s === undefined) {
    s = loadScenario(file, { watch });
    scenarios.set(path, s);
  }
  return s;
}

function fallbackReplay(job: RunJob): string {
  const parts = ['npx sim run', job.file, `--seed ${job.seed}`];
  if (job.mode !== null) parts.push(`--mode ${job.mode}`);
  for (const s of job.sets) parts.push(`--set ${s}`);
  return parts.join(' ');
}

/**
 * Makes one run in this thread. The same function runs inline and in every worker, so where a run
 * is made cannot change it.
 */
export async function executeJob(job: RunJob, opts: { inWorker?: boolean } = {}): Promise<JobOutcome> {
  let replay = fallbackReplay(job);
  try {
    const scenario = await scenarioOf(job.file, opts.inWorker !== true);
    const overrides = parseSettings(job.sets, scenario.params);
    const untilText = job.untilText ?? scenario.until;
    const untilUs = parseDurationUs(untilText);
    if (untilUs === null || untilUs <= 0) throw new UsageError(`--until: cannot parse '${untilText}'`);
    const req: RunRequest = {
      file: job.file,
      scenario,
      seed: job.seed,
      mode: job.mode,
      overrides,
      untilUs,
      ...(job.untilText !== undefined ? { untilText: job.untilText } : {}),
      ...(job.maxStalledEvents !== undefined ? { maxStalledEvents: job.maxStalledEvents } : {}),
    };
    replay = replayCommand(req);
    return { ok: true, result: await runOnceAsync(req), replay };
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    const kind = e instanceof UsageError ? 'usage' : e instanceof StallError ? 'stall' : 'internal';
    return { ok: false, kind, message, ...(e instanceof Error && e.stack !== undefined ? { stack: e.stack } : {}), replay };
  }
}

export interface PoolOptions<J extends RunJob> {
  /** Worker threads; `inline` runs every job on this thread, one after another (tests, --workers 1 is still a thread). */
  readonly workers: number | 'inline';
  /** Called once per job, in completion order. If it throws, the pool stops and rethrows. */
  readonly onOutcome: (job: J, outcome: JobOutcome) => void;
  /** How many jobs there will be, when known: no more threads are started than that. */
  readonly jobCount?: number;
}

/** One worker per core: the default of `--workers`. */
export function defaultWorkers(): number {
  return Math.max(1, availableParallelism());
}

/** A worker thread's module: the built one as it is; from the sources, bin/sim-worker.js registers tsx first. */
const WORKER_ENTRY = RUNNING_BUILT ? new URL('./pool-worker.js', import.meta.url) : pathToFileURL(join(PROJECT_ROOT, 'bin', 'sim-worker.js'));

interface Slot<J> {
  worker: Worker;
  job: J | null;
}

/**
 * Runs every job; resolves when all have reported. Jobs are drawn from the iterable lazily (a seed
 * range may be long), one at a time per idle thread.
 */
export async function runPool<J extends RunJob>(jobs: Iterable<J>, opts: PoolOptions<J>): Promise<void> {
  const it = jobs[Symbol.iterator]();
  if (opts.workers === 'inline') {
    for (let n = it.next(); n.done !== true; n = it.next()) opts.onOutcome(n.value, await executeJob(n.value));
    return;
  }
  if (!Number.isSafeInteger(opts.workers) || opts.workers < 1) throw new UsageError(`--workers must be at least 1, got ${opts.workers}`);
  // Each thread imports the models (about a second of CPU): none is started without a job for it.
  const count = Math.max(1, Math.min(opts.workers, opts.jobCount ?? opts.workers));
  let exhausted = false;
  let failure: unknown = null;
  const slots: Slot<J>[] = [];
  await new Promise<void>((done, fail) => {
    const finish = (): void => {
      for (const s of slots) void s.worker.terminate();
      if (failure !== null) fail(failure);
      else done();
    };
    const feed = (slot: Slot<J>): void => {
      if (failure !== null) return;
      const n = exhausted ? null : it.next();
      if (n === null || n.done === true) {
        exhausted = true;
        slot.job = null;
        if (slots.every((s) => s.job === null)) finish();
        return;
      }
      slot.job = n.value;
      const { file, seed, mode, sets, untilText, maxStalledEvents } = n.value;
      slot.worker.postMessage({ file, seed, mode, sets, untilText, maxStalledEvents });
    };
    const report = (slot: Slot<J>, job: J, outcome: JobOutcome): void => {
      if (failure !== null) return;
      try {
        opts.onOutcome(job, outcome);
      } catch (e) {
        failure = e;
        finish();
        return;
      }
      feed(slot);
    };
    const start = (): Slot<J> => {
      const slot: Slot<J> = { worker: new Worker(WORKER_ENTRY), job: null };
      slot.worker.on('message', (o: JobOutcome) => {
        const job = slot.job;
        slot.job = null;
        if (job !== null) report(slot, job, o);
      });
      // A thread that dies (out of memory, a crash in native code) takes only its run with it.
      const died = (why: string): void => {
        const job = slot.job;
        slot.job = null;
        if (failure !== null || job === null) return;
        const fresh = start();
        slots[slots.indexOf(slot)] = fresh;
        report(fresh, job, { ok: false, kind: 'internal', message: `the worker thread died: ${why}`, replay: fallbackReplay(job) });
      };
      slot.worker.on('error', (e: Error) => died(e.message));
      slot.worker.on('exit', (code) => died(`exit code ${code}`));
      return slot;
    };
    for (let i = 0; i < count; i++) slots.push(start());
    for (const s of slots) feed(s);
  });
}
