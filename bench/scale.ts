/**
 * Scale benchmark (`npm run bench:scale [-- --out file.json] [-- --no-grid]`), every figure measured
 * in this one invocation, each run in a child process of its own so its peak RSS is its own:
 * - the floor (bench/scale-floor.mjs): typed-array loops doing a 2M-partition ZooKeeper-mode
 *   failover's irreducible work (set-up: allocate and touch the state; work: reload, elect, apply
 *   at every broker);
 * - controller-failover at 2M in ZooKeeper mode (against set-up + work) and KRaft (against the
 *   set-up: a hot standby has nothing to reload), wall and peak RSS;
 * - the grid: controller-failover, broker-crash, controlled-shutdown × 200k, 500k, 1M, 2M × both
 *   modes, wall per cell, total, and wall(2M) / wall(200k) per mode.
 * Wall is the run's own `wallMs` (scenario built and run, process start-up and import excluded),
 * the floor's set-up + work likewise. Targets (printed beside the figures): ZooKeeper mode ≤ 2× the
 * floor and ≤ 1 GB, KRaft ≤ 1.5× the set-up and ≤ 0.6 GB, the grid ≤ 45 s, wall(2M) / wall(200k) ≤ 11.
 */
import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { checkOutputTarget, openOutput } from '../sim/output.ts';
import { PROJECT_ROOT } from '../sim/root.ts';

// The project root from the sources or from dist/: the floor and the RSS hook are .mjs files that
// stay in bench/ (only TypeScript is built).
const root = PROJECT_ROOT;
const args = process.argv.slice(3);
const outAt = args.indexOf('--out');
const out = outAt >= 0 ? args[outAt + 1] : undefined;
if (outAt >= 0 && (out === undefined || out.startsWith('--'))) {
  process.stderr.write('bench:scale: --out needs a file name\n');
  process.exit(2);
}
const grid = !args.includes('--no-grid');
if (out !== undefined) checkOutputTarget('--out', out);

const P2M = 2_000_000;
const SIZES = [200_000, 500_000, 1_000_000, 2_000_000];
const SCENARIOS = ['controller-failover', 'broker-crash', 'controlled-shutdown'];
const MODES = ['zk', 'kraft'] as const;
const GB = 1024 * 1024;

interface Floor {
  readonly setupMs: number;
  readonly workMs: number;
  readonly maxRssKb: number;
}

interface Cell {
  readonly scenario: string;
  readonly mode: string;
  readonly partitions: number;
  readonly wallMs: number;
  readonly maxRssKb: number;
  readonly events: number;
  readonly traceHash: string;
  /** The run's recovery figures, to compare models across changes. */
  readonly recoveryMs: number | null;
  readonly phases: unknown;
  readonly shutdownMs: unknown;
}

function child(argv: readonly string[]): { stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, argv, { cwd: root, encoding: 'utf8', maxBuffer: 64 << 20, env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1' } });
  if (r.status !== 0 && r.status !== 1) throw new Error(`${argv.join(' ')}: exit ${r.status}\n${r.stderr}`);
  return { stdout: r.stdout, stderr: r.stderr };
}

function floor(): Floor {
  return JSON.parse(child([join('bench', 'scale-floor.mjs'), String(P2M)]).stdout) as Floor;
}

function cell(scenario: string, mode: string, partitions: number): Cell {
  const { stdout, stderr } = child(['--import', './bench/rss-hook.mjs', 'bin/sim.js', 'run', `scenarios/${scenario}.ts`, '--mode', mode, '--seed', '42', '--set', `partitions=${partitions}`, '--json']);
  const run = (JSON.parse(stdout) as { runs: { wallMs: number; events: number; traceHash: string; metrics: { recoveryMs: number | null; phases: unknown }; extra: Record<string, unknown> }[] }).runs[0]!;
  const rss = /BENCH_MAX_RSS_KB=(\d+)/.exec(stderr);
  const c = { scenario, mode, partitions, wallMs: run.wallMs, maxRssKb: rss !== null ? Number(rss[1]) : NaN, events: run.events, traceHash: run.traceHash, recoveryMs: run.metrics.recoveryMs, phases: run.metrics.phases, shutdownMs: run.extra['shutdownMs'] ?? null };
  process.stderr.write(`bench:scale: ${scenario} ${mode} ${partitions}: ${(c.wallMs / 1000).toFixed(1)} s, ${(c.maxRssKb / GB).toFixed(2)} GB, ${c.events} events\n`);
  return c;
}

const s = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
const gb = (kb: number): string => `${(kb / GB).toFixed(2)} GB`;
const x = (r: number): string => `${r.toFixed(1)}×`;
const k = (p: number): string => (p >= 1_000_000 ? `${p / 1_000_000}M` : `${p / 1000}k`);

const load0 = loadavg()[0]!;
const fl = floor();
process.stderr.write(`bench:scale: floor ${s(fl.setupMs)} set-up + ${s(fl.workMs)} work, ${gb(fl.maxRssKb)}\n`);
const zk = cell('controller-failover', 'zk', P2M);
const kraft = cell('controller-failover', 'kraft', P2M);
const cells: Cell[] = [];
if (grid) {
  for (const mode of MODES) {
    for (const scenario of SCENARIOS) {
      for (const p of SIZES) {
        if (scenario === 'controller-failover' && p === P2M) cells.push(mode === 'zk' ? zk : kraft);
        else cells.push(cell(scenario, mode, p));
      }
    }
  }
}
const load1 = loadavg()[0]!;

const floorMs = fl.setupMs + fl.workMs;
const lines: string[] = [];
lines.push(`Measured in one run on ${process.platform} ${process.arch}, node ${process.version}; load average ${load0.toFixed(1)} → ${load1.toFixed(1)} (a busy machine slows every figure; compare the ratios).`);
lines.push('');
lines.push('| 2M partitions, controller-failover | wall | peak RSS | ratio to its floor | target |');
lines.push('|---|---:|---:|---:|---|');
lines.push(`| floor loop: set-up (allocate, touch) + work (reload, elect, apply at every broker) | ${s(fl.setupMs)} + ${s(fl.workMs)} | ${gb(fl.maxRssKb)} | — | — |`);
lines.push(`| ZooKeeper mode (floor: set-up + work) | ${s(zk.wallMs)} | ${gb(zk.maxRssKb)} | ${x(zk.wallMs / floorMs)} | ≤ 2×, ≤ 1 GB |`);
lines.push(`| KRaft (floor: set-up) | ${s(kraft.wallMs)} | ${gb(kraft.maxRssKb)} | ${x(kraft.wallMs / fl.setupMs)} | ≤ 1.5×, ≤ 0.6 GB |`);
const summary: Record<string, unknown> = {};
if (grid) {
  lines.push('');
  lines.push(`| scenario | mode | ${SIZES.map(k).join(' | ')} |`);
  lines.push(`|---|---|${SIZES.map(() => '---:').join('|')}|`);
  let total = 0;
  for (const mode of MODES) {
    for (const scenario of SCENARIOS) {
      const row = SIZES.map((p) => cells.find((c) => c.scenario === scenario && c.mode === mode && c.partitions === p)!);
      for (const c of row) total += c.wallMs;
      lines.push(`| ${scenario} | ${mode === 'zk' ? 'ZooKeeper' : 'KRaft'} | ${row.map((c) => s(c.wallMs)).join(' | ')} |`);
    }
  }
  const ratio: Record<string, number> = {};
  for (const mode of MODES) {
    const at = (p: number): number => cells.filter((c) => c.mode === mode && c.partitions === p).reduce((a, c) => a + c.wallMs, 0);
    ratio[mode] = at(P2M) / at(SIZES[0]!);
  }
  lines.push('');
  lines.push(`Grid total ${s(total)} (target ≤ 45 s); wall(2M) / wall(200k), the three scenarios summed: ZooKeeper mode ${ratio['zk']!.toFixed(1)}, KRaft ${ratio['kraft']!.toFixed(1)} (target ≤ 11).`);
  summary['gridTotalMs'] = total;
  summary['ratio2mTo200k'] = ratio;
}
process.stdout.write(lines.join('\n') + '\n');

if (out !== undefined) {
  const sink = openOutput('--out', out);
  sink.write(JSON.stringify({ loadavg: [load0, load1], floor: fl, zk, kraft, zkToFloor: zk.wallMs / floorMs, kraftToSetup: kraft.wallMs / fl.setupMs, grid: cells, ...summary }, null, 2) + '\n');
  sink.commit();
}
