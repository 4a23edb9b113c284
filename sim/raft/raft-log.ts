import type { DurableLog, SimNode } from '../../core/index.ts';
import type { RaftSnapshot, RecordBatch } from './types.ts';

const LOG_NAME = '__cluster_metadata-0';
const SNAPSHOT_KEY = '__cluster_metadata-0/snapshot';

/**
 * The replicated log of one node (KafkaRaftLog over the `__cluster_metadata-0` partition): record
 * batches in a DurableLog — appended to the page cache, durable once an fsync covers them, lost by
 * a crash otherwise — plus the latest snapshot (KIP-630), whose end offset is the log start once
 * the prefix below it has been deleted. Offsets are record offsets; batches never straddle a
 * truncation point because every epoch's batches are identical in every log.
 */
export class RaftLog<P, S> {
  private readonly log: DurableLog<RecordBatch<P>>;

  constructor(private readonly node: SimNode) {
    this.log = node.store.log<RecordBatch<P>>(LOG_NAME);
  }

  get batches(): readonly RecordBatch<P>[] {
    return this.log.entries;
  }

  get snapshot(): RaftSnapshot<S> | undefined {
    return this.node.store.get<RaftSnapshot<S>>(SNAPSHOT_KEY);
  }

  get startOffset(): number {
    const first = this.log.entries[0];
    return first !== undefined ? first.baseOffset : (this.snapshot?.endOffset ?? 0);
  }

  get endOffset(): number {
    const e = this.log.entries;
    const last = e[e.length - 1];
    return last !== undefined ? last.baseOffset + last.count : (this.snapshot?.endOffset ?? 0);
  }

  /** End offset of what an fsync has made durable. */
  get flushedEndOffset(): number {
    const n = this.log.syncedLength;
    const last = this.log.entries[n - 1];
    return last !== undefined ? last.baseOffset + last.count : this.startOffset;
  }

  /** Epoch of the last batch (or of the snapshot when the log is empty). */
  get lastEpoch(): number {
    const e = this.log.entries;
    const last = e[e.length - 1];
    return last !== undefined ? last.epoch : (this.snapshot?.epoch ?? 0);
  }

  get sizeBytesAfterSnapshot(): number {
    const from = this.snapshot?.endOffset ?? 0;
    let bytes = 0;
    const e = this.log.entries;
    for (let i = e.length - 1; i >= 0; i--) {
      const b = e[i]!;
      if (b.baseOffset < from) break;
      bytes += b.sizeBytes;
    }
    return bytes;
  }

  /** Index of the first batch that ends after `offset`, or the batch count. */
  private indexAfter(offset: number): number {
    const e = this.log.entries;
    let lo = 0;
    let hi = e.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const b = e[mid]!;
      if (b.baseOffset + b.count <= offset) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Batches from the one holding `fromOffset`, up to `maxBytes` (at least one), below `toOffset`. */
  read(fromOffset: number, toOffset: number, maxBytes: number): RecordBatch<P>[] {
    const e = this.log.entries;
    const out: RecordBatch<P>[] = [];
    let bytes = 0;
    for (let i = this.indexAfter(fromOffset); i < e.length; i++) {
      const b = e[i]!;
      if (b.baseOffset >= toOffset) break;
      if (out.length > 0 && bytes + b.sizeBytes > maxBytes) break;
      out.push(b);
      bytes += b.sizeBytes;
    }
    return out;
  }

  append(batch: RecordBatch<P>): void {
    if (batch.baseOffset !== this.endOffset) {
      throw new Error(`RaftLog ${this.node.name}: append at ${batch.baseOffset} but the log ends at ${this.endOffset} (offsets must be contiguous)`);
    }
    const last = this.log.entries[this.log.entries.length - 1];
    if (last !== undefined && batch.epoch < last.epoch) {
      throw new Error(`RaftLog ${this.node.name}: epoch ${batch.epoch} after epoch ${last.epoch} (epochs in a log never decrease)`);
    }
    this.log.append(batch);
  }

  /** Drops everything from `offset` on (a batch holding `offset` goes entirely). */
  truncateTo(offset: number): void {
    this.log.truncate(this.indexAfter(offset));
  }

  /**
   * The largest epoch ≤ `epoch` in this log and the offset where it ends (the next epoch's start
   * offset, or the log end): Kafka's `endOffsetForEpoch`, used to find where two logs diverge.
   */
  endOffsetForEpoch(epoch: number): { epoch: number; endOffset: number } {
    const e = this.log.entries;
    let lo = 0;
    let hi = e.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (e[mid]!.epoch <= epoch) lo = mid + 1;
      else hi = mid;
    }
    // lo = first batch with epoch > `epoch`.
    if (lo === 0) {
      const s = this.snapshot;
      if (s !== undefined && s.epoch <= epoch) return { epoch: s.epoch, endOffset: this.startOffset };
      return { epoch: -1, endOffset: this.startOffset };
    }
    const found = e[lo - 1]!;
    const next = e[lo];
    return { epoch: found.epoch, endOffset: next !== undefined ? next.baseOffset : this.endOffset };
  }

  /** Stores a snapshot (durable at the next fsync). */
  storeSnapshot(snapshot: RaftSnapshot<S>): void {
    this.node.store.put(SNAPSHOT_KEY, snapshot);
  }

  /** A fetched snapshot replaces the whole log: it restarts at the snapshot's end offset. */
  installSnapshot(snapshot: RaftSnapshot<S>): void {
    this.log.truncate(0);
    this.storeSnapshot(snapshot);
  }

  /** Deletes batches that end at or below `offset` (covered by a durable snapshot). */
  deletePrefixBefore(offset: number): void {
    const e = this.log.entries;
    let n = 0;
    while (n < e.length && e[n]!.baseOffset + e[n]!.count <= offset) n++;
    this.log.dropPrefix(n);
  }
}
