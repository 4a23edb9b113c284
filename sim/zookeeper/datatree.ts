import { widenFor, type NarrowColumn } from '../cluster/cache.ts';
import { CHUNK_OK, type PartitionStateData, type Stat, type TxnOp, type WatchEventType, type Zxid } from './types.ts';

/** One znode of the small map part of the tree (everything but partition states). */
export interface ZNode {
  data: unknown;
  dataBytes: number;
  version: number;
  /** Child-list version: ZooKeeper names sequential children from it. */
  cversion: number;
  czxid: Zxid;
  mzxid: Zxid;
  pzxid: Zxid;
  ephemeralOwner: number;
  children: Set<string>;
}

/** A watch trigger produced by applying a txn: the server fires the one-shot watches registered on it. */
export interface Trigger {
  readonly path: string;
  readonly event: WatchEventType;
}

export function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}

/**
 * The child set of every znode without children (most of them: topic znodes): shared, never
 * added to — create() gives a parent its own set on its first child.
 */
const NO_CHILDREN: Set<string> = new Set<string>();

function nameOf(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/**
 * Partition-state znodes (/brokers/topics/<t>/partitions/<p>/state) as struct-of-arrays, so 2M of
 * them fit: leader, leader_epoch, controller_epoch, isr (a bitmask over replica slots) and the
 * znode's zkVersion (Kafka's partition epoch). A version of -1 means the znode does not exist.
 */
export class PartitionStateStore {
  private _leader: NarrowColumn | null;
  private _leaderEpoch: NarrowColumn | null;
  private _controllerEpoch: NarrowColumn | null;
  private _isr: Uint8Array | null;
  private _version: NarrowColumn | null;
  /** Set while the store is deferred (see defer): what fills it. */
  private fill: ((s: PartitionStateStore) => void) | null = null;

  constructor(readonly size: number, from?: PartitionStateStore) {
    const copy = from !== undefined && from.fill === null;
    this._leader = copy ? from.leader.slice() : new Int8Array(size);
    this._leaderEpoch = copy ? from.leaderEpoch.slice() : new Int8Array(size);
    this._controllerEpoch = copy ? from.controllerEpoch.slice() : new Int8Array(size);
    this._isr = copy ? from.isr.slice() : new Uint8Array(size);
    this._version = copy ? from.version.slice() : new Int8Array(size).fill(-1);
    // A copy of a deferred store is filled the way the store would have been.
    if (from !== undefined && !copy) from.fill!(this);
  }

  /**
   * Defers the content: the store is what `fill` writes into an empty one (every version -1). It
   * holds no arrays until one is read; a copy (DataTree.clone) gets its own, filled. The warm
   * start's snapshot, which every server copies at start and nothing else reads, so costs no
   * memory of its own.
   */
  defer(fill: (s: PartitionStateStore) => void): void {
    this._leader = this._leaderEpoch = this._controllerEpoch = this._version = null;
    this._isr = null;
    this.fill = fill;
  }

  private materialize(): void {
    const fill = this.fill;
    if (fill === null) return;
    this.fill = null;
    this._leader = new Int8Array(this.size);
    this._leaderEpoch = new Int8Array(this.size);
    this._controllerEpoch = new Int8Array(this.size);
    this._isr = new Uint8Array(this.size);
    this._version = new Int8Array(this.size).fill(-1);
    fill(this);
  }

  // The columns are narrow (NarrowColumn: a byte per partition while the values fit, widened on
  // demand), for reading; writes go through put() / set().

  get leader(): NarrowColumn {
    if (this._leader === null) this.materialize();
    return this._leader!;
  }

  get leaderEpoch(): NarrowColumn {
    if (this._leaderEpoch === null) this.materialize();
    return this._leaderEpoch!;
  }

  get controllerEpoch(): NarrowColumn {
    if (this._controllerEpoch === null) this.materialize();
    return this._controllerEpoch!;
  }

  get isr(): Uint8Array {
    if (this._isr === null) this.materialize();
    return this._isr!;
  }

  get version(): NarrowColumn {
    if (this._version === null) this.materialize();
    return this._version!;
  }

  /** Partition p's znode now holds this state at this version. */
  put(p: number, leader: number, leaderEpoch: number, controllerEpoch: number, isr: number, version: number): void {
    if (this.fill !== null) this.materialize();
    let c = this._leader!;
    c[p] = leader;
    if (c[p] !== leader) this._leader = widenFor(c, p, leader);
    c = this._leaderEpoch!;
    c[p] = leaderEpoch;
    if (c[p] !== leaderEpoch) this._leaderEpoch = widenFor(c, p, leaderEpoch);
    c = this._controllerEpoch!;
    c[p] = controllerEpoch;
    if (c[p] !== controllerEpoch) this._controllerEpoch = widenFor(c, p, controllerEpoch);
    c = this._version!;
    c[p] = version;
    if (c[p] !== version) this._version = widenFor(c, p, version);
    this._isr![p] = isr;
  }

  get(p: number): PartitionStateData & { version: number } {
    return { leader: this.leader[p]!, leaderEpoch: this.leaderEpoch[p]!, controllerEpoch: this.controllerEpoch[p]!, isr: this.isr[p]!, version: this.version[p]! };
  }

  set(p: number, s: PartitionStateData, version: number): void {
    this.put(p, s.leader, s.leaderEpoch, s.controllerEpoch, s.isr, version);
  }
}

/**
 * ZooKeeper's DataTree: the committed state a server serves reads from. Applying a txn is
 * deterministic, so every server that applies the same committed prefix holds the same tree.
 * A session's ephemerals are indexed by owner, as DataTree.ephemerals does.
 */
export class DataTree {
  readonly nodes = new Map<string, ZNode>();
  readonly partitions: PartitionStateStore;
  readonly ephemerals = new Map<number, Set<string>>();
  /** Open sessions and their timeouts (ZooKeeper keeps them in the snapshot too). */
  readonly sessions = new Map<number, number>();
  lastProcessedZxid: Zxid = 0;

  constructor(partitions: number, from?: DataTree) {
    this.partitions = new PartitionStateStore(partitions, from?.partitions);
    if (from === undefined) {
      this.nodes.set('/', { data: null, dataBytes: 0, version: 0, cversion: 0, czxid: 0, mzxid: 0, pzxid: 0, ephemeralOwner: 0, children: NO_CHILDREN });
      return;
    }
    for (const [path, n] of from.nodes) this.nodes.set(path, { ...n, children: n.children.size === 0 ? NO_CHILDREN : new Set(n.children) });
    for (const [s, paths] of from.ephemerals) this.ephemerals.set(s, new Set(paths));
    for (const [s, t] of from.sessions) this.sessions.set(s, t);
    this.lastProcessedZxid = from.lastProcessedZxid;
  }

  /** A deep copy (a snapshot sent to a learner, or a server's on-disk snapshot). */
  clone(): DataTree {
    return new DataTree(this.partitions.size, this);
  }

  get(path: string): ZNode | undefined {
    return this.nodes.get(path);
  }

  stat(n: ZNode): Stat {
    return { czxid: n.czxid, mzxid: n.mzxid, version: n.version, ephemeralOwner: n.ephemeralOwner };
  }

  /** Used by warm start and by apply: creates path (its parent must exist). */
  create(path: string, data: unknown, dataBytes: number, ephemeralOwner: number, zxid: Zxid): void {
    const parent = this.nodes.get(parentOf(path));
    if (parent === undefined) throw new Error(`DataTree.create: parent of ${path} missing (prep must have refused it)`);
    this.nodes.set(path, { data, dataBytes, version: 0, cversion: 0, czxid: zxid, mzxid: zxid, pzxid: zxid, ephemeralOwner, children: NO_CHILDREN });
    if (parent.children === NO_CHILDREN) parent.children = new Set();
    parent.children.add(nameOf(path));
    parent.cversion++;
    parent.pzxid = zxid;
    if (ephemeralOwner !== 0) {
      let set = this.ephemerals.get(ephemeralOwner);
      if (set === undefined) this.ephemerals.set(ephemeralOwner, (set = new Set()));
      set.add(path);
    }
  }

  private remove(path: string, zxid: Zxid): void {
    const n = this.nodes.get(path);
    if (n === undefined) return;
    this.nodes.delete(path);
    const parent = this.nodes.get(parentOf(path));
    if (parent !== undefined) {
      parent.children.delete(nameOf(path));
      parent.cversion++;
      parent.pzxid = zxid;
    }
    if (n.ephemeralOwner !== 0) this.ephemerals.get(n.ephemeralOwner)?.delete(path);
  }

  /** Applies one committed txn's ops; returns the watch triggers it fires. */
  apply(zxid: Zxid, ops: readonly TxnOp[], out: Trigger[]): void {
    for (const op of ops) {
      switch (op.type) {
        case 'create':
          this.create(op.path, op.data, op.dataBytes, op.ephemeralOwner, zxid);
          out.push({ path: op.path, event: 'NodeCreated' }, { path: parentOf(op.path), event: 'NodeChildrenChanged' });
          break;
        case 'setData': {
          const n = this.nodes.get(op.path);
          if (n === undefined) throw new Error(`DataTree.apply: setData on missing ${op.path} (prep must have refused it)`);
          n.data = op.data;
          n.dataBytes = op.dataBytes;
          n.version = op.version;
          n.mzxid = zxid;
          out.push({ path: op.path, event: 'NodeDataChanged' });
          break;
        }
        case 'delete':
          this.remove(op.path, zxid);
          out.push({ path: op.path, event: 'NodeDeleted' }, { path: parentOf(op.path), event: 'NodeChildrenChanged' });
          break;
        case 'check':
        case 'error':
          break;
        case 'setPartitionState':
          this.partitions.set(op.partition, op.state, op.version);
          break;
        case 'partitionStates': {
          const c = op.chunk;
          const ps = this.partitions;
          for (let i = 0; i < c.count; i++) {
            if (op.codes[i] !== CHUNK_OK) continue;
            ps.put(c.partition[i]!, c.leader[i]!, c.leaderEpoch[i]!, c.controllerEpoch, c.isr[i]!, op.newVersion[i]!);
          }
          break;
        }
        case 'createSession':
          this.sessions.set(op.session, op.timeoutMs);
          break;
        case 'closeSession': {
          // DataTree.killSession: the session's ephemerals go in the same txn.
          const eph = this.ephemerals.get(op.session);
          if (eph !== undefined) {
            for (const path of [...eph].sort()) {
              this.remove(path, zxid);
              out.push({ path, event: 'NodeDeleted' }, { path: parentOf(path), event: 'NodeChildrenChanged' });
            }
            this.ephemerals.delete(op.session);
          }
          this.sessions.delete(op.session);
          break;
        }
        default: {
          const never: never = op;
          throw new Error(`DataTree.apply: unknown op ${String(never)}`);
        }
      }
    }
    this.lastProcessedZxid = zxid;
  }
}
