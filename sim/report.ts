/**
 * `sim report <trace.jsonl>`: a Kafka run's metrics recomputed from its trace alone. The trace's
 * observation records (kind 'obs', written by the models' ObservationChannel), the lifecycle
 * records (start, crash, pause, resume), the fault records and the verdict records feed a fresh
 * ClusterTracker, built from the header observation (the run's parameters and nodes) exactly as
 * the run built its own; the trace hash is recomputed from the records and must equal the one the
 * run wrote in its last line (kind 'end', written after the run, not hashed).
 */
import { Trace, type LifecycleEvent } from '../core/index.ts';
import { makeLayout } from './cluster/layout.ts';
import { batchChecksum, OBS_FORMAT, OBS_KIND, OBS_LABEL, type ControllerState, type ObservationHeader } from './cluster/observe.ts';
import { trackerOptions } from './cluster/params.ts';
import { PartitionStateBatch } from './cluster/partitions.ts';
import type { Milestone } from './cluster/recovery.ts';
import { ClusterTracker } from './cluster/tracker.ts';
import { LineReader } from './diff.ts';
import { UsageError } from './errors.ts';
import type { Mode, RunResult } from './result.ts';

/** A run as `sim report` rebuilds it: a RunResult without the wall time (not in a trace). */
export type ReportedRun = Omit<RunResult, 'wallMs'> & { wallMs: null };

interface EndDetail {
  scenario: string;
  mode: Mode | null;
  seed: number;
  traceHash: string;
  records: number;
  events: number;
  stop: { reason: string; detail: string };
  invariants: RunResult['invariants'];
  violation: RunResult['violation'];
}

/** The simulation as far as the tracker sees it, replayed from records: nothing is scheduled. */
class ReplayHost {
  nowUs = 0;
  readonly nodes: { up: boolean; paused: boolean; readonly id: number }[] = [];
  private readonly listeners: ((node: { readonly id: number }, event: LifecycleEvent) => void)[] = [];
  readonly props = { safety: (): void => undefined };
  readonly trace = { record: (): void => undefined };
  readonly faults = { mainFaultAtUs: -1, lastActionAtUs: -1, stepsRemaining: 0 };

  constructor(nodes: number) {
    for (let id = 0; id < nodes; id++) this.nodes.push({ up: false, paused: false, id });
  }

  onLifecycle(l: (node: { readonly id: number }, event: LifecycleEvent) => void): void {
    this.listeners.push(l);
  }

  at(): number {
    return -1;
  }

  cancel(): void {}

  stop(): void {}

  lifecycle(id: number, event: LifecycleEvent): void {
    const n = this.nodes[id];
    if (n === undefined) return;
    if (event === 'start') {
      n.up = true;
      n.paused = false;
    } else if (event === 'crash') {
      n.up = false;
      n.paused = false;
    } else n.paused = event === 'pause';
    for (const l of this.listeners) l(n, event);
  }
}

const LIFECYCLE = new Set(['start', 'crash', 'pause', 'resume']);

function parseBatch(detail: unknown, fail: (why: string) => UsageError): PartitionStateBatch {
  if (typeof detail !== 'string') throw fail('has no batch (detail)');
  const states = detail === '' ? [] : detail.split(';');
  const b = PartitionStateBatch.ofSize(states.length);
  for (const s of states) {
    const f = s.split(',');
    if (f.length !== 5) throw fail('has a malformed batch');
    const [p, l, le, pe, isr] = f.map(Number) as [number, number, number, number, number];
    if (![p, l, le, pe, isr].every(Number.isInteger)) throw fail('has a malformed batch');
    b.push(p, l, le, pe, isr);
  }
  return b;
}

/** Recomputes a run's result (metrics, the tracker's extra figures) from the trace file at `path`. */
export function reportFromTrace(path: string): ReportedRun {
  let r: LineReader;
  try {
    r = new LineReader(path);
  } catch (e) {
    if (e instanceof UsageError) throw new UsageError(e.message.replace(/^diff: /, 'report: '));
    throw e;
  }
  const fail = (why: string): UsageError => new UsageError(`report: ${path}: line ${r.line} ${why}`);
  const trace = new Trace();
  let header: ObservationHeader | null = null;
  let host: ReplayHost | null = null;
  let tracker: ClusterTracker | null = null;
  const index = new Map<string, number>();
  const brokerOfNode = new Map<number, number>();
  let end: EndDetail | null = null;
  let endAtUs = 0;
  try {
    for (let text = r.next(); text !== null; text = r.next()) {
      if (r.unterminated) throw fail('has no newline: the trace is truncated (a run that was cut off?)');
      if (end !== null) throw fail('follows the end record: not one trace written by --trace');
      let o: Record<string, unknown>;
      try {
        o = JSON.parse(text) as Record<string, unknown>;
      } catch {
        throw fail('is not JSON: not a trace written by sim run --trace');
      }
      if (typeof o !== 'object' || o === null || typeof o['tUs'] !== 'number' || typeof o['kind'] !== 'string' || typeof o['label'] !== 'string' || typeof o['value'] !== 'number') {
        throw fail('is not a trace record (expected { tUs, kind, node, peer, label, value } as written by sim run --trace)');
      }
      const atUs = o['tUs'];
      const kind = o['kind'];
      const label = o['label'];
      const value = o['value'];
      if (kind === 'end') {
        try {
          end = JSON.parse(String(o['detail'])) as EndDetail;
        } catch {
          throw fail('is an end record without its detail');
        }
        endAtUs = atUs;
        continue;
      }
      const nodeOf = (v: unknown): number => {
        if (v === null || v === undefined) return -1;
        if (typeof v === 'number') return v;
        let i = index.get(String(v));
        // A node added after the cluster was built: the next index (the hash check below tells if that was wrong).
        if (i === undefined) index.set(String(v), (i = index.size));
        return i;
      };
      if (kind === OBS_KIND && label === OBS_LABEL.header) {
        if (header !== null) throw fail('is a second header: two traces in one file?');
        let h: ObservationHeader;
        try {
          h = JSON.parse(String(o['detail'])) as ObservationHeader;
        } catch {
          throw fail('is a header without its detail');
        }
        if (h.format !== OBS_FORMAT || !Array.isArray(h.nodes) || !Array.isArray(h.brokerNodes) || typeof h.params !== 'object') throw fail(`is not a ${OBS_FORMAT} header`);
        header = h;
        h.nodes.forEach((name, i) => index.set(name, i));
        h.brokerNodes.forEach((id, b) => brokerOfNode.set(id, b));
        host = new ReplayHost(h.nodes.length);
        host.nowUs = atUs;
        let layout;
        try {
          layout = makeLayout(h.params);
        } catch (e) {
          throw fail(`has a header whose parameters do not make a cluster: ${e instanceof Error ? e.message : String(e)}`);
        }
        tracker = new ClusterTracker(host, layout, h.brokerNodes.map((id) => ({ id })), trackerOptions(h.params));
      }
      const node = header === null ? -1 : nodeOf(o['node']);
      const peer = header === null ? -1 : nodeOf(o['peer']);
      trace.record(atUs, kind, node, peer, label, value);
      if (host === null || tracker === null) continue;
      host.nowUs = atUs;
      if (LIFECYCLE.has(kind)) {
        host.lifecycle(node, kind as LifecycleEvent);
      } else if (kind === 'fault') {
        host.faults.lastActionAtUs = atUs;
        if (value === 1 && host.faults.mainFaultAtUs < 0) host.faults.mainFaultAtUs = atUs;
      } else if (kind === 'state' && label === 'verdict.recovered') {
        tracker.replayVerdict();
      } else if (kind === 'state' && label === 'verdict.void') {
        tracker.replayVerdictVoid();
      } else if (kind === OBS_KIND && label !== OBS_LABEL.header) {
        const broker = (): number => {
          const b = brokerOfNode.get(node);
          if (b === undefined) throw fail('is an observation of a node that is not a broker');
          return b;
        };
        const batch = (): PartitionStateBatch => {
          const b = parseBatch(o['detail'], fail);
          if (batchChecksum(b) !== value) throw fail('has a batch whose checksum is not its value: edited or corrupted');
          return b;
        };
        const o2 = tracker.observer;
        if (label === OBS_LABEL.truth) o2.truth!(batch());
        else if (label === OBS_LABEL.applied) o2.applied!(broker(), batch());
        else if (label === OBS_LABEL.cacheReset) o2.cacheReset!(broker());
        else if (label === OBS_LABEL.serving) o2.serving!(broker(), value === 1);
        else if (label.startsWith('obs.controller.')) o2.controller!(node, label.slice('obs.controller.'.length) as ControllerState);
        else if (label.startsWith('obs.milestone.')) o2.milestone!(label.slice('obs.milestone.'.length) as Milestone);
        else throw fail(`is an observation this version does not know (${label})`);
      }
    }
  } finally {
    r.close();
  }
  if (r.line === 0) throw new UsageError(`report: ${path}: empty file: not a trace written by sim run --trace`);
  if (header === null || host === null || tracker === null) throw new UsageError(`report: ${path}: no observation header: not the trace of a Kafka scenario written by sim run --trace`);
  if (end === null) throw new UsageError(`report: ${path}: no end record: the trace is truncated (a run that was cut off?)`);
  if (trace.hash() !== end.traceHash || trace.count !== end.records) {
    throw new UsageError(`report: ${path}: its records hash to ${trace.hash()}, not to the run's ${end.traceHash}: the trace was edited or mixed`);
  }
  host.nowUs = endAtUs;
  return {
    scenario: end.scenario,
    mode: end.mode,
    seed: end.seed,
    params: header.params as Record<string, number | string | boolean>,
    traceHash: end.traceHash,
    events: end.events,
    simMs: endAtUs / 1000,
    wallMs: null,
    stop: end.stop,
    invariants: end.invariants,
    violation: end.violation,
    metrics: tracker.metrics(),
    extra: tracker.extra(),
  };
}
