/**
 * Sweep throughput: seeds per second of the swarm scenario (both modes per seed) on the run pool
 * with 1 and then 2 worker threads, in one process, and their ratio. Wall time from the pool's
 * start to its last result, worker start-up (each thread imports the models) included, as a user
 * of `sim sweep` sees it. `npm run bench:sweep [-- <seeds>]` (default 40 seeds per pool size).
 */
import { availableParallelism, loadavg } from 'node:os';
import { runPool, type RunJob } from '../sim/pool.ts';

const seeds = Number(process.argv[3] ?? 40);
const FIRST_SEED = 1000;

function jobs(): RunJob[] {
  const out: RunJob[] = [];
  for (let seed = FIRST_SEED; seed < FIRST_SEED + seeds; seed++) {
    for (const mode of ['zk', 'kraft'] as const) out.push({ file: 'scenarios/swarm.ts', seed, mode, sets: [] });
  }
  return out;
}

async function seedsPerSecond(workers: number): Promise<{ rate: number; cores: number; hashes: string }> {
  const hashes: string[] = [];
  const start = performance.now();
  const cpu = process.cpuUsage();
  await runPool(jobs(), {
    workers,
    onOutcome: (job, o) => {
      if (!o.ok) throw new Error(`${job.seed}/${job.mode}: ${o.message}`);
      hashes.push(`${job.seed}/${job.mode}=${o.result.traceHash}`);
    },
  });
  const s = (performance.now() - start) / 1000;
  const used = process.cpuUsage(cpu);
  // CPU the process got per second of wall time: on a machine shared with other work this, not the
  // number of workers, bounds the speed-up.
  return { rate: seeds / s, cores: (used.user + used.system) / 1e6 / s, hashes: hashes.sort().join(',') };
}

process.stdout.write(`sweep bench: scenarios/swarm.ts, seeds ${FIRST_SEED}..${FIRST_SEED + seeds - 1} (zk + kraft per seed), ${availableParallelism()} cores, load average ${loadavg()[0]!.toFixed(1)} at start\n`);
const one = await seedsPerSecond(1);
process.stdout.write(`  1 worker : ${one.rate.toFixed(2)} seeds/s (${one.cores.toFixed(2)} cores busy)\n`);
const two = await seedsPerSecond(2);
process.stdout.write(`  2 workers: ${two.rate.toFixed(2)} seeds/s (${two.cores.toFixed(2)} cores busy)\n`);
if (two.hashes !== one.hashes) throw new Error('the two pool sizes gave different trace hashes');
process.stdout.write(`  ratio 2/1: ${(two.rate / one.rate).toFixed(2)} (same ${seeds * 2} trace hashes both times; load average ${loadavg()[0]!.toFixed(1)} at end)\n`);
