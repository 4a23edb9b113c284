import { msToUs, Simulation, type FaultPlan, type Message, type SimNode } from '../../core/index.ts';
import { KafkaRaftClient } from '../../sim/raft/kafka-raft-client.ts';
import { RaftInvariants } from '../../sim/raft/raft-invariants.ts';
import { DEFAULT_RAFT_CONFIG, NO_BUGS, isRaftMessage, type RaftBugs, type RaftConfig, type RaftMessage, type RaftSnapshot, type RecordBatch } from '../../sim/raft/types.ts';

/**
 * A bare Raft quorum for tests: voters (and observers) run KafkaRaftClient; the active leader's
 * state machine appends one 100-byte record every `appendEveryMs`. The state machine's "image"
 * is the count of records applied, so a snapshot is just that number.
 */
export interface QuorumOptions {
  voters: number;
  observers?: number;
  seed: number;
  preVote?: boolean;
  bugs?: Partial<RaftBugs>;
  appendEveryMs?: number;
  config?: Partial<RaftConfig>;
  /** Take a snapshot every this many applied records (0: never). */
  snapshotEvery?: number;
}

export interface Quorum {
  sim: Simulation;
  voters: SimNode[];
  observers: SimNode[];
  clients: Map<number, KafkaRaftClient<number, number>>;
  applied: Map<number, number>;
  invariants: RaftInvariants<number>;
  leader(): KafkaRaftClient<number, number> | null;
  run(untilMs: number, plan?: FaultPlan): ReturnType<Simulation['run']>;
}

export function buildQuorum(o: QuorumOptions): Quorum {
  const sim = new Simulation({ seed: String(o.seed) });
  const names = [...Array.from({ length: o.voters }, (_, i) => `controller-${i}`), ...Array.from({ length: o.observers ?? 0 }, (_, i) => `broker-${i}`)];
  const clients = new Map<number, KafkaRaftClient<number, number>>();
  const applied = new Map<number, number>();
  const voterIds = names.slice(0, o.voters).map((_, i) => i);
  const config: RaftConfig = { ...DEFAULT_RAFT_CONFIG, voterIds, preVote: o.preVote ?? false, bugs: { ...NO_BUGS, ...o.bugs }, ...o.config };
  const nodes: SimNode[] = [];
  const invariants = new RaftInvariants<number>(sim, [], config.fetchTimeoutMs);
  for (const name of names) {
    const node = sim.addNode(name, (n) => {
      const client = new KafkaRaftClient<number, number>(n, { config, nodeOf: (id) => nodes[id]!, observer: invariants, controlBatchBytes: 100 });
      clients.set(n.id, client);
      let count = 0;
      let epoch = -1;
      let appendTimer = -1;
      const tick = (): void => {
        if (epoch >= 0) client.scheduleAppend(epoch, 1, 1, 100);
        appendTimer = n.setTimer('append', msToUs(o.appendEveryMs ?? 50), tick);
      };
      client.register({
        handleCommit(batches: readonly RecordBatch<number>[]) {
          for (const b of batches) if (!b.control) count += b.count;
          applied.set(n.id, count);
          const every = o.snapshotEvery ?? 0;
          const last = batches[batches.length - 1]!;
          if (every > 0 && count % every < last.count) {
            client.createSnapshot({ endOffset: last.baseOffset + last.count, epoch: last.epoch, sizeBytes: 1000 + count * 10, recordCount: count, image: count }, 0);
          }
        },
        handleLoadSnapshot(s: RaftSnapshot<number>) {
          count = s.image;
          applied.set(n.id, count);
        },
        handleLeaderChange(leaderId: number, e: number) {
          if (leaderId === n.id) {
            epoch = e;
            if (appendTimer < 0) tick();
          } else {
            epoch = -1;
          }
        },
      });
      client.start();
      return {
        onMessage(from: SimNode, msg: Message) {
          if (isRaftMessage(msg)) client.handle(from, msg as RaftMessage<number, number>);
        },
      };
    });
    nodes.push(node);
  }
  const voters = nodes.slice(0, o.voters);
  (invariants as unknown as { voters: SimNode[] }).voters.push(...voters);
  invariants.register();
  sim.faults.defineRole('raftLeader', () => {
    let best: SimNode | null = null;
    let bestEpoch = -1;
    for (const v of nodes.slice(0, o.voters)) {
      const c = clients.get(v.id);
      if (v.up && c !== undefined && c.quorum.isLeader && c.epoch > bestEpoch) { best = v; bestEpoch = c.epoch; }
    }
    return best;
  });
  return {
    sim,
    voters,
    observers: nodes.slice(o.voters),
    clients,
    applied,
    invariants,
    leader() {
      let best: KafkaRaftClient<number, number> | null = null;
      for (const v of voters) {
        const c = clients.get(v.id);
        if (v.up && c !== undefined && c.isActiveLeader && (best === null || c.epoch > best.epoch)) best = c;
      }
      return best;
    },
    run(untilMs: number, plan?: FaultPlan) {
      if (plan !== undefined) sim.installFaults(plan);
      return sim.run({ untilUs: msToUs(untilMs) });
    },
  };
}
