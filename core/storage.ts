/**
 * Durable storage of one node. Writes land in the page cache (unsynced) until an fsync completes;
 * a crash or a lose-unsynced-writes fault drops them, a wipe drops everything. Keyed values hold
 * small state (a quorum-state file); append-only logs hold record batches and track how much of
 * them is synced.
 */
export class DurableLog<T> {
  readonly entries: T[] = [];
  private syncedLen = 0;

  get syncedLength(): number {
    return this.syncedLen;
  }

  get length(): number {
    return this.entries.length;
  }

  append(entry: T): void {
    this.entries.push(entry);
  }

  /** Drops entries from `len` on (Raft truncation on a diverging epoch). */
  truncate(len: number): void {
    if (len < this.entries.length) this.entries.length = len;
    if (this.syncedLen > len) this.syncedLen = len;
  }

  /** Drops the first `count` entries (log start moved past a snapshot). */
  dropPrefix(count: number): void {
    if (count <= 0) return;
    this.entries.splice(0, count);
    this.syncedLen = Math.max(0, this.syncedLen - count);
  }

  markSynced(len: number): void {
    this.syncedLen = Math.max(this.syncedLen, Math.min(len, this.entries.length));
  }

  loseUnsynced(): void {
    this.entries.length = this.syncedLen;
  }

  wipe(): void {
    this.entries.length = 0;
    this.syncedLen = 0;
  }
}

export class DurableStore {
  private readonly synced = new Map<string, unknown>();
  private readonly pending = new Map<string, unknown>();
  private readonly logs = new Map<string, DurableLog<unknown>>();

  /** Writes a value; durable only after the next completed fsync. Values must not be mutated later. */
  put(key: string, value: unknown): void {
    this.pending.set(key, value);
  }

  get<T>(key: string): T | undefined {
    if (this.pending.has(key)) return this.pending.get(key) as T;
    return this.synced.get(key) as T | undefined;
  }

  log<T>(name: string): DurableLog<T> {
    let l = this.logs.get(name);
    if (l === undefined) {
      l = new DurableLog<unknown>();
      this.logs.set(name, l);
    }
    return l as DurableLog<T>;
  }

  /** What an fsync started now would make durable: the pending values and each log's length. */
  syncPoint(): { values: Map<string, unknown>; logLengths: Map<string, number> } {
    const logLengths = new Map<string, number>();
    for (const [name, l] of this.logs) logLengths.set(name, l.length);
    return { values: new Map(this.pending), logLengths };
  }

  /** Completes an fsync started at `point`. */
  completeSync(point: { values: Map<string, unknown>; logLengths: Map<string, number> }): void {
    for (const [k, v] of point.values) {
      this.synced.set(k, v);
      if (this.pending.get(k) === v) this.pending.delete(k);
    }
    for (const [name, len] of point.logLengths) this.logs.get(name)?.markSynced(len);
  }

  /** Power loss / process crash: the page cache is gone. */
  loseUnsynced(): void {
    this.pending.clear();
    for (const l of this.logs.values()) l.loseUnsynced();
  }

  wipe(): void {
    this.pending.clear();
    this.synced.clear();
    for (const l of this.logs.values()) l.wipe();
  }
}
