import type { SimNode } from '../../core/index.ts';
import { NO_LEADER, PartitionStateBatch } from '../cluster/partitions.ts';
import type { PartitionStateData } from '../zookeeper/types.ts';
import type { KafkaController } from './controller.ts';
import { ALTER_PARTITION_RESPONSE_BODY_BYTES } from '../cluster/cost.ts';
import { ALTER_FENCED_LEADER_EPOCH, ALTER_INELIGIBLE_REPLICA, ALTER_INVALID_UPDATE_VERSION, ALTER_NONE, ALTER_NOT_LEADER_OR_FOLLOWER, CONTROL_RESPONSE_BODY_BYTES, REMAINING_PARTITION_BYTES, type ControlError, type ZkModeMsg } from './messages.ts';
import { ISR_CHANGE_PATH } from './replica.ts';

type AlterPartition = Extract<ZkModeMsg, { type: 'AlterPartition' }>;
type ControlledShutdown = Extract<ZkModeMsg, { type: 'ControlledShutdown' }>;

/** Conditional, fenced writes of new partition states in chunks (KafkaController.writeStates). */
function writeStates(c: KafkaController, parts: readonly number[], next: (p: number) => PartitionStateData | null, done: (written: number[], conflicts: number[], fenced: boolean) => void): void {
  c.writeStates(parts, next, done);
}

/**
 * KafkaController.processAlterPartition (KIP-497): validate the broker epoch, then per partition the
 * leader, leader epoch and partition epoch (zkVersion) against the context; write the accepted ISRs
 * (fenced), answer, and send UpdateMetadata for what was written. A leader epoch ahead of ours means
 * this controller is a zombie: answer NOT_CONTROLLER (KAFKA-14154), as also after a fenced write.
 */
export function processAlterPartition(c: KafkaController, from: SimNode, msg: AlterPartition, done: () => void): void {
  const h = c.h;
  const s = msg.states;
  const reply = (error: ControlError, states: PartitionStateBatch, errors: Uint8Array): void => {
    h.node.send<ZkModeMsg>(from, { type: 'AlterPartitionResponse', requestId: msg.requestId, error, states, errors }, h.costs.rpcHeaderBytes + ALTER_PARTITION_RESPONSE_BODY_BYTES + states.count * h.costs.broker.alterPartitionResponseBytesPerPartition);
  };
  if (!c.active) {
    reply('NOT_CONTROLLER', EMPTY_STATES, NO_ERRORS);
    return done();
  }
  const ctx = c.ctx!;
  const epoch = c.liveBrokers.get(msg.brokerId);
  if (epoch === undefined || (!h.noBrokerEpoch && epoch !== msg.brokerEpoch)) {
    reply('STALE_BROKER_EPOCH', EMPTY_STATES, NO_ERRORS);
    return done();
  }
  for (let i = 0; i < s.count; i++) {
    if (s.leaderEpoch[i]! > ctx.leaderEpoch[s.partition[i]!]!) {
      h.node.note('controller.alter.partition.not.controller', s.leaderEpoch[i]!);
      reply('NOT_CONTROLLER', EMPTY_STATES, NO_ERRORS);
      return done();
    }
  }
  const gen = c.gen;
  c.cpu('processAlterPartition', s.count * h.costs.zkmode.controllerRequestBuildUsPerPartition, () => {
    const n = s.count;
    const errors = new Uint8Array(n);
    const rf = h.layout.replicationFactor;
    const brokerId = msg.brokerId;
    const { leader, leaderEpoch, partitionEpoch, isr, replicas } = ctx;
    const sp = s.partition;
    const sle = s.leaderEpoch;
    const spe = s.partitionEpoch;
    const si = s.isr;
    for (let i = 0; i < n; i++) {
      const p = sp[i]!;
      if (leader[p] !== brokerId) errors[i] = ALTER_NOT_LEADER_OR_FOLLOWER;
      else if (sle[i]! < leaderEpoch[p]!) errors[i] = ALTER_FENCED_LEADER_EPOCH;
      else if (spe[i]! !== partitionEpoch[p]!) errors[i] = ALTER_INVALID_UPDATE_VERSION;
      else {
        // KIP-841: only live, not shutting-down replicas may join the ISR.
        const added = si[i]! & ~isr[p]!;
        if (added === 0) continue;
        for (let k = 0; k < rf; k++) {
          const r = replicas[p * rf + k]!;
          if ((added & (1 << k)) !== 0 && (!c.liveBrokers.has(r) || c.shuttingDown.has(r))) errors[i] = ALTER_INELIGIBLE_REPLICA;
        }
      }
    }
    // The accepted entries, in request order; writeStates asks for their states in that order.
    const ok: number[] = [];
    const okAt: number[] = [];
    for (let i = 0; i < s.count; i++) {
      if (errors[i] !== ALTER_NONE) continue;
      ok.push(s.partition[i]!);
      okAt.push(i);
    }
    let asked = 0;
    writeStates(c, ok, (p) => ({ leader: ctx.leader[p]!, leaderEpoch: ctx.leaderEpoch[p]!, controllerEpoch: c.epoch, isr: s.isr[okAt[asked++]!]! }), (written, conflicts, fenced) => {
      if (fenced || gen !== c.gen) {
        if (c.active) c.resign('ControllerMovedException');
        reply('NOT_CONTROLLER', EMPTY_STATES, NO_ERRORS);
        return done();
      }
      if (conflicts.length > 0) {
        // The request's entry of each partition (the last one, as a map by partition would keep).
        const index = new Map<number, number>();
        for (let i = 0; i < s.count; i++) index.set(s.partition[i]!, i);
        for (const p of conflicts) {
          errors[index.get(p)!] = ALTER_INVALID_UPDATE_VERSION;
          c.contextMaybeBehindZk.add(p);
        }
      }
      const out = PartitionStateBatch.of(ctx, sp, 0, n);
      h.stats.isrChangesCommitted += written.length;
      reply('NONE', out, errors);
      if (written.length > 0) c.sendUpdateMetadata([...c.liveBrokers.keys()], written);
      done();
    });
  });
}

/** The states and errors of an AlterPartitionResponse with a top-level error (shared: never written). */
const EMPTY_STATES = PartitionStateBatch.ofSize(0);
const NO_ERRORS = new Uint8Array(0);

/**
 * KafkaController.doControlledShutdown: mark the broker shutting down; for the partitions it leads
 * (rf > 1) elect another ISR replica (ControlledShutdownPartitionLeaderElectionStrategy) and drop it
 * from the ISR; for the ones it follows, shrink it out of the ISR (OfflineReplica). Each a fenced
 * conditional write; then LeaderAndIsr + UpdateMetadata for what was written, and the answer: the
 * partitions it still leads.
 */
export function processControlledShutdown(c: KafkaController, from: SimNode, msg: ControlledShutdown, done: () => void): void {
  const h = c.h;
  const b = msg.brokerId;
  const reply = (error: ControlError, remaining: number): void => {
    h.node.send<ZkModeMsg>(from, { type: 'ControlledShutdownResponse', requestId: msg.requestId, error, partitionsRemaining: remaining }, h.costs.rpcHeaderBytes + CONTROL_RESPONSE_BODY_BYTES + remaining * REMAINING_PARTITION_BYTES);
  };
  if (!c.active) {
    reply('NOT_CONTROLLER', -1);
    return done();
  }
  const epoch = c.liveBrokers.get(b);
  if (epoch === undefined || (!h.noBrokerEpoch && epoch !== msg.brokerEpoch)) {
    reply('STALE_BROKER_EPOCH', -1);
    return done();
  }
  c.shuttingDown.add(b);
  const ctx = c.ctx!;
  const rf = h.layout.replicationFactor;
  const gen = c.gen;
  const P = h.layout.partitions;
  h.node.note('controller.controlled.shutdown', b);
  c.cpu('controlledShutdown', P * h.costs.zkmode.controllerReplicaScanUsPerPartition, () => {
    const affected: number[] = [];
    for (let p = 0; p < P; p++) if (ctx.slotOf(p, b) >= 0 && (ctx.isr[p]! & (1 << ctx.slotOf(p, b))) !== 0) affected.push(p);
    // Led and followed are told apart once, before the first write (partitionsLedByBroker).
    const led = new Uint8Array(P);
    for (const p of affected) if (ctx.leader[p] === b) led[p] = 1;
    const all: number[] = [];
    /** After a conflict the context holds the states read back from ZooKeeper. */
    let reread = false;
    // ControlledShutdownPartitionLeaderElectionStrategy: the first replica in assignment order that
    // is in the ISR, live and not shutting down.
    const elect = (p: number, isr: number): number => {
      for (let i = 0; i < rf; i++) {
        const r = ctx.replicas[p * rf + i]!;
        if ((isr & (1 << i)) !== 0 && c.liveBrokers.has(r) && !c.shuttingDown.has(r)) return r;
      }
      return NO_LEADER;
    };
    const next = (p: number): PartitionStateData | null => {
      const slot = ctx.slotOf(p, b);
      if (slot < 0) return null;
      const isr = ctx.isr[p]! & ~(1 << slot);
      if (reread && led[p] === 1) {
        // leaderForControlledShutdown elects again on the state read back, even when an earlier
        // write already moved the leader (its answer lost with the connection, the re-sent write
        // failing BADVERSION): one more leader epoch, as in Kafka.
        const leader = elect(p, isr);
        if (leader === NO_LEADER) return null;
        return { leader, leaderEpoch: ctx.leaderEpoch[p]! + 1, controllerEpoch: c.epoch, isr };
      }
      if ((ctx.isr[p]! & (1 << slot)) === 0) {
        // doRemoveReplicasFromIsr: the state read back no longer has the broker in its ISR; the
        // partition is done with that state, which LeaderAndIsr and UpdateMetadata still carry.
        if (reread) all.push(p);
        return null;
      }
      let leader = ctx.leader[p]!;
      if (leader === b) {
        leader = elect(p, isr);
        // No other ISR replica: it stays leader (counted as remaining).
        if (leader === NO_LEADER) return null;
      }
      return { leader, leaderEpoch: ctx.leaderEpoch[p]! + 1, controllerEpoch: c.epoch, isr };
    };
    const round = (parts: number[], n: number): void => {
      writeStates(c, parts, next, (written, conflicts, fenced) => {
        for (const p of written) all.push(p); // not push(...written): 10^5+ arguments overflow the stack
        if (fenced || gen !== c.gen) {
          if (c.active) c.resign('ControllerMovedException');
          reply('NOT_CONTROLLER', -1);
          return done();
        }
        if (conflicts.length > 0 && n < 5) {
          // Re-read what changed under us (an ISR change by a leader) and try again.
          c.readStates(Int32Array.from(conflicts), (chunk, r) => c.applyRead(chunk, r), () => {
            reread = true;
            round(conflicts, n + 1);
          });
          return;
        }
        c.sendStates(all, () => {
          let remaining = 0;
          for (let p = 0; p < P; p++) if (ctx.leader[p] === b && rf > 1) remaining++;
          reply('NONE', remaining);
          done();
        });
      });
    };
    round(affected, 0);
  });
}

/**
 * KafkaController.processIsrChangeNotification: read the notification znodes (re-arming the child
 * watch), re-read those partitions' states from ZooKeeper, send UpdateMetadata for them to every
 * live broker, and delete the notifications (fenced).
 */
export function processIsrChangeNotification(c: KafkaController, done: () => void): void {
  if (!c.active) return done();
  const h = c.h;
  const ctx = c.ctx!;
  const gen = c.gen;
  c.read({ type: 'getChildren', path: ISR_CHANGE_PATH, watch: true }, (r) => {
    const children = r.children ?? [];
    if (children.length === 0 || gen !== c.gen) return done();
    const parts = new Set<number>();
    c.pipeline(children.length, (i, cb) => c.read({ type: 'getData', path: `${ISR_CHANGE_PATH}/${children[i]}`, watch: false }, cb), (_i, d) => {
      if (d.code === 'OK') for (const p of d.data as Int32Array) parts.add(p);
    }, () => {
      const list = [...parts];
      c.pipeline(list.length, (i, cb) => c.read({ type: 'getPartitionState', partition: list[i]! }, cb), (i, st) => {
        const s = st.partitionState;
        if (s !== undefined && s.version > ctx.partitionEpoch[list[i]!]!) ctx.set(list[i]!, s.leader, s.leaderEpoch, s.version, s.isr);
      }, () => {
        if (gen !== c.gen) return done();
        h.node.note('controller.isr.change.notification', list.length);
        c.sendUpdateMetadata([...c.liveBrokers.keys()], list);
        c.pipeline(children.length, (i, cb) => c.write([{ type: 'delete', path: `${ISR_CHANGE_PATH}/${children[i]}`, version: -1 }], (w) => cb(w)), () => undefined, done);
      });
    });
  });
}
