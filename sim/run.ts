import { closeSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { DeterminismError, FaultPlanError, Simulation, traceRecordToJson, withDeterminismGuard, type TraceRecord } from '../core/index.ts';
import { UsageError } from './errors.ts';
import { defaults, type ParamValue } from './params.ts';
import { nullMetrics, type Mode, type RunResult } from './result.ts';
import type { Scenario } from './scenario.ts';

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
  /** Stream the full trace to this JSONL file. */
  readonly traceFile?: string;
  readonly onProgress?: (mode: Mode | null, nowUs: number, events: number) => void;
}

/** The command that replays a run exactly. */
export function replayCommand(req: RunRequest): string {
  const parts = ['npx sim run', req.file, `--seed ${req.seed}`];
  if (req.mode !== null) parts.push(`--mode ${req.mode}`);
  for (const [k, v] of Object.entries(req.overrides)) parts.push(`--set ${k}=${String(v)}`);
  if (req.untilText !== undefined) parts.push(`--until ${req.untilText}`);
  return parts.join(' ');
}

class JsonlWriter {
  private fd: number;
  private buf: string[] = [];
  private bytes = 0;
  constructor(
    private readonly path: string,
    private readonly tmp = `${path}.partial`,
  ) {
    this.fd = openSync(tmp, 'w');
  }
  write(line: string): void {
    this.buf.push(line);
    this.bytes += line.length + 1;
    if (this.bytes > 1 << 20) this.flush();
  }
  private flush(): void {
    if (this.buf.length === 0) return;
    writeSync(this.fd, this.buf.join('\n') + '\n');
    this.buf = [];
    this.bytes = 0;
  }
  close(): void {
    this.flush();
    closeSync(this.fd);
    renameSync(this.tmp, this.path);
  }
  /** A run that did not complete leaves no trace file, partial or not. */
  discard(): void {
    closeSync(this.fd);
    unlinkSync(this.tmp);
  }
}

/** Builds and runs one (scenario, mode, seed); the simulation itself runs under the determinism guard. */
export function runOnce(req: RunRequest): RunResult {
  const { scenario } = req;
  const params = { ...defaults(scenario.params), ...req.overrides };
  const wallStart = performance.now();
  const sim = new Simulation({ seed: `${req.seed}` });
  sim.props.replayCommand = replayCommand(req);
  const writer = req.traceFile !== undefined ? new JsonlWriter(req.traceFile) : null;
  if (writer !== null) {
    const names = sim.trace.nodeNames;
    sim.trace.sink = (rec: TraceRecord) => writer.write(traceRecordToJson(rec, names));
  }
  let built;
  let outcome;
  let completed = false;
  try {
    ({ built, outcome } = withDeterminismGuard(() => {
      const b = scenario.build({ sim, params, mode: req.mode, seed: req.seed });
      sim.installFaults(b.plan);
      const o = sim.run({
        untilUs: req.untilUs,
        progressEvery: 2_000_000,
        onProgress: (nowUs, events) => req.onProgress?.(req.mode, nowUs, events),
      });
      return { built: b, outcome: o };
    }));
    completed = true;
  } catch (e) {
    if (e instanceof FaultPlanError) throw new UsageError(`fault plan: ${e.message}`);
    if (e instanceof DeterminismError) throw new UsageError(`${req.file} is not deterministic: ${e.message}`);
    throw e;
  } finally {
    if (completed) writer?.close();
    else writer?.discard();
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
  };
}
