/**
 * The run's trace: every delivery, timer, executor task, fault and model-reported state change is a
 * structured record (time, kind, node, peer, label, value). A rolling 64-bit hash over a canonical
 * encoding of every record is always on; it is the run's identity. Full records go to a sink (JSONL)
 * only when one is attached. Hashing allocates nothing: strings are interned to 32-bit codes once.
 */

export interface TraceRecord {
  readonly atUs: number;
  readonly kind: string;
  /** Index of the node the record is about, or -1. */
  readonly node: number;
  /** Index of the other node (sender of a delivery, target of a send), or -1. */
  readonly peer: number;
  readonly label: string;
  readonly value: number;
  readonly detail?: string;
}

export type TraceListener = (
  atUs: number,
  kind: string,
  node: number,
  peer: number,
  label: string,
  value: number,
) => void;

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);

function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

const TIMER_CODE = fnv1a('timer');

export class Trace {
  private h1 = 0x9e3779b9 | 0;
  private h2 = 0x7f4a7c15 | 0;
  private readonly codes = new Map<string, number>();
  /** Number of records hashed so far. */
  count = 0;
  /** Names of nodes by index, for sinks. */
  nodeNames: string[] = [];
  /** Receives every record in full; set only when streaming (it costs an object per record). */
  sink: ((rec: TraceRecord) => void) | null = null;
  /** Called for every record when set (fault triggers, invariant wake-ups). */
  listener: TraceListener | null = null;
  lastKind = '';
  lastLabel = '';
  lastNode = -1;

  // Two one-entry caches in front of the intern map: records come in runs of the same kind and label.
  private k1 = '';
  private c1 = 0;
  private k2 = '';
  private c2 = 0;

  private code(s: string): number {
    if (s === this.k1) return this.c1;
    if (s === this.k2) return this.c2;
    let c = this.codes.get(s);
    if (c === undefined) {
      c = fnv1a(s);
      this.codes.set(s, c);
    }
    this.k2 = this.k1;
    this.c2 = this.c1;
    this.k1 = s;
    this.c1 = c;
    return c;
  }

  /**
   * Mixes one record into the hash. Canonical encoding, five or six 32-bit words: the kind and
   * label codes together, the time (low and high 32 bits), node and peer (16 bits each), and the
   * value — one word when it is a 32-bit integer, else its two float64 halves. Straight-line code
   * on locals: this runs for every event.
   */
  record(atUs: number, kind: string, node: number, peer: number, label: string, value: number, detail?: string): void {
    this.count++;
    this.lastKind = kind;
    this.lastLabel = label;
    this.lastNode = node;
    let a = this.h1;
    let b = this.h2;
    let w = this.code(kind) ^ Math.imul(this.code(label), 0x9e3779b1);
    a = Math.imul(a ^ w, 0x85ebca6b); a = (a << 13) | (a >>> 19); b = (Math.imul(b ^ w, 0xc2b2ae35) + a) | 0;
    w = atUs | 0; // the low 32 bits (ToInt32 is modulo 2^32, as the remainder was)
    a = Math.imul(a ^ w, 0x85ebca6b); a = (a << 13) | (a >>> 19); b = (Math.imul(b ^ w, 0xc2b2ae35) + a) | 0;
    w = (atUs / 4294967296) | 0;
    a = Math.imul(a ^ w, 0x85ebca6b); a = (a << 13) | (a >>> 19); b = (Math.imul(b ^ w, 0xc2b2ae35) + a) | 0;
    w = ((node & 0xffff) << 16) | (peer & 0xffff);
    a = Math.imul(a ^ w, 0x85ebca6b); a = (a << 13) | (a >>> 19); b = (Math.imul(b ^ w, 0xc2b2ae35) + a) | 0;
    if ((value | 0) === value) {
      w = value;
      a = Math.imul(a ^ w, 0x85ebca6b); a = (a << 13) | (a >>> 19); b = (Math.imul(b ^ w, 0xc2b2ae35) + a) | 0;
    } else {
      f64[0] = value;
      w = u32[0]!;
      a = Math.imul(a ^ w, 0x85ebca6b); a = (a << 13) | (a >>> 19); b = (Math.imul(b ^ w, 0xc2b2ae35) + a) | 0;
      w = u32[1]! ^ 0x7ff80001;
      a = Math.imul(a ^ w, 0x85ebca6b); a = (a << 13) | (a >>> 19); b = (Math.imul(b ^ w, 0xc2b2ae35) + a) | 0;
    }
    this.h1 = a;
    this.h2 = b;
    if (this.listener !== null) this.listener(atUs, kind, node, peer, label, value);
    if (this.sink !== null) {
      this.sink(detail === undefined ? { atUs, kind, node, peer, label, value } : { atUs, kind, node, peer, label, value, detail });
    }
  }

  /**
   * `record(atUs, 'timer', node, -1, label, 0)`, the record of every timer firing, in fewer steps:
   * the kind's code is known and the peer and value words are constants. Same hash, same listener
   * and sink calls (it hands over to `record` when either is set).
   */
  recordTimer(atUs: number, node: number, label: string): void {
    if (this.listener !== null || this.sink !== null) {
      this.record(atUs, 'timer', node, -1, label, 0);
      return;
    }
    this.count++;
    this.lastKind = 'timer';
    this.lastLabel = label;
    this.lastNode = node;
    let a = this.h1;
    let b = this.h2;
    let w = TIMER_CODE ^ Math.imul(this.code(label), 0x9e3779b1);
    a = Math.imul(a ^ w, 0x85ebca6b); a = (a << 13) | (a >>> 19); b = (Math.imul(b ^ w, 0xc2b2ae35) + a) | 0;
    w = atUs | 0;
    a = Math.imul(a ^ w, 0x85ebca6b); a = (a << 13) | (a >>> 19); b = (Math.imul(b ^ w, 0xc2b2ae35) + a) | 0;
    w = (atUs / 4294967296) | 0;
    a = Math.imul(a ^ w, 0x85ebca6b); a = (a << 13) | (a >>> 19); b = (Math.imul(b ^ w, 0xc2b2ae35) + a) | 0;
    w = ((node & 0xffff) << 16) | 0xffff;
    a = Math.imul(a ^ w, 0x85ebca6b); a = (a << 13) | (a >>> 19); b = (Math.imul(b ^ w, 0xc2b2ae35) + a) | 0;
    a = Math.imul(a, 0x85ebca6b); a = (a << 13) | (a >>> 19); b = (Math.imul(b, 0xc2b2ae35) + a) | 0;
    this.h1 = a;
    this.h2 = b;
  }

  /** The rolling hash as 16 lowercase hex digits. */
  hash(): string {
    return (this.h1 >>> 0).toString(16).padStart(8, '0') + (this.h2 >>> 0).toString(16).padStart(8, '0');
  }
}

/** One JSONL line for a record, with node names resolved. Key order is fixed, so lines are canonical. */
export function traceRecordToJson(rec: TraceRecord, nodeNames: readonly string[]): string {
  const o: Record<string, unknown> = {
    tUs: rec.atUs,
    kind: rec.kind,
    node: rec.node >= 0 ? (nodeNames[rec.node] ?? rec.node) : null,
    peer: rec.peer >= 0 ? (nodeNames[rec.peer] ?? rec.peer) : null,
    label: rec.label,
    value: rec.value,
  };
  if (rec.detail !== undefined) o['detail'] = rec.detail;
  return JSON.stringify(o);
}
