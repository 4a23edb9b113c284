import { UsageError } from '../errors.ts';
import { num, type Params } from '../params.ts';
import { MAX_REPLICATION_FACTOR } from './partitions.ts';

/** Topics and their replica assignment; fixed for a run (no reassignment is modelled). */
export interface ClusterLayout {
  readonly brokers: number;
  readonly partitions: number;
  readonly topics: number;
  readonly partitionsPerTopic: number;
  readonly replicationFactor: number;
  /** replicas[p*rf + i] = broker id (0-based) of replica slot i; slot 0 is the preferred leader. */
  readonly replicas: Int32Array;
}

/** Topic of global partition p (topics are numbered densely; the last one may be short). */
export function topicOf(layout: ClusterLayout, p: number): number {
  return Math.floor(p / layout.partitionsPerTopic);
}

/**
 * A deterministic stand-in for the random draws Kafka makes per topic creation. Kafka draws the
 * start index and the replica shift with `Random.nextInt(brokers)`; here they come from a hash of
 * the topic index, so the layout depends on the parameters only (both modes, every seed, see
 * the same cluster) and no run's random streams are consumed.
 */
function topicDraw(topic: number, salt: number, bound: number): number {
  let h = Math.imul(topic ^ salt, 0x9e3779b1) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  h = (h ^ (h >>> 16)) >>> 0;
  return h % bound;
}

/** Scratch of assignTopic: replica j+1's distance from the first replica, for the current shift. */
let followerOffsets = new Int32Array(8);

/**
 * Kafka's rack-unaware replica assignment (AdminUtils.assignReplicasToBrokersRackUnaware, now
 * org.apache.kafka.admin.AdminUtils / ReplicaAssignment): per topic, partition i's first replica
 * is broker (startIndex + i) mod B; the shift of the other replicas grows by one every B
 * partitions; replica j (j ≥ 1) sits at first + 1 + ((shift + j − 1) mod (B − 1)). This spreads
 * leaders round-robin and never puts two replicas of a partition on one broker. With `firsts`, each
 * partition's first replica is also written to firsts[p] (the initial leaders, in the same pass).
 */
export function assignTopic(out: Int32Array, firstPartition: number, count: number, brokers: number, rf: number, startIndex: number, replicaShift: number, firsts: Int32Array | null = null): void {
  // The same arithmetic with the remainders kept as running counters (no division per replica):
  // `first` steps round the brokers, and the followers' offsets change only when the shift does.
  const others = rf - 1;
  if (followerOffsets.length < others) followerOffsets = new Int32Array(others);
  const offsets = followerOffsets;
  let first = startIndex % brokers;
  let inRound = 0;
  let base = firstPartition * rf;
  for (let j = 0; j < others; j++) offsets[j] = 1 + ((replicaShift + j) % (brokers - 1));
  for (let i = 0; i < count; i++) {
    if (inRound === brokers) {
      // shift + 1: each offset 1 + ((shift + j) mod (B − 1)) steps by one, from B − 1 back to 1.
      inRound = 0;
      for (let j = 0; j < others; j++) offsets[j] = offsets[j] === brokers - 1 ? 1 : offsets[j]! + 1;
    }
    out[base] = first;
    if (firsts !== null) firsts[firstPartition + i] = first;
    for (let j = 0; j < others; j++) {
      const b = first + offsets[j]!;
      out[base + 1 + j] = b >= brokers ? b - brokers : b;
    }
    base += rf;
    inRound++;
    if (++first === brokers) first = 0;
  }
}

/** initialLeaders' arrays, per layout (makeLayout's own, or built on first use). */
const initialLeaderArrays = new WeakMap<ClusterLayout, Int32Array>();

export function makeLayout(params: Params): ClusterLayout {
  const brokers = num(params, 'brokers');
  const partitions = num(params, 'partitions');
  const partitionsPerTopic = num(params, 'partitions.per.topic');
  const rf = num(params, 'replication.factor');
  if (!Number.isInteger(brokers) || brokers < 1) throw new UsageError(`brokers must be a whole number >= 1, got ${brokers}`);
  if (!Number.isInteger(partitions) || partitions < 1) throw new UsageError(`partitions must be a whole number >= 1, got ${partitions}`);
  if (!Number.isInteger(partitionsPerTopic) || partitionsPerTopic < 1) throw new UsageError(`partitions.per.topic must be a whole number >= 1, got ${partitionsPerTopic}`);
  if (!Number.isInteger(rf) || rf < 1 || rf > MAX_REPLICATION_FACTOR) throw new UsageError(`replication.factor must be a whole number in 1..${MAX_REPLICATION_FACTOR}, got ${rf}`);
  // Kafka refuses a replication factor larger than the broker count (InvalidReplicationFactorException).
  if (rf > brokers) throw new UsageError(`replication.factor ${rf} is larger than the number of brokers ${brokers}`);
  const topics = Math.ceil(partitions / partitionsPerTopic);
  const replicas = new Int32Array(partitions * rf);
  const firsts = new Int32Array(partitions);
  for (let t = 0; t < topics; t++) {
    const first = t * partitionsPerTopic;
    const count = Math.min(partitionsPerTopic, partitions - first);
    assignTopic(replicas, first, count, brokers, rf, topicDraw(t, 0x5bd1e995, brokers), topicDraw(t, 0x27d4eb2f, brokers), firsts);
  }
  const layout: ClusterLayout = { brokers, partitions, topics, partitionsPerTopic, replicationFactor: rf, replicas };
  // The initial leaders come out of the same pass (initialLeaders finds them cached).
  initialLeaderArrays.set(layout, firsts);
  return layout;
}

/** The replicas of one partition, in slot order (for single partitions only: allocates). */
export function replicasOf(layout: ClusterLayout, p: number): number[] {
  const rf = layout.replicationFactor;
  return Array.from(layout.replicas.subarray(p * rf, p * rf + rf));
}

/**
 * Each partition's first replica (its preferred leader, and the leader of the initial state), as
 * one array per layout: a table starts as a copy of it instead of recomputing it per partition.
 * makeLayout fills it while it assigns replicas; other layouts get it from one pass over replicas.
 * Shared; do not write.
 */
export function initialLeaders(layout: ClusterLayout): Int32Array {
  const cached = initialLeaderArrays.get(layout);
  if (cached !== undefined) return cached;
  const { replicas, partitions } = layout;
  const rf = layout.replicationFactor;
  const out = new Int32Array(partitions);
  for (let p = 0, i = 0; p < partitions; p++, i += rf) out[p] = replicas[i]!;
  initialLeaderArrays.set(layout, out);
  return out;
}

/**
 * `hostedBy(layout)[b]` lists the partitions of which broker b is a replica, in ascending order
 * (Kafka's brokersToIsrs view of a fixed assignment). Built once per layout in one counting pass
 * and one filling pass, and shared by everything that asks (controllers, replica managers, the
 * tracker); do not write.
 */
export function hostedBy(layout: ClusterLayout): readonly Int32Array[] {
  const cached = hostedLists.get(layout);
  if (cached !== undefined) return cached;
  const hosted = bucketed(layout.replicas, layout.brokers, layout.replicationFactor);
  hostedLists.set(layout, hosted);
  return hosted;
}

const hostedLists = new WeakMap<ClusterLayout, readonly Int32Array[]>();

/**
 * Entries grouped by key (a counting sort): list k holds, in ascending order, the index of every
 * group of `per` consecutive entries of `keys` that has an entry equal to k. One flat array, list k
 * a view of its run.
 */
function bucketed(keys: Int32Array, count: number, per: number): readonly Int32Array[] {
  const start = new Int32Array(count + 1);
  for (let i = 0; i < keys.length; i++) start[keys[i]! + 1]!++;
  for (let k = 0; k < count; k++) start[k + 1]! += start[k]!;
  const flat = new Int32Array(keys.length);
  const next = start.slice(0, count);
  for (let i = 0, v = 0, n = 0; i < keys.length; i++) {
    flat[next[keys[i]!]!++] = v;
    if (++n === per) {
      n = 0;
      v++;
    }
  }
  return Array.from({ length: count }, (_, k) => flat.subarray(start[k]!, start[k + 1]!));
}

/**
 * `preferredBy(layout)[b]` lists the partitions whose first replica (preferred, initial leader) is
 * broker b, in ascending order: the partitions b leads while nothing has changed since the start.
 * Built once per layout like hostedBy; do not write.
 */
export function preferredBy(layout: ClusterLayout): readonly Int32Array[] {
  const cached = preferredLists.get(layout);
  if (cached !== undefined) return cached;
  const lists = bucketed(initialLeaders(layout), layout.brokers, 1);
  preferredLists.set(layout, lists);
  return lists;
}

const preferredLists = new WeakMap<ClusterLayout, readonly Int32Array[]>();

/**
 * Where replicas live: `hosted[b]` lists broker b's partitions in ascending order (hostedBy), and
 * `local[p*rf + i]` is partition p's position in the list of the broker of its replica slot i. A
 * broker keeps per-partition state only for what it hosts (rf / brokers of the partitions), indexed
 * by that position. Built once per layout (O(partitions × rf)), on first use, and shared by every
 * broker.
 */
export interface ReplicaIndex {
  readonly hosted: readonly Int32Array[];
  readonly local: Int32Array;
}

const replicaIndexes = new WeakMap<ClusterLayout, ReplicaIndex>();

export function replicaIndex(layout: ClusterLayout): ReplicaIndex {
  const cached = replicaIndexes.get(layout);
  if (cached !== undefined) return cached;
  const { replicas, brokers } = layout;
  const hosted = hostedBy(layout);
  const fill = new Int32Array(brokers);
  const local = new Int32Array(replicas.length);
  for (let i = 0; i < replicas.length; i++) local[i] = fill[replicas[i]!]!++;
  const index: ReplicaIndex = { hosted, local };
  replicaIndexes.set(layout, index);
  return index;
}
