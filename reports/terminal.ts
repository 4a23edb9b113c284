import chalk from 'chalk';
import type { RunResult } from '../sim/result.ts';

/** partition·ms (the JSON's unit) as partition·s, for the table. */
const perSecond = (ms: number | null): number | null => (ms === null ? null : Math.round(ms / 100) / 10);

export type Row = [label: string, get: (r: RunResult) => number | string | null, unit: string];

export const ROWS: Row[] = [
  ['recovery', (r) => r.metrics.recoveryMs, 'ms'],
  ['  detect', (r) => r.metrics.phases.detectMs, 'ms'],
  ['  elect', (r) => r.metrics.phases.electMs, 'ms'],
  ['  load', (r) => r.metrics.phases.loadMs, 'ms'],
  ['  propagate', (r) => r.metrics.phases.propagateMs, 'ms'],
  ['controlled shutdown', (r) => (r.extra['shutdownClean'] === 'no' && r.metrics.shutdownMs != null ? `${fmt(r.metrics.shutdownMs, 'ms')} (gave up: unclean)` : (r.metrics.shutdownMs ?? null)), 'ms'],
  ['unavailable partition-time', (r) => perSecond(r.metrics.unavailablePartitionMs), 'partition·s'],
  ['max unavailable partitions', (r) => r.metrics.maxUnavailablePartitions, 'partitions'],
  ['max divergence', (r) => r.metrics.divergence.maxPartitions, 'partitions'],
  ['divergence integral', (r) => perSecond(r.metrics.divergence.partitionMs), 'partition·s'],
  ['phantom states', (r) => r.metrics.divergence.phantomStates, 'states'],
  ['converged at', convergedAt, 'ms'],
  ['split brain', (r) => r.metrics.splitBrainMs, 'ms'],
  ['simulated time', (r) => r.simMs, 'ms'],
  ['events', (r) => r.events, ''],
  ['wall time', (r) => r.wallMs, 'ms'],
  ['trace hash', (r) => r.traceHash, ''],
];

/**
 * "converged at": a time, or why there is none in words (the JSON keeps null and
 * extra.divergenceAfterFault says which).
 */
function convergedAt(r: RunResult): number | string | null {
  const at = r.metrics.divergence.convergedAtMs;
  if (at !== null) return at;
  switch (r.extra['divergenceAfterFault']) {
    case 'none':
      return 'never diverged';
    case 'diverged':
      return 'still diverged at the end';
    default:
      return r.metrics.divergence.maxPartitions === null ? null : 'no main fault';
  }
}

/** Why a run ended, in words. */
export function stopWords(r: RunResult): string {
  const d = r.stop.detail;
  switch (r.stop.reason) {
    case 'stopped':
      return d === '' ? 'ended: the model stopped it' : `ended: ${d}`;
    case 'time-limit':
      return `ended: reached the simulated-time limit (${fmt(r.simMs, 'ms')}; see --until)`;
    case 'quiescent':
      return 'ended: nothing left to simulate';
    case 'violation':
      return 'ended: a property was violated';
    case 'event-limit':
      return 'ended: reached the event limit';
    default:
      return `ended: ${r.stop.reason}${d === '' ? '' : ` (${d})`}`;
  }
}

export function fmt(v: number | string | null, unit: string): string {
  if (v === null) return '—';
  if (typeof v === 'string') return v;
  const n = Number.isInteger(v) ? v.toLocaleString('en-US') : v.toLocaleString('en-US', { maximumFractionDigits: 1 });
  return unit === '' ? n : `${n} ${unit}`;
}

/** Side-by-side table of one or more runs (one column per mode), then properties and any violation. */
export function renderTerminal(runs: readonly RunResult[]): string {
  const out: string[] = [];
  const first = runs[0];
  if (first === undefined) return '';
  out.push(chalk.bold(`${first.scenario}  seed ${first.seed}`));
  const heads = runs.map((r) => r.mode ?? 'run');
  const rows = ROWS.filter(([, get]) => runs.some((r) => get(r) !== null));
  const labelW = Math.max(...rows.map(([l]) => l.length));
  const cells = rows.map(([, get, unit]) => runs.map((r) => fmt(get(r), unit)));
  const colW = heads.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  out.push(`${''.padEnd(labelW)}  ${heads.map((h, i) => chalk.bold(h.padStart(colW[i]!))).join('  ')}`);
  rows.forEach(([label], ri) => out.push(`${label.padEnd(labelW)}  ${cells[ri]!.map((c, i) => c.padStart(colW[i]!)).join('  ')}`));
  for (const r of runs) {
    const tag = r.mode === null ? '' : `[${r.mode}] `;
    const held = r.invariants.filter((i) => i.violations === 0).length;
    out.push(`${tag}properties: ${held}/${r.invariants.length} held (${r.invariants.reduce((a, i) => a + i.checks, 0).toLocaleString('en-US')} checks); ${stopWords(r)}`);
    if (r.violation !== null) {
      out.push(chalk.red(`${tag}VIOLATION ${r.violation.invariant} at ${r.violation.atMs} ms: ${r.violation.detail}`));
      out.push(`${tag}replay: ${r.violation.replay}`);
    }
  }
  return out.join('\n');
}
