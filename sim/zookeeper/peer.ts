import type { Message, NodeBehavior, SimNode } from '../../core/index.ts';
import { assertNever } from '../../core/index.ts';
import type { ZabAudit } from './audit.ts';
import { DataTree, type Trigger } from './datatree.ts';
import { FastLeaderElection } from './election.ts';
import { PrepRequestProcessor } from './prep.ts';
import { framing, ServerCnxns, type ZkServerCosts } from './cnxn.ts';
import { SessionTracker } from './session-tracker.ts';
import { seriesOf } from '../cluster/series.ts';
import { PipelineTail, writeChunkDueUs } from './pipeline.ts';
import type { Rng } from '../../core/index.ts';
import { makeZxid, zxidCounter, zxidEpoch, type Op, type QuorumMsg, type ServerState, type SyncPayload, type Txn, type TxnOp, type Vote, type ZkMsg, type Zxid } from './types.ts';

export interface ZkServerConfig {
  readonly sid: number;
  /** Every server of the ensemble, index = sid. */
  readonly servers: readonly SimNode[];
  readonly tickMs: number;
  readonly initLimit: number;
  readonly syncLimit: number;
  readonly costs: ZkServerCosts;
  readonly audit: ZabAudit;
  readonly bugs: ReadonlySet<string>;
  /** Called with every txn a server commits (the ensemble reports the leader's to the Kafka tracker). */
  readonly onCommit?: (sid: number, txn: Txn, tree: DataTree) => void;
}

interface DurableZab {
  readonly currentEpoch: number;
  readonly acceptedEpoch: number;
}

interface LearnerHandler {
  readonly sid: number;
  ackedUpTo: Zxid;
  lastHeardUs: number;
  newLeaderAcked: boolean;
  /** The learner's connection attempt this handler serves. */
  round: number;
}

/**
 * FastLeaderElection notification (FastLeaderElection.buildMsg): state 4 + leader 8 + zxid 8 +
 * electionEpoch 8 + peerEpoch 8 + version 4 + config length 4.
 */
const NOTIFICATION_BYTES = 44;
/** LearnerPing data per session (LearnerSessionTracker touches): sessionId 8 + timeout 4. */
const PING_BYTES_PER_SESSION = 12;
/** FOLLOWERINFO data (LearnerInfo): serverid 8 + protocolVersion 4 + configVersion 8. */
const LEARNER_INFO_BYTES = 20;
/** A forwarded REQUEST's data beyond the request body: sessionId 8 + cxid 4 + type 4 (Request.serialize). */
const FORWARDED_REQUEST_BYTES = 16;

/**
 * One ZooKeeper server (QuorumPeer): FastLeaderElection while LOOKING, then Leader or Follower.
 * Leader: discovery (a quorum of FollowerInfo within initLimit ticks → new epoch), sync (DIFF or
 * SNAP), NEWLEADER acked by a quorum → established; then broadcast: every write becomes a txn
 * with zxid (epoch, counter), logged and fsynced (group commit) on every server, committed once a
 * quorum has ACKed. The leader pings learners every tickTime/2 and steps down when it has not
 * heard a quorum within syncLimit ticks; a follower drops a leader it has not heard from within
 * syncLimit ticks. Sessions are tracked and expired by the leader. Client connections, reads,
 * watches: ServerCnxns.
 */
export class QuorumPeer implements NodeBehavior {
  state: ServerState = 'LOOKING';
  tree: DataTree;
  /** The committed history position of the last applied txn (for the prefix property). */
  committedCount: number;
  private zab: DurableZab;
  private readonly log;
  private lastLogged: Zxid;
  private appliedIndex: number;
  /** Log entries below this index are known committed (reported to the audit); ≤ appliedIndex. */
  private reportedIndex: number;
  private readonly election: FastLeaderElection;
  readonly cnxns: ServerCnxns;
  private syncedZxid: Zxid;
  private syncedWaiters: { gen: number; fn: () => void }[] = [];
  // leader state
  private leaderEpoch = -1;
  private counter = 0;
  established = false;
  private learners = new Map<number, LearnerHandler>();
  private followerInfos = new Map<number, number>();
  private prep: PrepRequestProcessor | null = null;
  sessions: SessionTracker | null = null;
  private lastCommitted: Zxid = 0;
  private outbox: Txn[] = [];
  private flushScheduled = false;
  private pendingCommit: Zxid = -1;
  private syncWaiters: { upTo: Zxid; fn: () => void }[] = [];
  private phaseTimer = -1;
  // follower state
  leaderSid = -1;
  private lastHeardLeaderUs = 0;
  private touches = new Map<number, number>();
  private syncTokens = new Map<number, () => void>();
  private nextSyncToken = 1;
  /** Per session: where its last chunk of writes left its pipeline (pipeline.ts; leader only). */
  private readonly chunkTails = new Map<number, PipelineTail>();
  /** Jitter draws of the chunk timing (pipeline.ts): a stream of its own, so no other draw moves. */
  readonly pipelineRng: Rng;
  /** Packet framing sizes (zk.packet.header.bytes, zk.quorum.packet.header.bytes, zk.txn.header.bytes). */
  private readonly framing: ReturnType<typeof framing>;

  constructor(
    readonly node: SimNode,
    readonly cfg: ZkServerConfig,
  ) {
    this.framing = framing(cfg.costs);
    this.pipelineRng = node.rng.fork('zk-pipeline');
    const store = node.store;
    this.zab = store.get<DurableZab>('zab') ?? { currentEpoch: 0, acceptedEpoch: 0 };
    const snap = store.get<{ tree: DataTree; count: number }>('snapshot');
    this.tree = snap !== undefined ? snap.tree.clone() : new DataTree(0);
    this.log = store.log<Txn>('txnlog');
    this.committedCount = (snap?.count ?? 0) + this.log.length;
    // ZKDatabase.loadDataBase replays every logged txn; a diverging suffix is replaced at sync.
    for (const t of this.log.entries) this.applyOnly(t);
    this.appliedIndex = this.log.length;
    // Replayed is not committed: the tail may never have been. The audit hears of each replayed
    // txn once the protocol commits it (a COMMIT, a sync, or this server's new epoch adopting it).
    this.reportedIndex = 0;
    this.lastLogged = this.log.length > 0 ? this.log.entries[this.log.length - 1]!.zxid : this.tree.lastProcessedZxid;
    this.syncedZxid = this.lastLogged;
    this.cnxns = new ServerCnxns(this, cfg.costs);
    const peers = cfg.servers.map((_, i) => i).filter((i) => i !== cfg.sid);
    this.election = new FastLeaderElection({
      sid: cfg.sid,
      quorum: this.quorum,
      peers,
      lastLoggedZxid: () => this.lastLogged,
      currentEpoch: () => this.zab.currentEpoch,
      broadcast: (vote, ee) => {
        for (const p of peers) this.sendPeer(p, { type: 'Notification', vote, electionEpoch: ee, state: 'LOOKING', sid: cfg.sid }, NOTIFICATION_BYTES);
      },
      setTimer: (label, ms, fn) => node.setTimer(label, ms * 1000, fn),
      cancelTimer: (id) => node.cancelTimer(id),
      decide: (leader) => (leader === cfg.sid ? this.lead() : this.follow(leader)),
    });
  }

  get sid(): number {
    return this.cfg.sid;
  }

  get quorum(): number {
    return Math.floor(this.cfg.servers.length / 2) + 1;
  }

  get currentEpoch(): number {
    return this.zab.currentEpoch;
  }

  get lastZxid(): Zxid {
    return this.lastLogged;
  }

  /** Serving clients: an established leader, or a follower that got UPTODATE. */
  serving = false;

  private get tickUs(): number {
    return this.cfg.tickMs * 1000;
  }

  /** The leader's session tracker; its size goes to the run's time series when they are recorded. */
  private newSessionTracker(): SessionTracker {
    const series = seriesOf(this.node.sim);
    return new SessionTracker(this.tickUs, series === undefined ? undefined : (n) => series.zkSessions(this.node, n));
  }

  sendPeer(sid: number, msg: QuorumMsg, sizeBytes: number): void {
    this.node.send(this.cfg.servers[sid]!, msg, sizeBytes);
  }

  // ---- lifecycle ----

  /** Starts as LOOKING (cold start or restart). */
  start(): void {
    this.lookForLeader();
  }

  /** Warm start: this server is already the established leader of `epoch`. */
  warmLead(epoch: number): void {
    this.state = 'LEADING';
    this.leaderEpoch = epoch;
    this.counter = zxidEpoch(this.lastLogged) === epoch ? zxidCounter(this.lastLogged) : 0;
    this.prep = new PrepRequestProcessor(this.tree);
    this.sessions = this.newSessionTracker();
    for (const sid of this.cfg.servers.keys()) {
      if (sid !== this.sid) this.learners.set(sid, { sid, ackedUpTo: this.lastLogged, lastHeardUs: this.node.monoNowUs, newLeaderAcked: true, round: 0 });
    }
    this.establish();
  }

  warmFollow(leader: number): void {
    this.state = 'FOLLOWING';
    this.leaderSid = leader;
    this.lastHeardLeaderUs = this.node.monoNowUs;
    this.serving = true;
    this.synced = true;
    this.armFollowerTimeout();
  }

  private lookForLeader(): void {
    this.stopServing();
    this.state = 'LOOKING';
    this.node.note('zk.state.looking', this.zab.currentEpoch);
    this.election.lookForLeader();
  }

  private stopServing(): void {
    if (this.state === 'LEADING') {
      this.cfg.audit.steppedDown(this.sid);
      // Leader.shutdown: every LearnerHandler's socket is closed; its follower sees the close at
      // once instead of waiting out its own timeout.
      for (const l of this.learners.values()) this.sendPeer(l.sid, { type: 'QuorumClose', round: l.round }, this.framing.quorum);
    } else if (this.state === 'FOLLOWING' && this.leaderSid >= 0) {
      // The follower's socket to its leader is closed: the leader's LearnerHandler for it ends.
      this.sendPeer(this.leaderSid, { type: 'QuorumClose', round: this.followRound }, this.framing.quorum);
    }
    this.serving = false;
    this.established = false;
    this.cnxns.closeAll();
    this.learners.clear();
    this.followerInfos.clear();
    this.prep?.clear();
    this.prep = null;
    if (this.sessions !== null) seriesOf(this.node.sim)?.zkSessions(this.node, 0);
    this.sessions = null;
    this.outbox = [];
    this.syncWaiters = [];
    this.syncTokens.clear();
    this.leaderSid = -1;
    this.leaderEpoch = -1;
    this.node.cancelTimer(this.phaseTimer);
    this.phaseTimer = -1;
  }

  onMessage(from: SimNode, raw: Message): void {
    const msg = raw as ZkMsg;
    switch (msg.type) {
      case 'ConnectRequest':
      case 'ZkRequest':
      case 'ZkPing':
        this.cnxns.onClientMessage(from, msg);
        return;
      case 'ConnectResponse':
      case 'ZkResponse':
      case 'ZkPingResponse':
      case 'WatcherEvent':
      case 'ConnectionClosed':
        return;
      default:
        this.onQuorumMessage(from, msg);
    }
  }

  private onQuorumMessage(from: SimNode, msg: QuorumMsg): void {
    const peer = this.cfg.servers.indexOf(from);
    if (peer < 0) return;
    switch (msg.type) {
      case 'Notification': {
        if (this.state === 'LOOKING') {
          if (this.election.onNotification(peer, msg.vote, msg.electionEpoch, msg.state)) this.replyVote(peer);
        } else if (msg.state === 'LOOKING') {
          this.replyVote(peer);
        }
        return;
      }
      case 'FollowerInfo':
        this.onFollowerInfo(peer, msg.acceptedEpoch, msg.lastZxid, msg.round);
        return;
      case 'NewLeader':
        if (this.state !== 'FOLLOWING' || peer !== this.leaderSid) return;
        this.heardLeader();
        this.onNewLeader(msg.epoch, msg.round, msg.sync);
        return;
      case 'AckNewLeader':
        this.onAckNewLeader(peer, msg.epoch);
        return;
      case 'UpToDate':
        if (this.state !== 'FOLLOWING' || peer !== this.leaderSid || !this.synced || msg.epoch !== this.zab.currentEpoch) return;
        this.heardLeader();
        this.serving = true;
        this.node.note('zk.following', this.leaderSid);
        return;
      // Learner.syncWithLeader reads the leader's stream only after NEWLEADER on its own socket:
      // packets of an older connection (held by a partition, retransmitted after the heal) and of
      // an older epoch are not this leader's proposals to us.
      case 'Proposal':
        if (this.state !== 'FOLLOWING' || peer !== this.leaderSid || !this.synced || msg.epoch !== this.zab.currentEpoch) return;
        this.heardLeader();
        this.onProposal(msg.txns);
        return;
      case 'Commit':
        if (this.state !== 'FOLLOWING' || peer !== this.leaderSid || !this.synced || msg.epoch !== this.zab.currentEpoch) return;
        this.heardLeader();
        this.applyUpTo(msg.zxid);
        return;
      case 'Ack': {
        const l = this.learners.get(peer);
        if (this.state !== 'LEADING' || l === undefined || msg.epoch !== this.leaderEpoch) return;
        l.lastHeardUs = this.node.monoNowUs;
        if (msg.zxid > l.ackedUpTo) l.ackedUpTo = msg.zxid;
        this.tryCommit();
        return;
      }
      case 'QuorumClose':
        if (this.state === 'FOLLOWING' && peer === this.leaderSid && msg.round === this.followRound) {
          this.node.note('zk.follower.lost.leader', this.leaderSid);
          this.lookForLeader();
        } else if (this.state === 'LEADING' && this.learners.get(peer)?.round === msg.round) {
          this.learners.delete(peer);
        }
        return;
      case 'LeaderPing':
        if (this.state !== 'FOLLOWING' || peer !== this.leaderSid) return;
        this.heardLeader();
        this.sendPeer(peer, { type: 'LearnerPing', epoch: msg.epoch, touches: [...this.touches] }, this.framing.quorum + PING_BYTES_PER_SESSION * this.touches.size);
        this.touches.clear();
        return;
      case 'LearnerPing': {
        const l = this.learners.get(peer);
        if (this.state !== 'LEADING' || l === undefined) return;
        l.lastHeardUs = this.node.monoNowUs;
        // LearnerHandler: a follower's ping reply carries the sessions its clients touched.
        for (const [s] of msg.touches) this.sessions?.touch(s, this.node.monoNowUs);
        return;
      }
      case 'ForwardRequest': {
        // Requests arrive over a learner's own connection; from a peer with no LearnerHandler (its
        // socket is gone) nothing is read, and the client retries after its own timeout.
        const l = this.learners.get(peer);
        if (this.state !== 'LEADING' || !this.established || l === undefined) return;
        l.lastHeardUs = this.node.monoNowUs;
        this.submitWrite(msg.origin, msg.sessionId, msg.cxid, msg.ops, msg.writerEpoch);
        return;
      }
      case 'SyncRequest':
        if (this.state !== 'LEADING' || !this.established) return;
        this.whenCommitted(this.lastLogged, () => this.sendPeer(peer, { type: 'SyncResponse', epoch: this.leaderEpoch, token: msg.token }, this.framing.quorum));
        return;
      case 'SyncResponse': {
        const fn = this.syncTokens.get(msg.token);
        this.syncTokens.delete(msg.token);
        fn?.();
        return;
      }
      default:
        assertNever(msg);
    }
  }

  private replyVote(peer: number): void {
    const vote: Vote =
      this.state === 'LOOKING'
        ? this.election.vote ?? { leader: this.sid, zxid: this.lastLogged, peerEpoch: this.zab.currentEpoch }
        : { leader: this.state === 'LEADING' ? this.sid : this.leaderSid, zxid: this.lastLogged, peerEpoch: this.zab.currentEpoch };
    this.sendPeer(peer, { type: 'Notification', vote, electionEpoch: this.election.logicalClock, state: this.state, sid: this.sid }, NOTIFICATION_BYTES);
  }

  // ---- log, fsync (SyncRequestProcessor group commit), apply ----

  private logAppend(t: Txn): void {
    this.log.append(t);
    this.lastLogged = t.zxid;
  }

  /**
   * SyncRequestProcessor group commit: flushes what is logged; when the fsync completes a follower
   * ACKs and the leader counts its own ack — only for txns that fsync covered. `force` also flushes
   * pending small files (the epoch files) with nothing new in the log.
   */
  private fsyncLog(force = false): void {
    if (this.fsyncing) {
      if (force) this.fsyncAgain = true;
      return;
    }
    if (!force && this.log.syncedLength >= this.log.length) return;
    this.fsyncing = true;
    this.fsyncAgain = false;
    const gen = ++this.fsyncStarted;
    const store = this.node.store;
    const point = store.syncPoint();
    const startLen = this.log.length;
    this.fsyncTruncatedTo = startLen;
    let bytes = 0;
    for (let i = this.log.syncedLength; i < this.log.length; i++) bytes += this.log.entries[i]!.sizeBytes;
    const costUs = this.cfg.costs.txnLogFsyncUs + (bytes * 1e6) / this.node.sim.disk.writeBytesPerSec;
    this.node.executor('disk').submit(bytes > 0 ? 'zk-txnlog-fsync' : 'zk-epoch-fsync', costUs, () => {
      // A truncation while the fsync ran: entries appended since at the same positions were not
      // part of what it wrote.
      if (this.fsyncTruncatedTo < startLen) point.logLengths.set('txnlog', this.fsyncTruncatedTo);
      store.completeSync(point);
      this.fsyncing = false;
      const len = this.log.syncedLength;
      this.syncedZxid = len > 0 ? this.log.entries[len - 1]!.zxid : this.baseZxid();
      this.onSynced(this.syncedZxid, gen);
      this.fsyncLog(this.fsyncAgain);
    });
  }

  private fsyncing = false;
  private fsyncAgain = false;
  private fsyncStarted = 0;
  private fsyncTruncatedTo = 0;

  private onSynced(upTo: Zxid, gen: number): void {
    if (this.state === 'FOLLOWING' && this.leaderSid >= 0 && this.synced) {
      this.sendPeer(this.leaderSid, { type: 'Ack', epoch: this.zab.currentEpoch, zxid: upTo }, this.framing.quorum);
    } else if (this.state === 'LEADING') {
      this.tryCommit();
    }
    if (this.syncedWaiters.length > 0) {
      const ready = this.syncedWaiters.filter((w) => w.gen <= gen);
      this.syncedWaiters = this.syncedWaiters.filter((w) => w.gen > gen);
      for (const w of ready) w.fn();
    }
  }

  /** Writes the epoch files; `then` runs once an fsync started after the write has completed. */
  private persistEpochs(z: DurableZab, then: () => void): void {
    this.zab = z;
    this.node.store.put('zab', z);
    this.syncedWaiters.push({ gen: this.fsyncStarted + 1, fn: then });
    this.fsyncLog(true);
  }

  /** Replay at startup: tree only. */
  private applyOnly(t: Txn): void {
    const out: Trigger[] = [];
    this.tree.apply(t.zxid, t.ops, out);
  }

  /** Applies committed log entries up to zxid, in order (CommitProcessor → FinalRequestProcessor). */
  private applyUpTo(zxid: Zxid): void {
    const entries = this.log.entries;
    // Txns replayed into the tree at startup (ZKDatabase.loadDataBase) are committed now, at the
    // positions they hold; the tree already has them. Most were committed before the restart: only
    // a txn new to the history (an uncommitted tail this server's epoch adopts) is a new commit.
    const base = this.committedCount - this.appliedIndex;
    while (this.reportedIndex < this.appliedIndex && entries[this.reportedIndex]!.zxid <= zxid) {
      const t = entries[this.reportedIndex]!;
      const fresh = this.cfg.audit.committed(this.sid, base + this.reportedIndex++, t.zxid);
      this.lastCommitted = Math.max(this.lastCommitted, t.zxid);
      if (fresh) this.cfg.onCommit?.(this.sid, t, this.tree);
    }
    if (this.reportedIndex < this.appliedIndex) return;
    while (this.appliedIndex < entries.length && entries[this.appliedIndex]!.zxid <= zxid) {
      const t = entries[this.appliedIndex++]!;
      this.reportedIndex = this.appliedIndex;
      this.applyCommitted(t);
    }
  }

  private applyCommitted(t: Txn): void {
    const out: Trigger[] = [];
    this.tree.apply(t.zxid, t.ops, out);
    this.committedCount++;
    this.lastCommitted = Math.max(this.lastCommitted, t.zxid);
    this.cfg.audit.committed(this.sid, this.committedCount - 1, t.zxid);
    this.cfg.onCommit?.(this.sid, t, this.tree);
    this.cnxns.onCommitted(t, out);
    if (this.syncWaiters.length > 0) {
      const ready = this.syncWaiters.filter((w) => w.upTo <= this.lastCommitted);
      this.syncWaiters = this.syncWaiters.filter((w) => w.upTo > this.lastCommitted);
      for (const w of ready) w.fn();
    }
  }

  private whenCommitted(upTo: Zxid, fn: () => void): void {
    if (upTo <= this.lastCommitted || this.appliedIndex >= this.log.length) fn();
    else this.syncWaiters.push({ upTo, fn });
  }

  /** sync(): on a follower, a round trip to the leader behind every outstanding commit. */
  sync(fn: () => void): void {
    if (this.state === 'LEADING') {
      this.whenCommitted(this.lastLogged, fn);
      return;
    }
    const token = this.nextSyncToken++;
    this.syncTokens.set(token, fn);
    this.sendPeer(this.leaderSid, { type: 'SyncRequest', epoch: this.zab.currentEpoch, token }, this.framing.quorum);
  }

  // ---- leader ----

  private lead(): void {
    this.state = 'LEADING';
    this.leaderSid = this.sid;
    this.node.note('zk.state.leading', this.zab.acceptedEpoch);
    this.followerInfos.clear();
    this.followerInfos.set(this.sid, this.zab.acceptedEpoch);
    this.learners.clear();
    // Discovery must reach a quorum within initLimit ticks.
    this.phaseTimer = this.node.setTimer('zk-initlimit', this.cfg.initLimit * this.tickUs, () => {
      if (!this.established) this.lookForLeader();
    });
  }

  private onFollowerInfo(peer: number, acceptedEpoch: number, lastZxid: Zxid, round: number): void {
    if (this.state !== 'LEADING') return;
    // A retry of a FollowerInfo already handled (the learner retries until NEWLEADER arrives).
    if (this.learners.get(peer)?.round === round) return;
    const l: LearnerHandler = { sid: peer, ackedUpTo: lastZxid, lastHeardUs: this.node.monoNowUs, newLeaderAcked: false, round };
    if (this.leaderEpoch >= 0) {
      // Epoch already chosen: sync this learner at once.
      this.learners.set(peer, l);
      this.syncLearner(l, lastZxid);
      return;
    }
    this.followerInfos.set(peer, acceptedEpoch);
    this.learners.set(peer, l);
    (l as { lastZxidAtInfo?: Zxid }).lastZxidAtInfo = lastZxid;
    if (this.followerInfos.size < this.quorum) return;
    // Leader.getEpochToPropose: one more than every accepted epoch of the quorum. What-if
    // 'zab.no-epoch-bump': the new leader reuses the newest accepted epoch, so it and a deposed
    // leader that still believes it leads share an epoch (Zab.tla's Leadership invariant).
    let max = 0;
    for (const e of this.followerInfos.values()) max = Math.max(max, e);
    const epoch = this.cfg.bugs.has('zab.no-epoch-bump') ? Math.max(max, 1) : max + 1;
    this.leaderEpoch = epoch;
    this.counter = 0;
    this.persistEpochs({ currentEpoch: epoch, acceptedEpoch: epoch }, () => undefined);
    // The new leader's whole log is its history: everything logged is committed now.
    this.applyUpTo(Number.MAX_SAFE_INTEGER);
    this.prep = new PrepRequestProcessor(this.tree);
    this.sessions = this.newSessionTracker();
    for (const h of this.learners.values()) this.syncLearner(h, (h as { lastZxidAtInfo?: Zxid }).lastZxidAtInfo ?? 0);
  }

  /**
   * LearnerHandler.syncFollower: DIFF when the learner's last zxid is in our committed log; TRUNC
   * to the newest committed zxid below it when the learner's log runs past our history (txns it
   * logged that were never committed: ZooKeeper's "TRUNC to maxCommittedLog" and, for a zxid
   * missing from our log, "TRUNC to prevProposalZxid"), followed by the txns after that point;
   * SNAP when its last zxid predates our log.
   */
  private syncLearner(l: LearnerHandler, lastZxid: Zxid): void {
    const entries = this.log.entries;
    let idx = -1;
    let fromZxid = lastZxid;
    for (let i = this.appliedIndex - 1; i >= 0; i--) {
      const z = entries[i]!.zxid;
      if (z <= lastZxid) {
        idx = i + 1;
        fromZxid = z;
        break;
      }
    }
    const base = this.baseZxid();
    if (idx < 0 && lastZxid >= base) {
      idx = 0;
      fromZxid = base;
    }
    const committed = entries.slice(0, this.appliedIndex);
    if (idx >= 0) {
      const txns = committed.slice(idx);
      // The DIFF / TRUNC packet and NEWLEADER (the txns' own PROPOSAL / COMMIT framing is left out).
      let bytes = 2 * this.framing.quorum;
      for (const t of txns) bytes += t.sizeBytes;
      const kind = fromZxid === lastZxid ? 'diff' : 'trunc';
      this.sendPeer(l.sid, { type: 'NewLeader', epoch: this.leaderEpoch, round: l.round, sync: { kind, fromZxid, txns } }, bytes);
    } else {
      const tree = this.snapshotTree();
      const bytes = 64 + tree.nodes.size * 64 + tree.partitions.size * 24;
      this.sendPeer(l.sid, { type: 'NewLeader', epoch: this.leaderEpoch, round: l.round, sync: { kind: 'snap', tree: { tree }, lastZxid: this.tree.lastProcessedZxid, committedCount: this.committedCount } }, bytes);
    }
    // Proposals not yet committed follow the sync, as Leader.startForwarding does.
    const outstanding = entries.slice(this.appliedIndex);
    if (outstanding.length > 0) this.sendPeer(l.sid, { type: 'Proposal', epoch: this.leaderEpoch, txns: outstanding }, outstanding.reduce((s, t) => s + t.sizeBytes, 0));
  }

  private baseZxid(): Zxid {
    const snap = this.node.store.get<{ tree: DataTree }>('snapshot');
    return snap?.tree.lastProcessedZxid ?? 0;
  }

  private snapshotTree(): DataTree {
    return this.tree.clone();
  }

  private onAckNewLeader(peer: number, epoch: number): void {
    const l = this.learners.get(peer);
    if (this.state !== 'LEADING' || l === undefined || epoch !== this.leaderEpoch) return;
    l.newLeaderAcked = true;
    l.lastHeardUs = this.node.monoNowUs;
    if (this.established) {
      this.sendPeer(peer, { type: 'UpToDate', epoch }, this.framing.quorum);
      return;
    }
    let acked = 1;
    for (const h of this.learners.values()) if (h.newLeaderAcked) acked++;
    if (acked < this.quorum) return;
    this.node.cancelTimer(this.phaseTimer);
    this.establish();
    for (const h of this.learners.values()) if (h.newLeaderAcked) this.sendPeer(h.sid, { type: 'UpToDate', epoch }, this.framing.quorum);
  }

  private establish(): void {
    this.established = true;
    this.serving = true;
    this.lastCommitted = this.lastLogged;
    this.cfg.audit.established(this.sid, this.leaderEpoch);
    this.node.note('zk.established', this.leaderEpoch);
    // A new leader gives every session a full timeout from now (SessionTrackerImpl on startup).
    const now = this.node.monoNowUs;
    for (const [s, timeoutMs] of this.tree.sessions) this.sessions!.add(s, timeoutMs, now);
    this.schedulePing();
  }

  private schedulePing(): void {
    const half = this.tickUs / 2;
    const now = this.node.monoNowUs;
    const next = (Math.floor(now / half) + 1) * half;
    this.phaseTimer = this.node.setTimer('zk-leader-ping', next - now, () => this.onPingTick());
  }

  private onPingTick(): void {
    if (this.state !== 'LEADING') return;
    const now = this.node.monoNowUs;
    let synced = 1;
    for (const l of this.learners.values()) {
      if (l.newLeaderAcked && now - l.lastHeardUs <= this.cfg.syncLimit * this.tickUs) synced++;
      this.sendPeer(l.sid, { type: 'LeaderPing', epoch: this.leaderEpoch }, this.framing.quorum);
    }
    if (synced < this.quorum) {
      // Leader.lead: "Not sufficient followers synced, only synced with sids: ..."
      this.node.note('zk.leader.stepdown', this.leaderEpoch);
      this.lookForLeader();
      return;
    }
    for (const s of this.sessions!.expire(now)) {
      this.node.note('zk.session.expire', s);
      this.propose(-1, s, 0, this.prep!.prepClose(s, this.nextZxid()), -1, this.framing.txn);
    }
    this.schedulePing();
  }

  private nextZxid(): Zxid {
    return makeZxid(this.leaderEpoch, this.counter + 1);
  }

  /** A write reached the leader (from its own clients or forwarded by a follower). */
  submitWrite(origin: number, session: number, cxid: number, ops: readonly Op[], writerEpoch: number): void {
    const n = requestCount(ops);
    let bytes = n * this.framing.txn;
    for (const op of ops) bytes += opBytes(op, this.cfg.costs);
    this.sessions?.touch(session, this.node.monoNowUs);
    const first = ops[0];
    const chunk = first !== undefined && first.type === 'partitionStates' ? first.chunk : null;
    const arrivedUs = this.node.sim.nowUs;
    const epoch = this.leaderEpoch;
    this.node.executor('zk-request').submit(chunk === null ? 'PrepRequestProcessor' : 'PrepRequestProcessor.chunk', n * this.cfg.costs.writeUs, () => {
      if (chunk !== null) {
        // The chunk stands for `count` requests pipelined `window` at a time: its txn is proposed
        // when the group commit that would have covered its last entry starts (pipeline.ts).
        const c = this.cfg.costs;
        let tail = this.chunkTails.get(session);
        if (tail === undefined) this.chunkTails.set(session, (tail = new PipelineTail()));
        const dueUs = writeChunkDueUs(this.pipelineRng, this.node.sim.net.profile, {
          n: chunk.count,
          window: chunk.window,
          writeUs: c.writeUs,
          fsyncUs: c.txnLogFsyncUs + (bytes / chunk.count) * 1e6 / this.node.sim.disk.writeBytesPerSec,
          forwarded: origin !== this.sid,
          followers: this.cfg.servers.length - 1,
          quorum: this.quorum,
        }, arrivedUs, tail);
        const now = this.node.sim.nowUs;
        if (dueUs > now) {
          this.node.after(dueUs - now, () => {
            if (this.leaderEpoch === epoch) this.prepAndPropose(origin, session, cxid, ops, writerEpoch, bytes);
          });
          return;
        }
      }
      this.prepAndPropose(origin, session, cxid, ops, writerEpoch, bytes);
    });
  }

  private prepAndPropose(origin: number, session: number, cxid: number, ops: readonly Op[], writerEpoch: number, bytes: number): void {
    if (this.state !== 'LEADING' || !this.established) return;
    const txOps = this.prep!.prep(session, ops, this.nextZxid());
    const created = txOps.find((o) => o.type === 'createSession');
    if (created !== undefined && created.type === 'createSession') this.sessions!.add(created.session, created.timeoutMs, this.node.monoNowUs);
    // A session its client closes is no longer tracked for expiry (SessionTrackerImpl.removeSession).
    if (txOps.some((o) => o.type === 'closeSession')) this.sessions!.remove(session);
    this.propose(origin, session, cxid, txOps, writerEpoch, bytes);
  }

  private propose(origin: number, session: number, cxid: number, ops: TxnOp[], writerEpoch: number, sizeBytes: number): void {
    this.counter++;
    const txn: Txn = { zxid: makeZxid(this.leaderEpoch, this.counter), session, cxid, origin, ops, sizeBytes, writerEpoch };
    this.logAppend(txn);
    this.fsyncLog();
    this.outbox.push(txn);
    this.scheduleFlush();
  }

  /** Proposals and commits made in one instant go out as one message per learner. */
  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    this.node.after(0, () => {
      this.flushScheduled = false;
      if (this.state !== 'LEADING') return;
      if (this.outbox.length > 0) {
        const txns = this.outbox;
        this.outbox = [];
        let bytes = this.framing.quorum;
        for (const t of txns) bytes += t.sizeBytes;
        for (const l of this.learners.values()) this.sendPeer(l.sid, { type: 'Proposal', epoch: this.leaderEpoch, txns }, bytes);
      }
      if (this.pendingCommit >= 0) {
        const z = this.pendingCommit;
        this.pendingCommit = -1;
        for (const l of this.learners.values()) this.sendPeer(l.sid, { type: 'Commit', epoch: this.leaderEpoch, zxid: z }, this.framing.quorum);
      }
    });
  }

  /** Commits, in zxid order, every txn a quorum (the leader's own fsync included) has logged. */
  private tryCommit(): void {
    if (!this.established) return;
    const acks = [this.syncedZxid];
    for (const l of this.learners.values()) if (l.newLeaderAcked) acks.push(l.ackedUpTo);
    // What-if 'zab.commit-without-quorum': the leader commits on its own fsync, not a quorum of ACKs.
    const needed = this.cfg.bugs.has('zab.commit-without-quorum') ? 1 : this.quorum;
    if (acks.length < needed) return;
    acks.sort((a, b) => b - a);
    const commitUpTo = acks[needed - 1]!;
    if (commitUpTo <= this.lastCommitted || zxidEpoch(commitUpTo) !== this.leaderEpoch) return;
    this.applyUpTo(commitUpTo);
    this.prep?.committed(commitUpTo);
    this.pendingCommit = commitUpTo;
    this.scheduleFlush();
  }

  // ---- follower ----

  private follow(leader: number): void {
    this.state = 'FOLLOWING';
    this.leaderSid = leader;
    this.node.note('zk.state.following', leader);
    this.heardLeader();
    this.synced = false;
    this.followRound = this.node.incarnation * 1e6 + ++this.followCount;
    this.sendFollowerInfo();
    this.armFollowerTimeout();
  }

  /** Learner.connectToLeader: the leader may not have finished its own election yet; retry every second. */
  private sendFollowerInfo(): void {
    if (this.state !== 'FOLLOWING' || this.synced) return;
    this.sendPeer(this.leaderSid, { type: 'FollowerInfo', sid: this.sid, acceptedEpoch: this.zab.acceptedEpoch, lastZxid: this.lastLogged, round: this.followRound }, this.framing.quorum + LEARNER_INFO_BYTES);
    const leader = this.leaderSid;
    this.node.setTimer('zk-follower-connect', 1_000_000, () => {
      if (this.leaderSid === leader) this.sendFollowerInfo();
    });
  }

  private synced = false;
  private followRound = 0;
  private followCount = 0;

  private heardLeader(): void {
    this.lastHeardLeaderUs = this.node.monoNowUs;
  }

  /** Learner socket timeout: syncLimit ticks without hearing the leader (initLimit while syncing). */
  private armFollowerTimeout(): void {
    const limitUs = (this.serving ? this.cfg.syncLimit : this.cfg.initLimit) * this.tickUs;
    this.phaseTimer = this.node.setTimer('zk-learner-timeout', limitUs / 2, () => {
      if (this.state !== 'FOLLOWING') return;
      const lim = (this.serving ? this.cfg.syncLimit : this.cfg.initLimit) * this.tickUs;
      if (this.node.monoNowUs - this.lastHeardLeaderUs > lim) {
        this.node.note('zk.follower.lost.leader', this.leaderSid);
        this.lookForLeader();
        return;
      }
      this.armFollowerTimeout();
    });
  }

  private onNewLeader(epoch: number, round: number, sync: SyncPayload): void {
    // A NEWLEADER answering an older connection attempt (its socket is gone in ZooKeeper).
    if (this.synced || round !== this.followRound) return;
    // Learner.registerWithLeader: a leader whose epoch is below the one this server accepted
    // ("Leaders epoch, … is less than accepted epoch") is a deposed leader that still leads (a
    // paused one, say); its history may lack what the newer epoch committed. The learner drops
    // the connection and looks for a leader again, before touching its log.
    if (epoch < this.zab.acceptedEpoch) {
      this.node.note('zk.follower.leader.epoch.lower', epoch);
      this.lookForLeader();
      return;
    }
    this.synced = true;
    if (sync.kind !== 'snap') {
      // Learner.syncWithLeader: on TRUNC, ZKDatabase.truncateLog drops every txn after the
      // leader's zxid (and reloads the tree if it had applied them); on DIFF nothing is past it.
      let keep = this.log.length;
      while (keep > 0 && this.log.entries[keep - 1]!.zxid > sync.fromZxid) keep--;
      this.truncateLog(keep);
      for (const t of sync.txns) this.logAppend(t);
      // Everything up to the leader's history is committed: our own logged prefix and the DIFF.
      this.applyUpTo(Number.MAX_SAFE_INTEGER);
    } else {
      const s = sync.tree as { tree: DataTree };
      // SNAP: the leader's tree replaces ours, and becomes our on-disk snapshot with an empty log.
      this.tree = s.tree;
      this.truncateLog(0);
      this.appliedIndex = 0;
      this.reportedIndex = 0;
      this.lastLogged = sync.lastZxid;
      this.committedCount = sync.committedCount;
      this.node.store.put('snapshot', { tree: this.tree.clone(), count: sync.committedCount });
      this.syncedZxid = Math.min(this.syncedZxid, sync.lastZxid);
      this.cnxns.treeReplaced();
    }
    this.lastCommitted = this.lastLogged;
    this.persistEpochs({ currentEpoch: epoch, acceptedEpoch: epoch }, () => {
      if (this.state === 'FOLLOWING') this.sendPeer(this.leaderSid, { type: 'AckNewLeader', epoch }, this.framing.quorum);
    });
    this.fsyncLog();
  }

  /**
   * PROPOSAL on the learner's stream. Zab needs the leader's stream in order and without gaps, as
   * one TCP connection delivers it; Follower.processPacket checks each zxid against lastQueued + 1.
   * Link chaos beyond TCP (a lost, duplicated or overtaking packet) breaks that: a txn already
   * logged is a duplicate the stream would not carry and is skipped; a zxid past the next one means
   * the stream lost a proposal. Logging past the hole would ACK (cumulatively) and commit a history
   * with a txn missing, so the follower drops the leader as on a broken socket (Follower.followLeader
   * → LOOKING) and resyncs with a DIFF from its last logged zxid. ZooKeeper itself only warns at
   * the gap and exits at the next COMMIT that does not match the head of its pending txns
   * (FollowerZooKeeperServer.commit → UNMATCHED_TXN_COMMIT), to rejoin after a restart.
   */
  private onProposal(txns: readonly Txn[]): void {
    let appended = false;
    for (const t of txns) {
      if (t.zxid <= this.lastLogged) continue;
      if (!this.nextInStream(t.zxid)) {
        this.node.note('zk.follower.stream.gap', t.zxid - this.lastLogged);
        if (appended) this.fsyncLog();
        this.lookForLeader();
        return;
      }
      this.logAppend(t);
      appended = true;
    }
    if (appended) this.fsyncLog();
  }

  /** The zxid that follows our last logged one: the next counter, or the first of a newer epoch. */
  private nextInStream(zxid: Zxid): boolean {
    const last = this.lastLogged;
    if (zxidEpoch(zxid) === zxidEpoch(last)) return zxid === last + 1;
    return zxidEpoch(zxid) > zxidEpoch(last) && zxidCounter(zxid) === 1;
  }

  /**
   * Drops log entries from `keep` on. Entries already applied to the tree (a restarted server
   * replays its whole log, uncommitted tail included) force a reload from snapshot + kept log,
   * as ZKDatabase.truncateLog does.
   */
  private truncateLog(keep: number): void {
    if (keep >= this.log.length) return;
    this.log.truncate(keep);
    this.fsyncTruncatedTo = Math.min(this.fsyncTruncatedTo, keep);
    if (keep < this.appliedIndex) {
      const snap = this.node.store.get<{ tree: DataTree; count: number }>('snapshot');
      this.tree = snap !== undefined ? snap.tree.clone() : new DataTree(0);
      for (let i = 0; i < keep; i++) this.applyOnly(this.log.entries[i]!);
      this.appliedIndex = keep;
      this.reportedIndex = Math.min(this.reportedIndex, keep);
      this.committedCount = (snap?.count ?? 0) + keep;
      this.cnxns.treeReplaced();
    }
    this.lastLogged = keep > 0 ? this.log.entries[keep - 1]!.zxid : this.baseZxid();
    this.syncedZxid = Math.min(this.syncedZxid, this.lastLogged);
  }

  /** A client's write arrived at this follower: forward it (FollowerRequestProcessor). */
  forwardWrite(session: number, cxid: number, ops: readonly Op[], writerEpoch: number): void {
    let bytes = requestCount(ops) * (this.framing.quorum + FORWARDED_REQUEST_BYTES);
    for (const op of ops) bytes += opBytes(op, this.cfg.costs);
    this.sendPeer(this.leaderSid, { type: 'ForwardRequest', epoch: this.zab.currentEpoch, origin: this.sid, sessionId: session, cxid, ops, writerEpoch }, bytes);
  }

  touch(session: number): void {
    if (this.state === 'LEADING') this.sessions?.touch(session, this.node.monoNowUs);
    else this.touches.set(session, 1);
  }
}

/** How many client requests a write request stands for (a chunk: one per entry). */
export function requestCount(ops: readonly Op[]): number {
  const first = ops[0];
  return first !== undefined && first.type === 'partitionStates' ? first.chunk.count : 1;
}

export function opBytes(op: Op, c: ZkServerCosts): number {
  switch (op.type) {
    case 'create':
    case 'setData':
      return 16 + op.path.length + op.dataBytes;
    case 'delete':
    case 'check':
      return 12 + op.path.length;
    case 'setPartitionState':
      return 12 + c.znodePathBytes + c.partitionStateZnodeBytes;
    case 'partitionStates':
      // Per entry: its CheckOp (when fenced) and its setData, as a one-write multi would carry.
      return op.chunk.count * ((op.chunk.fence !== null ? 12 + op.chunk.fence.path.length : 0) + 12 + c.znodePathBytes + c.partitionStateZnodeBytes);
    case 'createSession':
      return 24;
    case 'closeSession':
      return 0;
    default:
      return assertNever(op);
  }
}
