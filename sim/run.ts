import { totalmem } from 'node:os';
import { DeterminismError, FaultPlanError, Simulation, type FaultPlan, traceRecordToJson, withDeterminismGuard, type RunOutcome, type TraceRecord } from '../core/index.ts';
import { UsageError } from './errors.ts';
import { estimateRunBytes, formatBytes } from './memory.ts';
import { openOutput, type OutputSink } from './output.ts';
import { defaults, type ParamValue } from './params.ts';
import { planProblem } from './plan-check.ts';
import { attachSeries } from './cluster/series.ts';
import { nullMetrics, type Mode, type RunResult } from './result.ts';
import type { BuiltScenario, Scenario } from './scenario.ts';
import { trackerOf } from './cluster/tracker.ts';
import type { PerfettoRun, PerfettoTrace } from '../reports/perfetto.ts';

export interface RunRequest {
  readonly file: string;
  readonly scenario: Scenario;
  readonly seed: number;
  readonly mode: Mode | null;
  /** Validated --set values. */
  readonly overrides: Readonly<Record<string, ParamValue>>;
  readonly untilUs: number;
  /** The --until text as typed, for the replay command. */
  readonly untilText?: string;
  /** Stream the full trace to this JSONL file ('-' for stdout). */
  readonly traceFile?: string;
  /** Record the run into this Perfetto trace (--perfetto); the caller writes the file. */
  readonly perfetto?: PerfettoTrace;
  /** The no-progress watchdog's limit (core/sim.ts DEFAULT_MAX_STALLED_EVENTS when absent). */
  readonly maxStalledEvents?: number;
  /** Refuse a run whose estimated memory exceeds this many bytes (default: memoryLimit()). */
  readonly memoryLimitBytes?: number;
  readonly onProgress?: (mode: Mode | null, nowUs: number, events: number) => void;
  /**
   * Run this fault plan instead of the one build() returns (sim shrink, sim replay). build() still
   * runs in full, so the model and every random stream are the same; only the plan differs.
   */
  readonly planOverride?: FaultPlan;
  /** Record the run's time series (sim/cluster/series.ts) into the result's `series`. */
  readonly series?: boolean;
}

/** The command that replays a run exactly. */
export function replayCommand(req: RunRequest): string {
  const parts = ['npx sim run', req.file, `--seed ${req.seed}`];
  if (req.mode !== null) parts.push(`--mode ${req.mode}`);
  for (const [k, v] of Object.entries(req.overrides)) parts.push(`--set ${k}=${String(v)}`);
  if (req.untilText !== undefined) parts.push(`--until ${req.untilText}`);
  if (req.maxStalledEvents !== undefined) parts.push(`--max-stalled-events ${req.maxStalledEvents}`);
  // `sim run` cannot take a plan: such a run replays from its capsule (sim replay).
  if (req.planOverride !== undefined) parts.push('(with an overriding fault plan: replay its capsule with sim replay)');
  return parts.join(' ');
}

/**
 * A run whose simulated time stopped advancing (the no-progress watchdog). Whose fault it is
 * depends on the input: see `userCaused`.
 */
export class StallError extends Error {
  constructor(
    readonly file: string,
    readonly detail: string,
  ) {
    super(`${file}: ${detail}`);
  }
}

/**
 * The memory a run may use: the machine's physical memory, or the container's limit when it is lower
 * (process.constrainedMemory, cgroups). Not the V8 heap limit: per-partition state lives in typed
 * arrays, whose memory is outside the JS heap, so the heap limit does not bound a large run and
 * physical memory does. Not free memory either: that changes with other processes, and whether a
 * run is refused must not.
 */
export function memoryLimit(): { bytes: number; what: string } {
  const total = totalmem();
  const c = typeof process.constrainedMemory === 'function' ? process.constrainedMemory() : 0;
  if (c !== undefined && c > 0 && c < total) return { bytes: c, what: 'the container memory limit' };
  return { bytes: total, what: 'physical memory' };
}

/** Refuses up front a run that cannot fit (exit 2, one line with the estimate and the limit). */
export function checkMemory(req: RunRequest, params: Record<string, ParamValue>): void {
  const est = estimateRunBytes(params, req.mode);
  if (est === null) return;
  const lim = req.memoryLimitBytes !== undefined ? { bytes: req.memoryLimitBytes, what: 'the given limit' } : memoryLimit();
  if (est > lim.bytes) {
    const p = params['partitions'];
    throw new UsageError(
      `${req.file}${req.mode !== null ? ` (${req.mode})` : ''}: partitions=${String(p)} needs about ${formatBytes(est)} of memory, more than ${formatBytes(lim.bytes)} (${lim.what}); lower partitions or brokers`,
    );
  }
}

/**
 * Events per slice when the run is driven asynchronously: the gap between two chances to see a
 * signal (a traced run handles about 100k events/s, so Ctrl-C is seen within a quarter second).
 */
const SLICE_EVENTS = 25_000;

/**
 * One run as a sequence of slices. Between two slices the caller may yield to the event loop (so
 * Ctrl-C is seen while a long run goes on); the slicing changes nothing in the run, its trace or its
 * hash. Yields nothing but `undefined`; returns the result.
 */
function* runSteps(req: RunRequest, slices: boolean): Generator<undefined, RunResult, undefined> {
  const { scenario } = req;
  const params = { ...defaults(scenario.params), ...req.overrides };
  checkMemory(req, params);
  const wallStart = performance.now();
  const sim = new Simulation({ seed: `${req.seed}` });
  sim.props.replayCommand = replayCommand(req);
  const recorder = req.series === true ? attachSeries(sim) : null;
  const sink: OutputSink | null = req.traceFile !== undefined ? openOutput('--trace', req.traceFile) : null;
  if (sink !== null) {
    const names = sim.trace.nodeNames;
    sim.trace.sink = (rec: TraceRecord) => sink.write(traceRecordToJson(rec, names));
  }
  let built: BuiltScenario;
  let outcome: RunOutcome;
  let completed = false;
  try {
    built = withDeterminismGuard(() => {
      let b: BuiltScenario;
      try {
        b = scenario.build({ sim, params, mode: req.mode, seed: req.seed });
      } catch (e) {
        // Whatever build() throws is about the scenario and its parameters: the user's input.
        if (e instanceof UsageError) throw new UsageError(`${req.file}: ${e.message}`);
        if (e instanceof DeterminismError) throw e;
        throw new UsageError(`${req.file}: build() failed: ${e instanceof Error ? e.message : String(e)}`);
      }
      const bad = planProblem(b?.plan);
      if (bad !== null) throw new UsageError(`${req.file}: ${bad}`);
      if (req.planOverride !== undefined) {
        const badOverride = planProblem(req.planOverride);
        if (badOverride !== null) throw new UsageError(`${req.file}: overriding plan: ${badOverride}`);
      }
      sim.installFaults(req.planOverride ?? b.plan);
      return b;
    });
    const perfetto = attachPerfetto(sim, req);
    const limits = {
      untilUs: req.untilUs,
      progressEvery: 2_000_000,
      onProgress: (nowUs: number, events: number) => req.onProgress?.(req.mode, nowUs, events),
      ...(req.maxStalledEvents !== undefined ? { maxStalledEvents: req.maxStalledEvents } : {}),
    };
    for (;;) {
      const maxEvents = slices ? sim.eventsRun + SLICE_EVENTS : Number.MAX_SAFE_INTEGER;
      const o = withDeterminismGuard(() => sim.run({ ...limits, maxEvents }));
      if (o.reason !== 'event-limit' || !slices) {
        outcome = o;
        break;
      }
      yield undefined;
    }
    if (outcome.reason === 'stalled') throw new StallError(req.file, outcome.detail);
    perfetto?.finish();
    completed = true;
    // The trace's last line says how the run ended (`sim report`); written to the sink only, not hashed.
    if (sim.trace.sink !== null) sim.trace.sink(traceEndRecord(sim, scenario.name, req, outcome));
  } catch (e) {
    if (e instanceof FaultPlanError) throw new UsageError(`${req.file}: fault plan: ${e.message}`);
    if (e instanceof DeterminismError) throw new UsageError(`${req.file} is not deterministic: ${e.message}`);
    throw e;
  } finally {
    if (completed) sink?.commit();
    else sink?.discard();
  }
  const v = sim.props.violation;
  return {
    scenario: scenario.name,
    mode: req.mode,
    seed: req.seed,
    params,
    traceHash: sim.trace.hash(),
    events: outcome.events,
    simMs: sim.nowUs / 1000,
    wallMs: Math.round(performance.now() - wallStart),
    stop: { reason: outcome.reason, detail: outcome.detail },
    invariants: sim.props.results(),
    violation: v === null ? null : { invariant: v.invariant, atMs: v.atMs, detail: v.detail, replay: v.replay, event: v.event },
    metrics: built.metrics?.() ?? nullMetrics(),
    extra: built.extra?.() ?? {},
    // After metrics(): the tracker's last sample (the state the run ends in) is in.
    ...(recorder !== null ? { series: recorder.toJson(sim.nowUs) } : {}),
  };
}

/** The last line of a --trace file: the run's identity, how it ended and its trace hash (kind 'end'). */
function traceEndRecord(sim: Simulation, scenario: string, req: RunRequest, outcome: RunOutcome): TraceRecord {
  const v = sim.props.violation;
  const detail = {
    scenario, mode: req.mode, seed: req.seed, traceHash: sim.trace.hash(), records: sim.trace.count, events: outcome.events,
    stop: { reason: outcome.reason, detail: outcome.detail }, invariants: sim.props.results(),
    violation: v === null ? null : { invariant: v.invariant, atMs: v.atMs, detail: v.detail, replay: v.replay, event: v.event },
  };
  return { atUs: sim.nowUs, kind: 'end', node: -1, peer: -1, label: outcome.reason, value: outcome.events, detail: JSON.stringify(detail) };
}

/** --perfetto: a second trace sink, chained after the --trace one; it samples the cluster tracker's figures. */
function attachPerfetto(sim: Simulation, req: RunRequest): PerfettoRun | null {
  if (req.perfetto === undefined) return null;
  const run = req.perfetto.attach(sim, req.mode ?? '', () => {
    const t = trackerOf(sim);
    return t === undefined ? null : [t.unavailable, t.totalDivergence];
  });
  const prev = sim.trace.sink;
  sim.trace.sink = prev === null ? (r: TraceRecord) => run.onRecord(r) : (r: TraceRecord) => {
    prev(r);
    run.onRecord(r);
  };
  return run;
}

/** Builds and runs one (scenario, mode, seed); the simulation itself runs under the determinism guard. */
export function runOnce(req: RunRequest): RunResult {
  const steps = runSteps(req, false);
  for (;;) {
    const r = steps.next();
    if (r.done === true) return r.value;
  }
}

/**
 * The same run, yielding to the event loop between slices of events, so that signals (Ctrl-C) and
 * a closed stdout are handled while it goes on. Same result and trace hash as runOnce.
 */
export async function runOnceAsync(req: RunRequest): Promise<RunResult> {
  const steps = runSteps(req, true);
  for (;;) {
    const r = steps.next();
    if (r.done === true) return r.value;
    // eslint-disable-next-line no-restricted-globals -- between slices, outside the run: lets signals in
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}
