import type { SeriesJson } from './cluster/series.ts';
import type { ParamValue } from './params.ts';

export type Mode = 'zk' | 'kraft';

/** The figures of design §6; null where a figure does not apply to the scenario or mode. */
export interface Metrics {
  recoveryMs: number | null;
  phases: { detectMs: number | null; electMs: number | null; loadMs: number | null; propagateMs: number | null };
  unavailablePartitionMs: number | null;
  maxUnavailablePartitions: number | null;
  divergence: { maxPartitions: number | null; partitionMs: number | null; phantomStates: number | null; convergedAtMs: number | null };
  splitBrainMs: number | null;
  shutdownMs?: number | null;
}

export function nullMetrics(): Metrics {
  return {
    recoveryMs: null,
    phases: { detectMs: null, electMs: null, loadMs: null, propagateMs: null },
    unavailablePartitionMs: null,
    maxUnavailablePartitions: null,
    divergence: { maxPartitions: null, partitionMs: null, phantomStates: null, convergedAtMs: null },
    splitBrainMs: null,
  };
}

export interface RunResult {
  scenario: string;
  mode: Mode | null;
  seed: number;
  params: Record<string, ParamValue>;
  traceHash: string;
  events: number;
  simMs: number;
  wallMs: number;
  stop: { reason: string; detail: string };
  invariants: { name: string; kind: 'safety' | 'liveness'; checks: number; violations: number }[];
  violation: null | { invariant: string; atMs: number; detail: string; replay: string; event: { index: number; kind: string; node: string | null; label: string } };
  metrics: Metrics;
  /** Model-specific figures (e.g. controller queue depth, bytes sent), for the curious. */
  extra: Record<string, number | string | null>;
  /** Time series as change points (`--series`, `--report`); absent by default. */
  series?: SeriesJson;
}
