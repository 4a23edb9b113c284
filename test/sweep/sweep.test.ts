import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPool, type JobOutcome, type RunJob } from '../../sim/pool.ts';
import { expectUsageError, scratch, sim, simAll, simHereAll, spawnSim, type Ran } from '../cli/spawn.ts';

const SWARM = 'scenarios/swarm.ts';

type Line = Record<string, unknown> & { seed: number; mode: string | null; traceHash: string; wallMs?: number };

function readLines(file: string): Line[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Line);
}

/** The runs of a file, keyed and in a fixed order, without the one field that is wall time. */
function byKey(lines: readonly Line[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const sorted = [...lines].sort((a, b) => a.seed - b.seed || String(a.mode).localeCompare(String(b.mode)));
  for (const l of sorted) {
    const { wallMs: _wall, ...rest } = l;
    out[`${l.seed}/${l.mode ?? '-'}`] = rest;
  }
  return out;
}

async function inline(jobs: RunJob[], workers: number | 'inline'): Promise<Map<string, string>> {
  const hashes = new Map<string, string>();
  await runPool(jobs, {
    workers,
    onOutcome: (job: RunJob, o: JobOutcome) => {
      if (!o.ok) throw new Error(o.message);
      hashes.set(`${job.seed}/${job.mode ?? '-'}`, o.result.traceHash);
    },
  });
  return hashes;
}

describe('sim sweep and sim merge', () => {
  const dir = scratch();
  const at = (name: string): string => join(dir.dir, name);
  let whole: Line[] = [];
  let wholeSummary: unknown;
  // The same seeds swept whole and in three shards (shard i of 3 holds seeds i+1 and i+4), once for
  // the tests below that compare them.
  let shards: Ran[] = [];
  beforeAll(async () => {
    const [r, ...s] = await simAll(
      [
        ['sweep', SWARM, '--seeds', '1..6', '--workers', '2', '--out', at('all.jsonl'), '--json'],
        ...[0, 1, 2].map((i) => ['sweep', SWARM, '--seeds', '1..6', '--shard', `${i}/3`, '--workers', '1', '--out', at(`s${i}.jsonl`)]),
      ],
      4,
    );
    expect(r!.code, r!.stderr).toBe(0);
    wholeSummary = JSON.parse(r!.stdout);
    whole = readLines(at('all.jsonl'));
    shards = s;
  });
  afterAll(() => dir.remove());

  it('writes one line per run of every seed and mode', () => {
    expect(Object.keys(byKey(whole))).toEqual(['1/kraft', '1/zk', '2/kraft', '2/zk', '3/kraft', '3/zk', '4/kraft', '4/zk', '5/kraft', '5/zk', '6/kraft', '6/zk']);
    expect(whole).toHaveLength(12);
  });

  it('n shards merged equal one unsharded sweep, result for result, with the same summary', async () => {
    for (const s of shards) expect(s.code, s.stderr).toBe(0);
    // Every n-th seed: shard 1 of 3 holds seeds 2 and 5.
    expect([...new Set(readLines(at('s1.jsonl')).map((l) => l.seed))].sort()).toEqual([2, 5]);
    const m = await sim('merge', at('s0.jsonl'), at('s1.jsonl'), at('s2.jsonl'), '--json', '--out', at('merged.jsonl'));
    expect(m.code, m.stderr).toBe(0);
    expect(JSON.parse(m.stdout)).toEqual(wholeSummary);
    expect(byKey(readLines(at('merged.jsonl')))).toEqual(byKey(whole));
    // The same file twice is one sweep: duplicates that agree are merged.
    const twice = await sim('merge', at('all.jsonl'), at('merged.jsonl'), '--json');
    expect(JSON.parse(twice.stdout)).toEqual(wholeSummary);
  });

  it('gives a seed the same trace hash inline, in a worker thread and in a shard', async () => {
    const jobs: RunJob[] = [4, 5].flatMap((seed) => (['zk', 'kraft'] as const).map((mode) => ({ file: SWARM, seed, mode, sets: [] })));
    const onThisThread = await inline(jobs, 'inline');
    const inWorker = await inline(jobs, 1);
    // Seed 4 ran in shard 0 of 3, seed 5 in shard 1 of 3.
    for (const s of shards.slice(0, 2)) expect(s.code, s.stderr).toBe(0);
    const inShard = new Map([...readLines(at('s0.jsonl')), ...readLines(at('s1.jsonl'))].map((l) => [`${l.seed}/${l.mode}`, l.traceHash]));
    const fromWhole = new Map(whole.filter((l) => l.seed === 4 || l.seed === 5).map((l) => [`${l.seed}/${l.mode}`, l.traceHash]));
    expect(onThisThread.size).toBe(4);
    for (const [k, h] of onThisThread) {
      expect(inWorker.get(k), k).toBe(h);
      expect(inShard.get(k), k).toBe(h);
      expect(fromWhole.get(k), k).toBe(h);
    }
  });

  it('--resume cuts a torn last line and runs only what is missing', async () => {
    const text = readFileSync(at('all.jsonl'), 'utf8').split('\n');
    // Five finished runs and half of the sixth, as a kill in the middle of a write leaves them.
    writeFileSync(at('torn.jsonl'), `${text.slice(0, 5).join('\n')}\n${text[5]!.slice(0, 40)}`);
    const r = await sim('sweep', SWARM, '--seeds', '1..6', '--workers', '1', '--resume', '--out', at('torn.jsonl'), '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('7 runs made (5 already in');
    const after = readLines(at('torn.jsonl'));
    expect(after).toHaveLength(12);
    expect(byKey(after)).toEqual(byKey(whole));
    expect(JSON.parse(r.stdout)).toEqual(wholeSummary);
  });

  it('loses no finished run when killed mid-sweep (SIGKILL), and --resume completes it', async () => {
    const file = at('killed.jsonl');
    const run = spawnSim({}, 'sweep', 'scenarios/ping.ts', '--seeds', '1..100000', '--workers', '1', '--out', file);
    let n = 0;
    for (let i = 0; i < 600 && n < 8; i++) {
      await new Promise((r) => setTimeout(r, 50));
      try {
        n = readFileSync(file, 'utf8').split('\n').length - 1;
      } catch {
        n = 0;
      }
    }
    run.child.kill('SIGKILL');
    const ended = await run.result;
    expect(ended.signal).toBe('SIGKILL');
    // Every run that finished before the kill is in the file, whole, with the run's own hash.
    const text = readFileSync(file, 'utf8');
    const complete = text.slice(0, text.lastIndexOf('\n') + 1);
    const kept = complete.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Line);
    expect(kept.length).toBeGreaterThanOrEqual(8);
    // One worker finishes runs in seed order: the kept lines are seeds 1..k, none missing.
    expect(kept.map((l) => l.seed)).toEqual(kept.map((_, i) => i + 1));
    const last = kept.length + 3;
    const reference = await inline(Array.from({ length: last }, (_, i) => ({ file: 'scenarios/ping.ts', seed: i + 1, mode: null, sets: [] })), 'inline');
    for (const l of kept) expect(l.traceHash, `seed ${l.seed}`).toBe(reference.get(`${l.seed}/-`));
    const r = await sim('sweep', 'scenarios/ping.ts', '--seeds', `1..${last}`, '--workers', '1', '--resume', '--out', file);
    expect(r.code, r.stderr).toBe(0);
    const all = readLines(file);
    expect(all.map((l) => l.seed).sort((a, b) => a - b)).toEqual(Array.from({ length: last }, (_, i) => i + 1));
    for (const l of all) expect(l.traceHash, `seed ${l.seed}`).toBe(reference.get(`${l.seed}/-`));
  });

  it('refuses, in one line with exit 2, what it cannot sweep or merge', async () => {
    writeFileSync(at('garbage.jsonl'), '{"scenario": "swarm"}\n');
    writeFileSync(at('notjson.jsonl'), 'hello\n');
    const one = readFileSync(at('all.jsonl'), 'utf8').split('\n')[0]!;
    const forged = JSON.parse(one) as Line;
    writeFileSync(at('conflict.jsonl'), `${JSON.stringify({ ...forged, traceHash: '0000000000000000' })}\n`);
    writeFileSync(at('cut.jsonl'), `${one.slice(0, 30)}`);
    const cases: string[][] = [
      ['sweep', SWARM, '--seeds', '1..2', '--shard', '3/2'],
      ['sweep', SWARM, '--seeds', '1..2', '--shard', 'a/b'],
      ['sweep', SWARM, '--seeds', '1..2', '--shard', '0/0'],
      ['sweep', SWARM, '--seeds', '5..1'],
      ['sweep', SWARM, '--seeds', '9007199254740990..9007199254740993'],
      ['sweep', SWARM, '--seeds', '1..2', '--workers', '0'],
      ['sweep', SWARM, '--seeds', '1..2', '--out', at('all.jsonl')],
      ['sweep', SWARM, '--seeds', '1..2', '--set', 'partitions=1000', '--resume', '--out', at('all.jsonl')],
      ['sweep', SWARM, '--seeds', '1..2', '--resume'],
      ['merge', at('garbage.jsonl')],
      ['merge', at('notjson.jsonl')],
      ['merge', at('all.jsonl'), at('conflict.jsonl')],
      ['merge', at('cut.jsonl')],
      ['merge', at('no-such.jsonl')],
      ['merge', at('all.jsonl'), '--out', at('all.jsonl')],
    ];
    // What the CLI says and returns, in this process (simHere): refused before any run or thread.
    const runs = await simHereAll(cases);
    const lines = runs.map((r) => expectUsageError(r));
    expect(lines[0]).toContain('--shard 3/2');
    expect(lines[3]).toContain('5..1');
    expect(lines[4]).toContain('2^53');
    expect(lines[5]).toContain('--workers');
    expect(lines[6]).toContain('--resume');
    expect(lines[7]).toContain('another sweep');
    expect(lines[11]).toContain('differs between');
    expect(lines[12]).toContain('cut short');
    expect(lines[14]).toContain('one of the files being merged');
  });
});
