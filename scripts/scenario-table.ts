/**
 * Runs every library scenario in both modes at 200k and 2M partitions (seed 42), one run at a
 * time through the CLI's --json, and prints a Markdown table for the README.
 *
 *   npx tsx scripts/scenario-table.ts [--only <text>] [--sizes 200000,2000000] [--seed 42] [--dry-run]
 *
 * Progress goes to stderr; the table to stdout. Runs that end with a violation or without
 * recovering say so in their row.
 */
import { spawnSync } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

interface Entry {
  readonly name: string;
  readonly file: string;
  readonly sets: readonly string[];
}

const LIBRARY: readonly Entry[] = [
  { name: 'controller-failover', file: 'scenarios/controller-failover.ts', sets: [] },
  { name: 'controlled-shutdown', file: 'scenarios/controlled-shutdown.ts', sets: [] },
  { name: 'broker-crash', file: 'scenarios/broker-crash.ts', sets: [] },
  { name: 'broker-bounce', file: 'scenarios/broker-bounce.ts', sets: [] },
  { name: 'network-partition (controller-isolated)', file: 'scenarios/network-partition.ts', sets: ['variant=controller-isolated'] },
  { name: 'network-partition (controller-from-quorum)', file: 'scenarios/network-partition.ts', sets: ['variant=controller-from-quorum'] },
  { name: 'network-partition (broker-from-controller)', file: 'scenarios/network-partition.ts', sets: ['variant=broker-from-controller'] },
  { name: 'rolling-restart', file: 'scenarios/rolling-restart.ts', sets: [] },
  { name: 'clock-skew', file: 'scenarios/clock-skew.ts', sets: [] },
  { name: 'flapping-link', file: 'scenarios/flapping-link.ts', sets: [] },
];

type Nullable = number | null | undefined;
interface Run {
  mode: string;
  metrics: {
    recoveryMs: Nullable;
    phases: { detectMs: Nullable; electMs: Nullable; loadMs: Nullable; propagateMs: Nullable };
    maxUnavailablePartitions: number;
    divergence: { maxPartitions: number };
    shutdownMs?: Nullable;
  };
  extra: Record<string, number | string | null>;
  stop: { reason: string; detail: string };
  violation: { invariant?: string; name?: string; atMs?: number } | null;
  wallMs: number;
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const seed = arg('--seed') ?? '42';
const sizes = (arg('--sizes') ?? '200000,2000000').split(',').map(Number);
const only = arg('--only');
const dry = process.argv.includes('--dry-run');
const modes = ['zk', 'kraft'];

const ms = (v: Nullable): string => (v === null || v === undefined ? '—' : Math.round(v).toLocaleString('en-US'));
const count = (v: number): string => v.toLocaleString('en-US');

function headline(e: Entry, r: Run): string {
  if (e.name === 'controlled-shutdown') return `shutdown ${ms(r.metrics.shutdownMs)}`;
  if (e.name === 'rolling-restart') return `roll ${ms(r.extra['rollingRestartMs'] as Nullable)} (recovery ${ms(r.metrics.recoveryMs)})`;
  return ms(r.metrics.recoveryMs);
}

function note(r: Run): string {
  if (r.violation !== null) return ` ⚠ ${r.violation.invariant ?? r.violation.name ?? 'violation'} at ${ms(r.violation.atMs)} ms`;
  if (r.stop.reason !== 'stopped') return ` (run ended: ${r.stop.reason})`;
  return '';
}

const rows: string[] = [];
for (const e of LIBRARY) {
  if (only !== undefined && !e.name.includes(only)) continue;
  for (const p of sizes) {
    for (const mode of modes) {
      const sets = [...e.sets, ...(p === 200_000 ? [] : [`partitions=${p}`])];
      const args = ['bin/sim.js', 'run', e.file, '--seed', seed, '--mode', mode, ...sets.flatMap((s) => ['--set', s])];
      const command = `node ${args.join(' ')}`;
      if (dry) {
        rows.push(`| ${e.name} | ${count(p)} | ${mode} | | | | | \`${command}\` |`);
        continue;
      }
      process.stderr.write(`${command} … `);
      const out = spawnSync(process.execPath, [...args, '--json'], { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
      let run: Run | undefined;
      try {
        run = (JSON.parse(out.stdout) as { runs: Run[] }).runs[0];
      } catch {
        run = undefined;
      }
      if (run === undefined) {
        process.stderr.write(`failed (exit ${out.status}): ${out.stderr.trim().split('\n')[0] ?? ''}\n`);
        rows.push(`| ${e.name} | ${count(p)} | ${mode} | error: ${(out.stderr.trim().split('\n')[0] ?? '').replace(/\|/g, '/')} | | | | \`${command}\` |`);
        continue;
      }
      process.stderr.write(`${ms(run.wallMs)} ms wall\n`);
      const ph = run.metrics.phases;
      rows.push(
        `| ${e.name} | ${count(p)} | ${mode} | ${headline(e, run)}${note(run)} | ${ms(ph.detectMs)} / ${ms(ph.electMs)} / ${ms(ph.loadMs)} / ${ms(ph.propagateMs)} | ${count(run.metrics.maxUnavailablePartitions)} | ${count(run.metrics.divergence.maxPartitions)} | \`${command}\` |`,
      );
    }
  }
}

process.stdout.write(
  [
    '| scenario | partitions | mode | recovery (or shutdown) ms | detect / elect / load / propagate ms | max unavailable | max divergence | command |',
    '|---|---:|---|---:|---|---:|---:|---|',
    ...rows,
    '',
  ].join('\n'),
);
