/**
 * `sim sweep`: one scenario over a range of seeds (and its modes) on the run pool, each finished run
 * appended to the results file as one line the moment it is known, then a summary. `--shard i/n`
 * takes every n-th seed of the range, so n machines (a CI matrix, a Kubernetes Indexed Job) split a
 * sweep with no scheduler of ours; `sim merge` summarises their files as one sweep.
 */
import { existsSync, statSync } from 'node:fs';
import { UsageError } from './errors.ts';
import { checkOutputTarget, openAppendOutput, type AppendSink } from './output.ts';
import { defaults, parseSettings, type ParamValue } from './params.ts';
import { runPool, type JobOutcome, type RunJob } from './pool.ts';
import type { Mode } from './result.ts';
import { digestOf, lineKey, readResults, summarise, sweepIdentity, type ResultLine, type RunDigest, type Summary } from './results.ts';
import type { Scenario } from './scenario.ts';

export interface SeedRange {
  readonly first: number;
  readonly last: number;
}

export interface Shard {
  readonly index: number;
  readonly count: number;
}

const MAX = Number.MAX_SAFE_INTEGER;

function seedNumber(text: string, what: string): number {
  if (!/^\d+$/.test(text)) throw new UsageError(`--seeds: ${what} must be a non-negative integer, got '${text}' (expected A..B, e.g. 1..1000)`);
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new UsageError(`--seeds: ${what} ${text} is past 2^53 − 1 (${MAX}); seeds must be exact integers`);
  return n;
}

/** `A..B` (inclusive), or `N` for 1..N. */
export function parseSeedRange(text: string): SeedRange {
  const t = text.trim();
  const m = /^(.*?)\.\.(.*)$/.exec(t);
  if (m === null) {
    const n = seedNumber(t, 'the count');
    if (n < 1) throw new UsageError('--seeds: at least one seed (expected A..B, e.g. 1..1000)');
    return { first: 1, last: n };
  }
  const first = seedNumber(m[1]!.trim(), 'the first seed');
  const last = seedNumber(m[2]!.trim(), 'the last seed');
  if (last < first) throw new UsageError(`--seeds ${t}: the range is empty (the last seed is below the first; did you mean ${last}..${first}?)`);
  return { first, last };
}

/** `i/n`: shard i of n, 0 ≤ i < n (a Kubernetes completion index, a matrix index). */
export function parseShard(text: string): Shard {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  if (m === null) throw new UsageError(`--shard expects i/n with whole numbers, shard i of n counting from 0 (e.g. 0/4), got '${text}'`);
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (!Number.isSafeInteger(count) || count < 1) throw new UsageError(`--shard ${text}: n must be at least 1`);
  if (!Number.isSafeInteger(index) || index >= count) throw new UsageError(`--shard ${text}: i must be from 0 to ${count - 1} (shards count from 0)`);
  return { index, count };
}

/** --workers: a whole number from 1 up. */
export function parseWorkers(text: string): number {
  const t = text.trim();
  const n = /^\d+$/.test(t) ? Number(t) : NaN;
  if (!Number.isSafeInteger(n) || n < 1) throw new UsageError(`--workers must be a whole number of threads, at least 1, got '${text}'`);
  return n;
}

/** The seeds of a shard: every n-th seed of the range, starting at the i-th. */
export function* shardSeeds(range: SeedRange, shard: Shard | null): Generator<number> {
  const step = shard?.count ?? 1;
  // Stepping stays exact: seeds are at most 2^53 − 1, and the loop stops before passing the last.
  for (let s = range.first + (shard?.index ?? 0); s <= range.last; s += step) {
    yield s;
    if (MAX - s < step) return;
  }
}

export function inShard(seed: number, range: SeedRange, shard: Shard | null): boolean {
  return seed >= range.first && seed <= range.last && (shard === null || (seed - range.first) % shard.count === shard.index);
}

export function shardSize(range: SeedRange, shard: Shard | null): number {
  const span = range.last - range.first;
  const i = shard?.index ?? 0;
  const n = shard?.count ?? 1;
  return i > span ? 0 : Math.floor((span - i) / n) + 1;
}

export interface SweepOptions {
  /** The scenario file as typed, already loaded here (its settings are validated before workers start). */
  readonly file: string;
  readonly scenario: Scenario;
  readonly modes: readonly (Mode | null)[];
  readonly sets: readonly string[];
  readonly seeds: SeedRange;
  readonly shard: Shard | null;
  readonly workers: number | 'inline';
  /** Results file (JSONL), '-' for stdout, or none. */
  readonly out?: string;
  readonly resume: boolean;
  readonly untilText?: string;
  readonly maxStalledEvents?: number;
  /** True when a stall is the input's doing (a scenario file of the user's, or --set): exit 2, not 70. */
  readonly stallIsUsers: boolean;
  readonly onProgress?: (done: number, total: number, violated: number) => void;
}

export interface SweepOutcome {
  readonly summary: Summary;
  readonly ran: number;
  readonly skipped: number;
}

/** The line written for a finished run; throws for outcomes that stop the sweep (bad input). */
export function lineFor(job: RunJob, o: JobOutcome, scenario: string, params: Record<string, ParamValue>, stallIsUsers: boolean): ResultLine {
  if (o.ok) return { ...o.result, replay: o.replay };
  if (o.kind === 'usage') throw new UsageError(o.message);
  if (o.kind === 'stall' && stallIsUsers) throw new UsageError(`${o.message}; raise --max-stalled-events if that many events at one instant is intended (replay: ${o.replay})`);
  return { scenario, mode: job.mode, seed: job.seed, params, replay: o.replay, error: { kind: o.kind, message: o.message.split('\n')[0]! } };
}

export async function runSweep(opts: SweepOptions): Promise<SweepOutcome> {
  const overrides = parseSettings(opts.sets, opts.scenario.params);
  const params = { ...defaults(opts.scenario.params), ...overrides };
  const identity = JSON.stringify([opts.scenario.name, params]);
  const previous: RunDigest[] = [];
  let sink: AppendSink | null = null;
  if (opts.out !== undefined) {
    checkOutputTarget('--out', opts.out, [opts.file]);
    const exists = opts.out !== '-' && existsSync(opts.out);
    let truncateTo: number | undefined;
    if (opts.resume) {
      if (opts.out === '-') throw new UsageError('--resume needs the results file of the sweep to continue: give --out <file>, not -');
      if (exists) {
        const out = opts.out;
        const r = readResults(out, {
          tolerateTorn: true,
          onLine: (l) => {
            if (sweepIdentity(l) !== identity) throw new UsageError(`--resume: ${out} holds runs of another sweep (${l.scenario === opts.scenario.name ? 'other parameters' : `scenario ${l.scenario}`}); give a new --out file`);
            previous.push(digestOf(l));
          },
        });
        if (r.torn) truncateTo = r.completeBytes;
      }
    } else if (exists && statSync(opts.out).size > 0) {
      throw new UsageError(`--out ${opts.out} already holds results: add --resume to continue that sweep, or give a new file`);
    }
    sink = openAppendOutput('--out', opts.out, truncateTo !== undefined ? { truncateTo } : {});
  }
  const done = new Set<string>();
  for (const l of previous) {
    const k = lineKey(l);
    if (done.has(k)) throw new UsageError(`--resume: ${opts.out ?? ''} holds seed ${l.seed}${l.mode !== null ? ` (${l.mode})` : ''} twice`);
    done.add(k);
  }
  const wanted = shardSize(opts.seeds, opts.shard) * opts.modes.length;
  let skipped = 0;
  function* jobs(): Generator<RunJob> {
    for (const seed of shardSeeds(opts.seeds, opts.shard)) {
      for (const mode of opts.modes) {
        if (done.has(lineKey({ seed, mode }))) {
          skipped++;
          continue;
        }
        yield {
          file: opts.file,
          seed,
          mode,
          sets: opts.sets,
          ...(opts.untilText !== undefined ? { untilText: opts.untilText } : {}),
          ...(opts.maxStalledEvents !== undefined ? { maxStalledEvents: opts.maxStalledEvents } : {}),
        };
      }
    }
  }
  const fresh: RunDigest[] = [];
  let violated = 0;
  try {
    await runPool(jobs(), {
      workers: opts.workers,
      jobCount: wanted - previous.filter((d) => inShard(d.seed, opts.seeds, opts.shard) && opts.modes.includes(d.mode)).length,
      onOutcome: (job, o) => {
        const line = lineFor(job, o, opts.scenario.name, params, opts.stallIsUsers);
        sink?.writeLine(JSON.stringify(line));
        const digest = digestOf(line);
        fresh.push(digest);
        if (digest.violation !== null) violated++;
        opts.onProgress?.(skipped + fresh.length, wanted, violated);
      },
    });
  } finally {
    sink?.close();
  }
  return { summary: summarise([...previous, ...fresh]), ran: fresh.length, skipped };
}

/** 0 every property held; 1 a run violated one; 70 a run failed with an internal error. */
export function exitCodeOf(s: Summary): number {
  return s.internalErrors > 0 ? 70 : s.violated > 0 ? 1 : 0;
}
