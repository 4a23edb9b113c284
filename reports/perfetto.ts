/**
 * `sim run --perfetto out.json`: the run as Chrome trace-event JSON (`{"traceEvents": [...]}`), which
 * ui.perfetto.dev and chrome://tracing load. Built from the trace records as the run makes them (a
 * trace sink) and from the cluster tracker's figures:
 *
 * - one process per node (`zk: broker-3`), one thread per executor of the node (the 'exec'
 *   records carry the executor's name), plus a `network` thread that holds the message ends;
 * - executor busy time as complete slices ('X', ts/dur in µs of simulated time): back-to-back tasks
 *   of one label on one executor (gaps under `BRIDGE_US`) are one slice whose args give the task
 *   count and the busy µs, so the ZK-mode controller's reload is one long slice
 *   (`initializeControllerContext`) on its `controller-event-thread`;
 * - messages as flows from the sender's `network` thread to the receiver's ('s' → 'f', each end on
 *   a 1 µs slice named by the message type), paired send → deliver per (sender, receiver, type) in
 *   FIFO order; drawn for every type, thinning out for frequent types (`FLOW_BLOCK`), at most
 *   `MAX_FLOWS` in all — every message is counted, the metadata says how many are drawn;
 * - faults, lifecycle events (crash, restart, pause) and model state changes (controller active,
 *   milestones) as instants ('i');
 * - unavailable partitions and total divergence as counters ('C') of a `cluster` process, sampled
 *   from the tracker at each trace record when they changed, at most one sample per
 *   `COUNTER_RESOLUTION_US` (the last value of a busier stretch is kept).
 *
 * With several runs (`--mode both`) every run is its own set of processes, named by its mode, in one
 * file. Nothing here feeds back into the run: the sink only reads.
 */
import type { Simulation, TraceRecord } from '../core/index.ts';

/** The figures drawn as counters, read now: unavailable partitions and total divergence; null before there are any. */
export type FigureProbe = () => readonly [unavailable: number, divergence: number] | null;

/** Gaps between two tasks of one label on one executor up to this long are bridged into one slice. */
export const BRIDGE_US = 1000;
/**
 * Flows drawn per message type: the first FLOW_BLOCK messages of a type, then every 2nd of the next
 * 2 × FLOW_BLOCK, every 4th of the next 4 × FLOW_BLOCK, … — every type shows, rare ones (LeaderAndIsr,
 * a vote) in full, steady ones (fetches, pings) thinning out over the run, about FLOW_BLOCK ×
 * log2(n / FLOW_BLOCK) of n.
 */
export const FLOW_BLOCK = 200;
/** At most this many flows per run, whatever the types. */
export const MAX_FLOWS = 100_000;
/** At most this many executor slices per run; later ones are counted, not drawn. */
export const MAX_SLICES = 400_000;
/** At most this many instants (state changes) per run. */
export const MAX_INSTANTS = 50_000;
/** Counters are sampled at most this often. */
export const COUNTER_RESOLUTION_US = 1000;

/** One trace event (Chrome trace-event format). */
export interface TraceEvent {
  name: string;
  ph: string;
  ts: number;
  pid: number;
  tid: number;
  cat?: string;
  dur?: number;
  id?: number;
  bp?: string;
  s?: string;
  args?: Record<string, unknown>;
}

const LIFECYCLE = new Set(['crash', 'restart', 'pause', 'resume', 'stop']);
/** pids of one run: its node i is pid base + 1 + i, its cluster counters pid base. */
const PIDS_PER_RUN = 10_000;

interface OpenSlice {
  label: string;
  startUs: number;
  endUs: number;
  tasks: number;
  busyUs: number;
}

interface Counter {
  readonly name: string;
  readonly key: string;
  last: number;
  lastTs: number;
  /** Index in `events` of the last sample, replaced by a later value at the same instant. */
  lastIndex: number;
  pending: number | null;
  pendingTs: number;
}

/** The recorder of one run; `PerfettoTrace.attach` makes one per run. */
export class PerfettoRun {
  readonly events: TraceEvent[] = [];
  private readonly tids = new Map<string, number>();
  private readonly open = new Map<number, OpenSlice>();
  private readonly inFlight = new Map<string, { ts: number; drawn: boolean }[]>();
  /** Per message type: messages seen, the current stride, flows drawn at that stride. */
  private readonly flowRate = new Map<string, { seen: number; stride: number; drawn: number }>();
  private nextFlow: number;
  private readonly counters: Counter[];
  stats = { slices: 0, slicesDropped: 0, tasks: 0, messages: 0, flows: 0, flowsSkipped: 0, instants: 0, instantsDropped: 0, counterSamples: 0 };

  constructor(
    private readonly sim: Simulation,
    readonly label: string,
    private readonly base: number,
    private readonly figures: FigureProbe,
  ) {
    this.nextFlow = base * 1000 + 1;
    this.counters = [
      { name: 'unavailable partitions', key: 'partitions', last: NaN, lastTs: -Infinity, lastIndex: -1, pending: null, pendingTs: 0 },
      { name: 'divergence (broker-partitions)', key: 'partitions', last: NaN, lastTs: -Infinity, lastIndex: -1, pending: null, pendingTs: 0 },
    ];
  }

  private pid(node: number): number {
    return node < 0 ? this.base : this.base + 1 + node;
  }

  /** The thread of an executor (or `network`) of a node; 0 is the node's own (instants). */
  private tid(node: number, thread: string): number {
    const k = `${node}/${thread}`;
    let t = this.tids.get(k);
    if (t === undefined) {
      t = this.tids.size + 1;
      this.tids.set(k, t);
      this.events.push({ name: 'thread_name', ph: 'M', ts: 0, pid: this.pid(node), tid: t, args: { name: thread } });
    }
    return t;
  }

  /** Sees every trace record of the run, in order. */
  onRecord(r: TraceRecord): void {
    switch (r.kind) {
      case 'exec':
        this.exec(r);
        break;
      case 'send':
        this.send(r);
        break;
      case 'deliver':
        this.deliver(r);
        break;
      case 'drop':
        this.inFlight.get(`${r.node}>${r.peer}>${r.label}`)?.shift();
        break;
      case 'fault':
        this.instant(r, 'fault', r.label, r.detail !== undefined ? { action: r.detail, main: r.value === 1 } : {});
        break;
      case 'state':
        this.instant(r, 'state', r.label, { value: r.value, ...(r.detail !== undefined ? { detail: r.detail } : {}) });
        break;
      default:
        if (LIFECYCLE.has(r.kind)) {
          this.instant(r, 'lifecycle', r.kind, { incarnation: r.value });
          // A process that crashed or restarted has new connections: what was in flight to or from it is gone.
          for (const k of [...this.inFlight.keys()]) {
            const [from, to] = k.split('>');
            if (Number(from) === r.node || Number(to) === r.node) this.inFlight.delete(k);
          }
        }
    }
    this.sample(r.atUs);
  }

  private exec(r: TraceRecord): void {
    this.stats.tasks++;
    const tid = this.tid(r.node, r.detail ?? 'executor');
    const key = this.pid(r.node) * 100_000 + tid;
    const start = r.atUs - Math.round(r.value);
    const o = this.open.get(key);
    if (o !== undefined && o.label === r.label && start - o.endUs <= BRIDGE_US) {
      o.endUs = r.atUs;
      o.tasks++;
      o.busyUs += r.value;
      return;
    }
    if (o !== undefined) this.closeSlice(key, o);
    this.open.set(key, { label: r.label, startUs: start, endUs: r.atUs, tasks: 1, busyUs: r.value });
  }

  private closeSlice(key: number, o: OpenSlice): void {
    if (this.stats.slices >= MAX_SLICES) {
      this.stats.slicesDropped++;
      return;
    }
    this.stats.slices++;
    const pid = Math.floor(key / 100_000);
    this.events.push({ name: o.label, cat: 'exec', ph: 'X', ts: o.startUs, dur: Math.max(0, o.endUs - o.startUs), pid, tid: key - pid * 100_000, args: { tasks: o.tasks, busyUs: Math.round(o.busyUs) } });
  }

  private send(r: TraceRecord): void {
    this.stats.messages++;
    const k = `${r.node}>${r.peer}>${r.label}`;
    let q = this.inFlight.get(k);
    if (q === undefined) {
      q = [];
      this.inFlight.set(k, q);
    }
    let rate = this.flowRate.get(r.label);
    if (rate === undefined) {
      rate = { seen: 0, stride: 1, drawn: 0 };
      this.flowRate.set(r.label, rate);
    }
    const drawn = this.stats.flows < MAX_FLOWS && rate.seen % rate.stride === 0;
    rate.seen++;
    if (drawn) {
      this.stats.flows++;
      if (++rate.drawn >= FLOW_BLOCK) {
        rate.stride *= 2;
        rate.drawn = 0;
      }
    } else this.stats.flowsSkipped++;
    q.push({ ts: r.atUs, drawn });
  }

  private deliver(r: TraceRecord): void {
    // A delivery record has the receiver as node and the sender as peer.
    const k = `${r.peer}>${r.node}>${r.label}`;
    const sent = this.inFlight.get(k)?.shift();
    if (sent === undefined || !sent.drawn) return;
    const id = this.nextFlow++;
    const from = this.tid(r.peer, 'network');
    const to = this.tid(r.node, 'network');
    const args = { bytes: r.value };
    this.events.push(
      { name: r.label, cat: 'message', ph: 'X', ts: sent.ts, dur: 1, pid: this.pid(r.peer), tid: from, args },
      { name: r.label, cat: 'message', ph: 's', id, ts: sent.ts, pid: this.pid(r.peer), tid: from },
      { name: r.label, cat: 'message', ph: 'X', ts: r.atUs, dur: 1, pid: this.pid(r.node), tid: to, args },
      { name: r.label, cat: 'message', ph: 'f', bp: 'e', id, ts: r.atUs, pid: this.pid(r.node), tid: to },
    );
  }

  private instant(r: TraceRecord, cat: string, name: string, args: Record<string, unknown>): void {
    if (this.stats.instants >= MAX_INSTANTS) {
      this.stats.instantsDropped++;
      return;
    }
    this.stats.instants++;
    this.events.push({ name, cat, ph: 'i', s: r.node < 0 ? 'g' : 'p', ts: r.atUs, pid: this.pid(r.node), tid: r.node < 0 ? 0 : this.tid(r.node, 'events'), args });
  }

  /** Reads the tracker's figures; a changed one becomes a sample (at most one per resolution step). */
  private sample(atUs: number): void {
    const f = this.figures();
    if (f === null) return;
    this.observe(this.counters[0]!, atUs, f[0]);
    this.observe(this.counters[1]!, atUs, f[1]);
  }

  private observe(c: Counter, atUs: number, v: number): void {
    if (c.pending !== null && atUs - c.lastTs >= COUNTER_RESOLUTION_US) {
      this.emitCounter(c, c.pendingTs, c.pending);
      c.pending = null;
    }
    if (v === (c.pending ?? c.last)) return;
    if (atUs - c.lastTs >= COUNTER_RESOLUTION_US) this.emitCounter(c, atUs, v);
    else {
      c.pending = v;
      c.pendingTs = Math.max(atUs, c.lastTs);
    }
  }

  private emitCounter(c: Counter, ts: number, v: number): void {
    if (v === c.last) return;
    c.last = v;
    const e: TraceEvent = { name: c.name, cat: 'tracker', ph: 'C', ts, pid: this.base, tid: 0, args: { [c.key]: v } };
    if (ts === c.lastTs && c.lastIndex >= 0) {
      this.events[c.lastIndex] = e;
      return;
    }
    c.lastTs = ts;
    c.lastIndex = this.events.length;
    this.stats.counterSamples++;
    this.events.push(e);
  }

  /** Closes what is still open and names the processes; called once the run has ended. */
  finish(): void {
    for (const [k, o] of this.open) this.closeSlice(k, o);
    this.open.clear();
    const end = this.sim.nowUs;
    for (const c of this.counters) {
      if (c.pending !== null) this.emitCounter(c, Math.max(c.pendingTs, c.lastTs), c.pending);
      c.pending = null;
    }
    // The counters' last values, held to the end of the run.
    for (const c of this.counters) if (!Number.isNaN(c.last) && end > c.lastTs) this.events.push({ name: c.name, cat: 'tracker', ph: 'C', ts: end, pid: this.base, tid: 0, args: { [c.key]: c.last } });
    const prefix = this.label === '' ? '' : `${this.label}: `;
    const meta: TraceEvent[] = [
      { name: 'process_name', ph: 'M', ts: 0, pid: this.base, tid: 0, args: { name: `${prefix}cluster` } },
      { name: 'process_sort_index', ph: 'M', ts: 0, pid: this.base, tid: 0, args: { sort_index: this.base } },
    ];
    this.sim.nodes.forEach((n, i) => {
      meta.push(
        { name: 'process_name', ph: 'M', ts: 0, pid: this.pid(i), tid: 0, args: { name: `${prefix}${n.name}` } },
        { name: 'process_sort_index', ph: 'M', ts: 0, pid: this.pid(i), tid: 0, args: { sort_index: this.pid(i) } },
      );
    });
    this.events.unshift(...meta);
  }
}

/** The Perfetto file of one `sim run`: one or more runs (modes), written as one JSON object. */
export class PerfettoTrace {
  private readonly runs: PerfettoRun[] = [];

  /** Starts recording a run: returns the sink to chain into the simulation's trace. */
  attach(sim: Simulation, label: string, figures: FigureProbe): PerfettoRun {
    const run = new PerfettoRun(sim, label, (this.runs.length + 1) * PIDS_PER_RUN, figures);
    this.runs.push(run);
    return run;
  }

  /** The JSON text, written line by line (one event a line: a 2M-partition trace is one long array). */
  *lines(): Generator<string> {
    const metadata = {
      generator: 'kraftsim --perfetto',
      timeUnit: 'µs of simulated time',
      runs: this.runs.map((r) => ({ label: r.label, ...r.stats })),
      limits: {
        sliceBridgeUs: BRIDGE_US,
        flows: `per message type: the first ${FLOW_BLOCK} messages, then every 2nd of the next ${2 * FLOW_BLOCK}, every 4th of the next ${4 * FLOW_BLOCK}, …; at most ${MAX_FLOWS} per run; every message is counted in runs[].messages`,
        maxSlices: MAX_SLICES,
        maxInstants: MAX_INSTANTS,
        counterResolutionUs: COUNTER_RESOLUTION_US,
      },
    };
    yield `{"displayTimeUnit":"ms","otherData":${JSON.stringify(metadata)},"traceEvents":[`;
    let first = true;
    for (const r of this.runs) {
      for (const e of r.events) {
        yield `${first ? '' : ','}${JSON.stringify(e)}`;
        first = false;
      }
    }
    yield ']}';
  }
}
