import type { SimNode } from '../../core/index.ts';
import { LEADER_EPOCH_CHECKPOINT_FSYNCS, type BrokerCosts } from './cost.ts';

/**
 * The partition-state work a broker does when it learns new partition states, the same in both
 * modes because Kafka 3.9 runs the same ReplicaManager / Partition code in both (ZK mode:
 * ReplicaManager.becomeLeaderOrFollower; KRaft: ReplicaManager.applyDelta →
 * applyLocalLeadersDelta / applyLocalFollowersDelta):
 * - `transitions`: partitions that take a new leader epoch at this broker — Partition.makeLeader /
 *   makeFollower do the full transition and the fetchers are removed / added
 *   (broker.make.leader.follower.us.per.partition);
 * - `newLeaders`: those of them this broker now leads — LeaderEpochFileCache.assign rewrites and
 *   fsyncs the partition's leader-epoch checkpoint, on the disk, one partition after another;
 * - `examined`: partitions looked at without a new leader epoch (ZK: skipped by
 *   becomeLeaderOrFollower; KRaft: a changed partition epoch, updateAssignmentAndIsr only)
 *   (broker.partition.examine.us.per.partition).
 */
export class RoleWork {
  examined = 0;
  transitions = 0;
  newLeaders = 0;

  cpuUs(c: BrokerCosts): number {
    return this.transitions * c.makeLeaderFollowerUsPerPartition + this.examined * c.partitionExamineUsPerPartition;
  }
}

/** One leader-epoch checkpoint on this node's disk: write the file, fsync it, rename, fsync the directory. */
export function leaderEpochCheckpointUs(node: SimNode, c: BrokerCosts): number {
  const disk = node.sim.disk;
  return LEADER_EPOCH_CHECKPOINT_FSYNCS * disk.fsyncUs + (c.leaderEpochCheckpointBytes * 1e6) / disk.writeBytesPerSec;
}

/**
 * Writes `n` leader-epoch checkpoints on the node's disk executor, each after the previous one
 * completed (the applying thread writes them synchronously, one per partition: LeaderEpochFileCache
 * .writeToFile → CheckpointFile.write), then calls `then`. Other disk work may run in between, as it
 * would between two of the thread's writes.
 */
export function writeLeaderEpochCheckpoints(node: SimNode, n: number, c: BrokerCosts, then: () => void): void {
  if (n <= 0) return then();
  const us = leaderEpochCheckpointUs(node, c);
  let left = n;
  // One callback for every write (not a closure per partition).
  const done = (): void => {
    if (--left === 0) then();
    else node.executor('disk').submit('LeaderEpochFileCache.assign', us, done);
  };
  node.executor('disk').submit('LeaderEpochFileCache.assign', us, done);
}
