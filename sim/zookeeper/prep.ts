import { parentOf, type DataTree } from './datatree.ts';
import { ANY_VERSION, CHUNK_BADVERSION, CHUNK_FENCED, CHUNK_NONODE, CHUNK_OK, type Code, type Op, type TxnOp, type Zxid } from './types.ts';

/** What the leader believes a path will look like once every outstanding txn commits. */
interface Pending {
  exists: boolean;
  version: number;
  cversion: number;
  ephemeralOwner: number;
  zxid: Zxid;
}

/**
 * The leader's PrepRequestProcessor: validates a request against the committed tree plus the
 * changes of txns proposed but not yet committed (ZooKeeper's outstandingChanges), and turns it
 * into a txn. A multi is checked op by op against the effects of the ops before it; any failure
 * turns the whole multi into an error txn (still proposed, so responses keep their order).
 */
export class PrepRequestProcessor {
  private readonly pending = new Map<string, Pending>();
  private readonly pendingPartition = new Map<number, { version: number; zxid: Zxid }>();
  /** Sessions the leader is closing: their writes fail with SESSIONEXPIRED (ZooKeeper: isClosing). */
  readonly closing = new Set<number>();

  constructor(private readonly tree: DataTree) {}

  /**
   * The partitions of pendingPartition in the order their txns were prepped (zxids ascending), with
   * those zxids, from `logHead` on: committed() pops what is now in the tree instead of walking the
   * whole map at every commit.
   */
  private logPartition: number[] = [];
  private logZxid: Zxid[] = [];
  private logHead = 0;

  /** Forgets outstanding changes made by txns up to zxid, once they are in the tree. */
  committed(zxid: Zxid): void {
    for (const [k, v] of this.pending) if (v.zxid <= zxid) this.pending.delete(k);
    const parts = this.logPartition;
    const zxids = this.logZxid;
    let h = this.logHead;
    while (h < parts.length && zxids[h]! <= zxid) {
      const p = parts[h++]!;
      // A later txn that changed p again keeps it outstanding (its own entry comes later).
      const e = this.pendingPartition.get(p);
      if (e !== undefined && e.zxid <= zxid) this.pendingPartition.delete(p);
    }
    if (h === parts.length) {
      parts.length = 0;
      zxids.length = 0;
      h = 0;
    } else if (h >= 4096 && h * 2 >= parts.length) {
      this.logPartition = parts.slice(h);
      this.logZxid = zxids.slice(h);
      h = 0;
    }
    this.logHead = h;
  }

  clear(): void {
    this.pending.clear();
    this.pendingPartition.clear();
    this.logPartition = [];
    this.logZxid = [];
    this.logHead = 0;
    this.closing.clear();
  }

  private view(path: string, overlay: Map<string, Pending>): Pending | null {
    const o = overlay.get(path) ?? this.pending.get(path);
    if (o !== undefined) return o.exists ? o : null;
    const n = this.tree.get(path);
    return n === undefined ? null : { exists: true, version: n.version, cversion: n.cversion, ephemeralOwner: n.ephemeralOwner, zxid: n.mzxid };
  }

  private partitionVersion(p: number, overlay: Map<number, number>): number {
    return overlay.get(p) ?? this.pendingPartition.get(p)?.version ?? this.tree.partitions.version[p]!;
  }

  /** Validates ops for `session` and returns the txn ops (an error op when it fails). */
  prep(session: number, ops: readonly Op[], zxid: Zxid): TxnOp[] {
    const sessionOk = this.tree.sessions.has(session) && !this.closing.has(session);
    const overlay = new Map<string, Pending>();
    const pOverlay = new Map<number, number>();
    const out: TxnOp[] = [];
    const fail = (code: Code, i: number): TxnOp[] => [{ type: 'error', code, failedOp: i }];
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i]!;
      if (op.type !== 'createSession' && !sessionOk) return fail('SESSIONEXPIRED', i);
      switch (op.type) {
        case 'create': {
          const parentPath = parentOf(op.path);
          const parent = this.view(parentPath, overlay);
          if (parent === null) return fail('NONODE', i);
          if (parent.ephemeralOwner !== 0) return fail('NOCHILDRENFOREPHEMERALS', i);
          // Sequential names come from the parent's cversion, as in PrepRequestProcessor.
          const path = op.sequential ? `${op.path}${String(parent.cversion).padStart(10, '0')}` : op.path;
          if (this.view(path, overlay) !== null) return fail('NODEEXISTS', i);
          const owner = op.ephemeral ? session : 0;
          overlay.set(parentPath, { ...parent, cversion: parent.cversion + 1, zxid });
          overlay.set(path, { exists: true, version: 0, cversion: 0, ephemeralOwner: owner, zxid });
          out.push({ type: 'create', path, data: op.data, dataBytes: op.dataBytes, ephemeralOwner: owner });
          break;
        }
        case 'setData': {
          const n = this.view(op.path, overlay);
          if (n === null) return fail('NONODE', i);
          if (op.version !== ANY_VERSION && op.version !== n.version) return fail('BADVERSION', i);
          overlay.set(op.path, { ...n, version: n.version + 1, zxid });
          out.push({ type: 'setData', path: op.path, data: op.data, dataBytes: op.dataBytes, version: n.version + 1 });
          break;
        }
        case 'delete': {
          const n = this.view(op.path, overlay);
          if (n === null) return fail('NONODE', i);
          if (op.version !== ANY_VERSION && op.version !== n.version) return fail('BADVERSION', i);
          const committed = this.tree.get(op.path);
          if (committed !== undefined && committed.children.size > 0) return fail('NOTEMPTY', i);
          const parentPath = parentOf(op.path);
          const parent = this.view(parentPath, overlay);
          if (parent !== null) overlay.set(parentPath, { ...parent, cversion: parent.cversion + 1, zxid });
          overlay.set(op.path, { exists: false, version: -1, cversion: 0, ephemeralOwner: 0, zxid });
          out.push({ type: 'delete', path: op.path });
          break;
        }
        case 'check': {
          const n = this.view(op.path, overlay);
          if (n === null) return fail('NONODE', i);
          if (op.version !== ANY_VERSION && op.version !== n.version) return fail('BADVERSION', i);
          out.push({ type: 'check', path: op.path });
          break;
        }
        case 'setPartitionState': {
          const v = this.partitionVersion(op.partition, pOverlay);
          if (v < 0 && op.version !== ANY_VERSION) return fail('NONODE', i);
          if (op.version !== ANY_VERSION && op.version !== v) return fail('BADVERSION', i);
          pOverlay.set(op.partition, v + 1);
          out.push({ type: 'setPartitionState', partition: op.partition, state: op.state, version: v + 1 });
          break;
        }
        case 'partitionStates': {
          // Each entry is its own multi (CheckOp on the fence, then the conditional setData): one
          // failing entry fails alone, as one of `count` pipelined requests would.
          const c = op.chunk;
          const codes = new Uint8Array(c.count);
          const newVersion = new Int32Array(c.count);
          let fenceCode = CHUNK_OK;
          if (c.fence !== null) {
            const n = this.view(c.fence.path, overlay);
            if (n === null) fenceCode = CHUNK_NONODE;
            else if (c.fence.version !== ANY_VERSION && c.fence.version !== n.version) fenceCode = CHUNK_FENCED;
          }
          for (let k = 0; k < c.count; k++) {
            if (fenceCode !== CHUNK_OK) {
              codes[k] = fenceCode;
              continue;
            }
            const p = c.partition[k]!;
            const want = c.version[k]!;
            const v = this.partitionVersion(p, pOverlay);
            if (v < 0 && want !== ANY_VERSION) codes[k] = CHUNK_NONODE;
            else if (want !== ANY_VERSION && want !== v) codes[k] = CHUNK_BADVERSION;
            else {
              pOverlay.set(p, v + 1);
              newVersion[k] = v + 1;
            }
          }
          out.push({ type: 'partitionStates', chunk: c, codes, newVersion });
          break;
        }
        case 'createSession':
          out.push({ type: 'createSession', session: op.session, timeoutMs: op.timeoutMs });
          break;
        case 'closeSession':
          // PrepRequestProcessor, OpCode.closeSession: the session is closing (its later writes fail)
          // and its ephemerals are deleted in the same txn.
          out.push(...this.prepClose(session, zxid));
          break;
        default: {
          const never: never = op;
          throw new Error(`prep: unknown op ${String(never)}`);
        }
      }
    }
    for (const [k, v] of overlay) this.pending.set(k, v);
    for (const [p, v] of pOverlay) {
      this.pendingPartition.set(p, { version: v, zxid });
      this.logPartition.push(p);
      this.logZxid.push(zxid);
    }
    return out;
  }

  /** The closeSession txn for an expired session (its ephemerals are deleted when it applies). */
  prepClose(session: number, zxid: Zxid): TxnOp[] {
    this.closing.add(session);
    for (const path of this.tree.ephemerals.get(session) ?? []) {
      this.pending.set(path, { exists: false, version: -1, cversion: 0, ephemeralOwner: 0, zxid });
    }
    return [{ type: 'closeSession', session }];
  }
}
