/**
 * Binary min-heap of (timeUs, seq) keys with an Int32 payload slot, stored as struct-of-arrays.
 * Equal times pop in insertion order (seq), so equal-time events never reorder between versions.
 * No objects are allocated per entry: the hot path of every simulated event runs through here.
 */
export class EventHeap {
  private times: Float64Array;
  private seqs: Float64Array;
  private slots: Int32Array;
  private count = 0;

  constructor(initialCapacity = 1024) {
    this.times = new Float64Array(initialCapacity);
    this.seqs = new Float64Array(initialCapacity);
    this.slots = new Int32Array(initialCapacity);
  }

  get size(): number {
    return this.count;
  }

  /** Time of the earliest entry; Infinity when empty. */
  peekTime(): number {
    return this.count > 0 ? this.times[0]! : Infinity;
  }

  /** Sequence number of the earliest entry; -1 when empty. */
  peekSeq(): number {
    return this.count > 0 ? this.seqs[0]! : -1;
  }

  /** Slot of the earliest entry; -1 when empty. */
  peekSlot(): number {
    return this.count > 0 ? this.slots[0]! : -1;
  }

  push(timeUs: number, seq: number, slot: number): void {
    if (this.count === this.times.length) this.grow();
    const times = this.times;
    const seqs = this.seqs;
    const slots = this.slots;
    let i = this.count++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const pt = times[parent]!;
      if (pt < timeUs || (pt === timeUs && seqs[parent]! < seq)) break;
      times[i] = pt;
      seqs[i] = seqs[parent]!;
      slots[i] = slots[parent]!;
      i = parent;
    }
    times[i] = timeUs;
    seqs[i] = seq;
    slots[i] = slot;
  }

  /** Removes the earliest entry and returns its slot; -1 when empty. */
  pop(): number {
    if (this.count === 0) return -1;
    const times = this.times;
    const seqs = this.seqs;
    const slots = this.slots;
    const top = slots[0]!;
    const n = --this.count;
    if (n === 0) return top;
    const t = times[n]!;
    const s = seqs[n]!;
    const sl = slots[n]!;
    let i = 0;
    const half = n >> 1;
    while (i < half) {
      let c = 2 * i + 1;
      let ct = times[c]!;
      let cs = seqs[c]!;
      const r = c + 1;
      if (r < n) {
        const rt = times[r]!;
        const rs = seqs[r]!;
        if (rt < ct || (rt === ct && rs < cs)) {
          c = r;
          ct = rt;
          cs = rs;
        }
      }
      if (t < ct || (t === ct && s < cs)) break;
      times[i] = ct;
      seqs[i] = cs;
      slots[i] = slots[c]!;
      i = c;
    }
    times[i] = t;
    seqs[i] = s;
    slots[i] = sl;
    return top;
  }

  private grow(): void {
    const cap = this.times.length * 2;
    const t = new Float64Array(cap);
    t.set(this.times);
    const s = new Float64Array(cap);
    s.set(this.seqs);
    const sl = new Int32Array(cap);
    sl.set(this.slots);
    this.times = t;
    this.seqs = s;
    this.slots = sl;
  }
}
