import type { Params } from './params.ts';
import type { Mode } from './result.ts';

/**
 * Peak memory of a Kafka run, estimated from its parameters before anything is built, so that a run
 * that cannot fit is refused with one line instead of dying minutes later (or failing to allocate a
 * typed array). Peak resident set size of `controller-failover`, measured per mode and fitted to
 * base + partitions × (perPartition + perPartitionBroker × brokers); the measurements and the
 * command are in ARCHITECTURE.md ("Run results").
 */
export const MEMORY_MODEL: Readonly<Record<Mode, { baseBytes: number; perPartition: number; perPartitionBroker: number }>> = {
  // 12 brokers: 904 B/partition + 176 MB; 34 B per partition per broker from 12 → 24 → 48 brokers.
  zk: { baseBytes: 176e6, perPartition: 496, perPartitionBroker: 34 },
  // 12 brokers: 218 B/partition + 102 MB; 9.3 B per partition per broker from 12 → 24 → 48 brokers.
  kraft: { baseBytes: 102e6, perPartition: 107, perPartitionBroker: 9.3 },
};

/** Headroom over the fitted line: scenarios other than the one measured, and GC slack. */
export const MEMORY_MARGIN = 1.25;

function numParam(params: Params, key: string, fallback: number): number {
  const v = params[key];
  return typeof v === 'number' ? v : fallback;
}

/** Estimated peak bytes of one run, or null for a scenario without Kafka partitions. */
export function estimateRunBytes(params: Params, mode: Mode | null): number | null {
  if (mode === null || typeof params['partitions'] !== 'number') return null;
  const m = MEMORY_MODEL[mode];
  const partitions = numParam(params, 'partitions', 0);
  const brokers = numParam(params, 'brokers', 12);
  return MEMORY_MARGIN * (m.baseBytes + partitions * (m.perPartition + m.perPartitionBroker * brokers));
}

/** A byte count for people: 1.4 GB, 310 MB. */
export function formatBytes(b: number): string {
  if (b >= 1e15) return `${(b / 1e15).toPrecision(3)} PB`;
  if (b >= 1e12) return `${(b / 1e12).toPrecision(3)} TB`;
  if (b >= 1e9) return `${(b / 1e9).toPrecision(3)} GB`;
  return `${Math.round(b / 1e6)} MB`;
}
