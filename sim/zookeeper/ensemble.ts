import type { Simulation, SimNode } from '../../core/index.ts';
import { ZabAudit } from './audit.ts';
import type { ZkServerCosts } from './cnxn.ts';
import { DataTree } from './datatree.ts';
import { QuorumPeer } from './peer.ts';
import { makeZxid, type Txn, type WatchReg, type Zxid } from './types.ts';

export interface ZkEnsembleOptions {
  /** 3 or 5 servers, named zk-0… */
  readonly servers: number;
  readonly tickMs: number;
  readonly initLimit: number;
  readonly syncLimit: number;
  readonly partitions: number;
  readonly costs: ZkServerCosts;
  /** Warm start: every server holds `tree`, the last server leads epoch 1. Otherwise all start LOOKING. */
  readonly warm: boolean;
  readonly onCommit?: (sid: number, txn: Txn, tree: DataTree, leading: boolean) => void;
  /** What-if 'zab.commit-without-quorum': the leader commits on its own fsync. */
  readonly bugs?: ReadonlySet<string>;
}

/** The epoch of a warm-started ensemble (it has elected one leader before t = 0). */
export const WARM_EPOCH = 1;

/**
 * A ZooKeeper ensemble of 3 or 5 QuorumPeers. Warm start puts the ensemble in steady state at
 * t = 0: every server holds the same snapshot, zk-(n-1) is the established leader of epoch 1 (what
 * FastLeaderElection picks among equal zxids: the highest sid) and the given sessions exist, each
 * already connected to a server.
 */
export class ZkEnsemble {
  readonly audit = new ZabAudit();
  readonly nodes: SimNode[] = [];
  /** The warm-start tree; populate it before the simulation runs. */
  readonly tree: DataTree;
  private readonly warmConns: { server: number; client: SimNode; session: number; watches: WatchReg[] }[] = [];
  private counter = 0;

  constructor(
    readonly sim: Simulation,
    readonly opts: ZkEnsembleOptions,
  ) {
    if (opts.servers !== 3 && opts.servers !== 5 && opts.servers !== 1) throw new Error(`ZkEnsemble: ${opts.servers} servers (expected 3 or 5)`);
    this.tree = new DataTree(opts.partitions);
    for (let i = 0; i < opts.servers; i++) {
      const node = sim.addNode(`zk-${i}`, (n) => this.makePeer(n, i));
      this.nodes.push(node);
    }
    if (opts.warm) {
      // The snapshot is on every server's disk before t = 0.
      for (const n of this.nodes) {
        n.store.put('snapshot', { tree: this.tree, count: 0 });
        n.store.put('zab', { currentEpoch: WARM_EPOCH, acceptedEpoch: WARM_EPOCH });
        n.store.completeSync(n.store.syncPoint());
      }
    }
    sim.props.safety('zab.leadership', () => this.audit.leadershipViolation, { on: ['zk.established'] });
    sim.props.safety('zab.prefix-consistency', () => this.audit.prefixViolation, { on: ['deliver', 'exec'] });
  }

  /** A zxid for warm-start history (broker registrations' czxids and the like). */
  nextWarmZxid(): Zxid {
    this.counter++;
    const z = makeZxid(WARM_EPOCH, this.counter);
    this.tree.lastProcessedZxid = z;
    return z;
  }

  /** Warm start: a session that exists at t = 0, connected from `client` to server `server`. */
  warmSession(client: SimNode, server: number, timeoutMs: number): number {
    const session = 500_000_000 + this.warmConns.length + 1;
    this.tree.sessions.set(session, timeoutMs);
    this.warmConns.push({ server, client, session, watches: [] });
    return session;
  }

  /** Warm start: a watch the session set before t = 0 (on the server it is connected to). */
  warmWatch(session: number, path: string, kind: WatchReg['kind']): void {
    this.warmConns.find((w) => w.session === session)!.watches.push({ path, kind });
  }

  private makePeer(node: SimNode, sid: number): QuorumPeer {
    const peer = new QuorumPeer(node, {
      sid,
      servers: this.nodes,
      tickMs: this.opts.tickMs,
      initLimit: this.opts.initLimit,
      syncLimit: this.opts.syncLimit,
      costs: this.opts.costs,
      audit: this.audit,
      bugs: this.opts.bugs ?? new Set(),
      onCommit: (s, txn, tree) => this.opts.onCommit?.(s, txn, tree, this.peerOf(s)?.state === 'LEADING'),
    });
    const firstStart = this.opts.warm && node.incarnation === 0;
    if (firstStart) {
      const leader = this.nodes.length - 1;
      for (const w of this.warmConns) {
        if (w.server !== sid) continue;
        peer.cnxns.warmOpen(w.client, w.session);
        for (const r of w.watches) peer.cnxns.warmWatch(w.session, r.path, r.kind);
      }
      if (sid === leader) peer.warmLead(WARM_EPOCH);
      else peer.warmFollow(leader);
    } else {
      node.after(0, () => peer.start());
    }
    return peer;
  }

  peerOf(sid: number): QuorumPeer | null {
    const n = this.nodes[sid];
    return n !== undefined && n.up ? (n.behavior as QuorumPeer) : null;
  }

  /** The established leader (serving), or null during an election. */
  leader(): SimNode | null {
    let best: QuorumPeer | null = null;
    for (let i = 0; i < this.nodes.length; i++) {
      const p = this.peerOf(i);
      if (p !== null && p.state === 'LEADING' && p.established && (best === null || p.currentEpoch > best.currentEpoch)) best = p;
    }
    return best?.node ?? null;
  }

  /** The committed tree as the newest established leader holds it (ground truth), or null. */
  leaderTree(): DataTree | null {
    const l = this.leader();
    return l === null ? null : (l.behavior as QuorumPeer).tree;
  }
}
