import { NO_LEADER, type PartitionStateBatch } from '../cluster/partitions.ts';
import type { MetadataImage } from './metadata-image.ts';

/**
 * ReplicationControlManager.generateLeaderAndIsrUpdates for a broker that is fenced, re-registers
 * or shuts down: for each of its partitions (those in `parts`, from `from` to `to`) it leaves the
 * ISR (unless it is the last member), and if it led, the first eligible ISR member in replica
 * order takes over (leader epoch + 1); with none, the partition goes leaderless. Each change bumps
 * the partition epoch. Writes into `image` (the controller's working state) and into `out`.
 */
export function removeBrokerFromPartitions(image: MetadataImage, broker: number, parts: Int32Array, from: number, to: number, out: PartitionStateBatch, moveLeaders: boolean): void {
  const t = image.partitions;
  const rf = t.rf;
  for (let i = from; i < to; i++) {
    const p = parts[i]!;
    const slot = t.slotOf(p, broker);
    const isr = t.isr[p]!;
    const leader = t.leader[p]!;
    const inIsr = (isr & (1 << slot)) !== 0;
    if (!inIsr && leader !== broker) continue;
    let nextIsr = isr & ~(1 << slot);
    if (nextIsr === 0) nextIsr = isr; // Kafka never empties an ISR: the last member stays
    let nextLeader = leader;
    let leaderEpoch = t.leaderEpoch[p]!;
    if (leader === broker && moveLeaders) {
      nextLeader = NO_LEADER;
      for (let s = 0; s < rf; s++) {
        const r = t.replicas[p * rf + s]!;
        if (r !== broker && (nextIsr & (1 << s)) !== 0 && image.eligible(r)) {
          nextLeader = r;
          break;
        }
      }
      leaderEpoch++;
    }
    if (nextIsr === isr && nextLeader === leader) continue;
    const partitionEpoch = t.partitionEpoch[p]! + 1;
    t.set(p, nextLeader, leaderEpoch, partitionEpoch, nextIsr);
    out.push(p, nextLeader, leaderEpoch, partitionEpoch, nextIsr);
  }
}

/**
 * ReplicationControlManager.handleBrokerUnfenced: leaderless partitions whose ISR holds the
 * broker elect it (leader epoch + 1).
 */
export function electLeadersOnUnfence(image: MetadataImage, broker: number, parts: Int32Array, from: number, to: number, out: PartitionStateBatch): void {
  const t = image.partitions;
  for (let i = from; i < to; i++) {
    const p = parts[i]!;
    if (t.leader[p] !== NO_LEADER) continue;
    const slot = t.slotOf(p, broker);
    if ((t.isr[p]! & (1 << slot)) === 0) continue;
    const leaderEpoch = t.leaderEpoch[p]! + 1;
    const partitionEpoch = t.partitionEpoch[p]! + 1;
    t.set(p, broker, leaderEpoch, partitionEpoch, t.isr[p]!);
    out.push(p, broker, leaderEpoch, partitionEpoch, t.isr[p]!);
  }
}
