import type { LinkProfile, Rng } from '../../core/index.ts';

/**
 * The timing of a chunk of pipelined requests (see ARCHITECTURE.md, "ZooKeeper chunks"). A chunk
 * stands for `n` requests a client would have pipelined with at most `window` outstanding: the
 * next request leaves when an answer frees a slot, every message crosses a FIFO link (base latency
 * plus exponential jitter, drawn here from the server's own stream, so no other draw moves), the
 * server serves one request at a time, and the leader group-commits its txn log (an fsync covers
 * every txn appended before it started; one appended meanwhile waits for the next). The loops
 * replay that per request with plain arithmetic — no events, no allocation — and return when the
 * last request would have been served, measured from the first one's arrival.
 */

/** One message's one-way latency on a link of this profile. */
function oneWay(rng: Rng, prof: LinkProfile): number {
  return prof.baseLatencyUs + Math.round(rng.exp(prof.jitterMeanUs));
}

/**
 * Where the previous chunk of a session left its pipeline: when the client got the answers of its
 * last `window` requests. A chunk sent right after it (the client turned around at once) continues
 * that stream — its first requests went out as those answers came in, as a continuous pipeline's
 * would —, so chunking adds no drain of the window between chunks.
 */
export class PipelineTail {
  recv: Float64Array = new Float64Array(0);
  lastUs = -1;

  /** The previous chunk's answers, if this chunk (reaching the server at `arrivalUs`) followed them at once. */
  continues(arrivalUs: number, window: number, prof: LinkProfile): Float64Array | null {
    if (this.lastUs < 0 || this.recv.length !== window) return null;
    return arrivalUs - this.lastUs <= 4 * (prof.baseLatencyUs + prof.jitterMeanUs) ? this.recv : null;
  }

  keep(recv: Float64Array, window: number, n: number): void {
    // recv[i % window] holds answer i; the last window answers, oldest first, are the next sends.
    const out = new Float64Array(window);
    for (let j = 0; j < window; j++) out[j] = j < n ? recv[(n - Math.min(n, window) + j) % window]! : recv[(n - 1) % window]!;
    out.sort();
    this.recv = out;
    this.lastUs = out[window - 1]!;
  }
}

/**
 * Reads served by this server (absolute times): when the last request of the chunk is answered.
 * `syncHops`: one-way trips a sync() before each read adds (0 without; 2 when this server leads —
 * the sync's own round trip —, 4 on a follower, which also asks the leader).
 */
export function readChunkDoneUs(rng: Rng, prof: LinkProfile, n: number, window: number, readUs: number, syncHops: number, arrivalUs: number, tail: PipelineTail): number {
  const w = Math.max(1, window);
  const prev = tail.continues(arrivalUs, w, prof);
  const first = oneWay(rng, prof);
  // recv[i % w]: when the client got answer i (it then sends request i + w).
  const recv = new Float64Array(w);
  let arrive = 0;
  let done = 0;
  let back = 0;
  for (let i = 0; i < n; i++) {
    const sent = i < w ? (prev !== null ? prev[i]! : arrivalUs - first) : recv[i % w]!;
    let t = sent + (i === 0 && prev === null ? first : oneWay(rng, prof));
    for (let h = 0; h < syncHops; h++) t += oneWay(rng, prof);
    arrive = Math.max(t, arrive);
    done = Math.max(arrive, done) + readUs;
    back = Math.max(done + oneWay(rng, prof), back);
    recv[i % w] = back;
  }
  tail.keep(recv, w, n);
  return done;
}

/** Group commit of a txn log: when the fsync covering a txn appended at `q` ends. */
class GroupCommit {
  private runningEnd = -1;
  private queuedEnd = -1;

  constructor(private readonly fsyncUs: number) {}

  synced(q: number): number {
    if (q >= this.runningEnd && this.queuedEnd >= 0) {
      // The running fsync ended: the queued one started then.
      this.runningEnd = this.queuedEnd;
      this.queuedEnd = -1;
    }
    if (q >= this.runningEnd) {
      this.runningEnd = q + this.fsyncUs;
      return this.runningEnd;
    }
    if (this.queuedEnd < 0) this.queuedEnd = this.runningEnd + this.fsyncUs;
    return this.queuedEnd;
  }
}

export interface WriteChunkTiming {
  readonly n: number;
  readonly window: number;
  readonly writeUs: number;
  /** One group commit's fsync (zk.txnlog.fsync.us plus the bytes of a txn at the disk's rate). */
  readonly fsyncUs: number;
  /** The client's server is a follower: requests are forwarded to the leader, answered after the COMMIT comes back. */
  readonly forwarded: boolean;
  readonly followers: number;
  /** Servers (the leader included) whose logged txn commits it. */
  readonly quorum: number;
}

/**
 * Writes prepped by this leader (absolute times): when the fsync that covers the last request of
 * the chunk starts (the chunk's txn is proposed then, so its real group commit ends when the last
 * request's would have). Per request: client → its server → (forwarded) the leader, prep (serial),
 * proposal → each follower's log (group-committed) → ACK; committed once `quorum` servers have it
 * synced; COMMIT → the client's server → the answer frees a slot. `arrivalUs`: when the chunk
 * reached this leader.
 */
export function writeChunkDueUs(rng: Rng, prof: LinkProfile, t: WriteChunkTiming, arrivalUs: number, tail: PipelineTail): number {
  const w = Math.max(1, t.window);
  const prev = tail.continues(arrivalUs, w, prof);
  const recv = new Float64Array(w);
  const leaderLog = new GroupCommit(t.fsyncUs);
  const followerLogs: GroupCommit[] = [];
  const proposalAt = new Float64Array(t.followers);
  const ackAt = new Float64Array(t.followers);
  for (let f = 0; f < t.followers; f++) followerLogs.push(new GroupCommit(t.fsyncUs));
  const acks = new Float64Array(t.followers + 1);
  const firstHop = oneWay(rng, prof) + (t.forwarded ? oneWay(rng, prof) : 0);
  let atServer = 0;
  let atLeader = 0;
  let prepped = 0;
  let committed = 0;
  let commitBack = 0;
  let back = 0;
  let lastSyncStart = 0;
  for (let i = 0; i < t.n; i++) {
    const sent = i < w ? (prev !== null ? prev[i]! : arrivalUs - firstHop) : recv[i % w]!;
    atServer = Math.max(sent + oneWay(rng, prof), atServer);
    atLeader = t.forwarded ? Math.max(atServer + oneWay(rng, prof), atLeader) : atServer;
    prepped = Math.max(atLeader, prepped) + t.writeUs;
    const leaderSynced = leaderLog.synced(prepped);
    lastSyncStart = leaderSynced - t.fsyncUs;
    acks[0] = leaderSynced;
    for (let f = 0; f < t.followers; f++) {
      proposalAt[f] = Math.max(prepped + oneWay(rng, prof), proposalAt[f]!);
      ackAt[f] = Math.max(followerLogs[f]!.synced(proposalAt[f]!) + oneWay(rng, prof), ackAt[f]!);
      acks[f + 1] = ackAt[f]!;
    }
    acks.sort();
    committed = Math.max(acks[Math.min(t.quorum, acks.length) - 1]!, committed);
    commitBack = t.forwarded ? Math.max(committed + oneWay(rng, prof), commitBack) : committed;
    back = Math.max(commitBack + oneWay(rng, prof), back);
    recv[i % w] = back;
  }
  tail.keep(recv, w, t.n);
  return Math.max(prepped, lastSyncStart);
}
