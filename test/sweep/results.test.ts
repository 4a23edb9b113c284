import { describe, expect, it } from 'vitest';
import { nullMetrics, type RunResult } from '../../sim/result.ts';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { digestOf, readResults, summarise, type ResultLine, type RunDigest } from '../../sim/results.ts';
import { parseSeedRange, parseShard, shardSeeds, shardSize } from '../../sim/sweep.ts';

function fullLine(seed: number, mode: 'zk' | 'kraft', recoveryMs: number | null, violated = false): ResultLine {
  const r: RunResult = {
    scenario: 't',
    mode,
    seed,
    params: { a: 1 },
    traceHash: seed.toString(16).padStart(16, '0'),
    events: 1,
    simMs: 1,
    wallMs: 1,
    stop: { reason: 'quiescent', detail: '' },
    invariants: [],
    violation: violated ? { invariant: 'x', atMs: 1, detail: 'd', replay: `replay ${seed} ${mode}`, event: { index: 0, kind: 'k', node: null, label: 'l' } } : null,
    metrics: { ...nullMetrics(), recoveryMs },
    extra: {},
  };
  return { ...r, replay: `replay ${seed} ${mode}` };
}

function line(seed: number, mode: 'zk' | 'kraft', recoveryMs: number | null, violated = false): RunDigest {
  return digestOf(fullLine(seed, mode, recoveryMs, violated));
}

describe('the sweep summary', () => {
  it('depends on the set of runs, not the order they finished in', () => {
    const runs = Array.from({ length: 40 }, (_, i) => line(i + 1, i % 2 === 0 ? 'zk' : 'kraft', (i * 37) % 101, i % 7 === 3));
    const shuffled = [...runs].sort((a, b) => (a.seed * 7919) % 41 - (b.seed * 7919) % 41);
    expect(shuffled.map((l) => l.seed)).not.toEqual(runs.map((l) => l.seed));
    expect(summarise(shuffled)).toEqual(summarise(runs));
    const s = summarise(shuffled);
    // Replays by invariant, in seed order.
    expect(s.violations).toEqual([{ invariant: 'x', runs: 6, replays: [4, 11, 18, 25, 32, 39].map((n) => `replay ${n} ${n % 2 === 1 ? 'zk' : 'kraft'}`) }]);
  });

  it('takes p50 / p95 / max by nearest rank over the runs where a figure applies', () => {
    const runs = [...Array.from({ length: 20 }, (_, i) => line(i + 1, 'zk', i + 1)), line(21, 'zk', null)];
    const zk = summarise(runs).metrics.find((m) => m.mode === 'zk')!;
    expect(zk.runs).toBe(21);
    expect(zk.figures.find((f) => f.metric === 'recoveryMs')).toEqual({ metric: 'recoveryMs', n: 20, p50: 10, p95: 19, max: 20 });
  });
});

describe('reading a results file', () => {
  it('reads line by line across chunks (multi-byte text included) and reports a torn last line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kraftsim-results-'));
    try {
      // 400 lines of ~5 KB: several 1 MiB chunks, with 'µ' (two bytes) scattered over the boundaries.
      const rows = Array.from({ length: 400 }, (_, i) => JSON.stringify({ ...fullLine(i + 1, 'zk', i), params: { pad: 'µs'.repeat(2500 + i) } }));
      const file = join(dir, 'r.jsonl');
      writeFileSync(file, `${rows.join('\n')}\n${rows[0]!.slice(0, 100)}`);
      const seeds: number[] = [];
      const r = readResults(file, { tolerateTorn: true, onLine: (l) => seeds.push(l.seed) });
      expect(seeds).toEqual(Array.from({ length: 400 }, (_, i) => i + 1));
      expect(r).toEqual({ count: 400, completeBytes: Buffer.byteLength(`${rows.join('\n')}\n`), torn: true });
      expect(() => readResults(file, { tolerateTorn: false, onLine: () => {} })).toThrow(/cut short/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('seed ranges and shards', () => {
  it('splits a range into n shards that cover every seed once', () => {
    const range = parseSeedRange('3..20');
    const seen: number[] = [];
    for (let i = 0; i < 4; i++) {
      const s = [...shardSeeds(range, parseShard(`${i}/4`))];
      expect(s).toHaveLength(shardSize(range, parseShard(`${i}/4`)));
      seen.push(...s);
    }
    expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: 18 }, (_, i) => i + 3));
    expect(parseSeedRange('7')).toEqual({ first: 1, last: 7 });
    expect([...shardSeeds(parseSeedRange('9007199254740990..9007199254740991'), null)]).toEqual([9007199254740990, 9007199254740991]);
  });
});
