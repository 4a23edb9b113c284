import { chmodSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import ping from '../../scenarios/ping.ts';
import controllerFailover from '../../scenarios/controller-failover.ts';
import { UsageError } from '../../sim/errors.ts';
import { estimateRunBytes } from '../../sim/memory.ts';
import { checkOutputTarget, openOutput } from '../../sim/output.ts';
import { defaults } from '../../sim/params.ts';
import { planProblem } from '../../sim/plan-check.ts';
import type { RunResult } from '../../sim/result.ts';
import { checkMemory, memoryLimit, runOnce, runOnceAsync } from '../../sim/run.ts';
import { renderTerminal, stopWords } from '../../reports/terminal.ts';
import { scratch } from './spawn.ts';

const s = scratch();
afterAll(() => s.remove());

describe('output helper', () => {
  it('accepts a new file in a writable directory, an existing regular file and -; refuses the rest', () => {
    const dir = join(s.dir, 'out');
    mkdirSync(dir);
    const existing = join(dir, 'old.jsonl');
    writeFileSync(existing, 'x');
    symlinkSync(existing, join(dir, 'ln'));
    const ro = join(dir, 'ro');
    writeFileSync(ro, 'x');
    chmodSync(ro, 0o400);
    expect(() => checkOutputTarget('--trace', join(dir, 'new.jsonl'))).not.toThrow();
    expect(() => checkOutputTarget('--trace', existing)).not.toThrow();
    expect(() => checkOutputTarget('--trace', '-')).not.toThrow();
    expect(() => checkOutputTarget('--trace', join(dir, 'ln'))).toThrow(/symbolic link/);
    expect(() => checkOutputTarget('--trace', dir)).toThrow(/directory/);
    expect(() => checkOutputTarget('--trace', '/dev/null')).toThrow(/device/);
    expect(() => checkOutputTarget('--trace', ro)).toThrow(/read-only/);
    expect(() => checkOutputTarget('--trace', join(dir, 'none', 'x'))).toThrow(/does not exist/);
    expect(() => checkOutputTarget('--trace', existing, [existing])).toThrow(/scenario file/);
    expect(() => checkOutputTarget('--trace', '')).toThrow(UsageError);
    // One file, two flags: refused.
    expect(() => checkOutputTarget('--report', join(dir, 'new.jsonl'))).toThrow(/--trace writes that file too/);
  });

  it('writes through a temporary file: nothing at the target until commit; discard leaves the old file', () => {
    const dir = join(s.dir, 'sink');
    mkdirSync(dir);
    const target = join(dir, 't.jsonl');
    writeFileSync(target, 'old\n');
    const a = openOutput('--trace', target);
    a.write('{"a":1}');
    expect(readFileSync(target, 'utf8')).toBe('old\n');
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toHaveLength(1);
    a.discard();
    expect(readFileSync(target, 'utf8')).toBe('old\n');
    expect(readdirSync(dir)).toEqual(['t.jsonl']);
    const b = openOutput('--trace', target);
    b.write('{"b":2}');
    b.commit();
    expect(readFileSync(target, 'utf8')).toBe('{"b":2}\n');
    expect(readdirSync(dir)).toEqual(['t.jsonl']);
  });
});

describe('fault plan shape', () => {
  it('names the step and the problem', () => {
    expect(planProblem({ steps: [{ atMs: 1, action: { type: 'heal' } }] })).toBeNull();
    expect(planProblem(undefined)).toMatch(/no fault plan/);
    expect(planProblem({ steps: [{ atMs: -1, action: { type: 'heal' } }] })).toMatch(/step 0: atMs must not be negative/);
    expect(planProblem({ steps: [{ atMs: NaN, action: { type: 'heal' } }] })).toMatch(/step 0: atMs must be a number/);
    expect(planProblem({ steps: [{ atMs: 1e20, action: { type: 'heal' } }] })).toMatch(/past 2\^53/);
    expect(planProblem({ steps: [{ atMs: 1, action: { type: 'heal' } }, { atMs: 2, action: { type: 'nuke' } }] })).toMatch(/step 1: unknown action type "nuke"/);
    expect(planProblem({ steps: [], triggers: [{ when: { kind: 'send' }, action: { type: 'zap' } }] })).toMatch(/trigger 0: unknown action type "zap"/);
  });
});

describe('memory estimate', () => {
  const params = defaults(controllerFailover.params);
  it('grows with partitions and brokers, ZooKeeper mode above KRaft, none for a kernel scenario', () => {
    const zk = estimateRunBytes(params, 'zk')!;
    const kraft = estimateRunBytes(params, 'kraft')!;
    expect(zk).toBeGreaterThan(kraft);
    expect(estimateRunBytes({ ...params, partitions: 2_000_000 }, 'kraft')!).toBeGreaterThan(kraft);
    expect(estimateRunBytes({ ...params, brokers: 48 }, 'kraft')!).toBeGreaterThan(kraft);
    expect(estimateRunBytes(defaults(ping.params), null)).toBeNull();
  });

  it('the estimate is at or above what was measured (controller-failover, 12 brokers, ARCHITECTURE.md)', () => {
    const measuredKB: [string, number, number][] = [
      ['kraft', 200_000, 148_100],
      ['kraft', 2_000_000, 529_044],
      ['zk', 200_000, 309_000],
      ['zk', 1_000_000, 1_128_376],
      ['zk', 2_000_000, 1_905_096],
    ];
    for (const [mode, partitions, kb] of measuredKB) {
      expect(estimateRunBytes({ ...params, partitions }, mode as 'zk' | 'kraft')!, `${mode} ${partitions}`).toBeGreaterThanOrEqual(kb * 1024);
    }
  });

  it('refuses above the limit with one line giving the estimate and the limit', () => {
    const req = { file: 'scenarios/controller-failover.ts', scenario: controllerFailover, seed: 1, mode: 'zk' as const, overrides: {}, untilUs: 1e6, memoryLimitBytes: 1e9 };
    expect(() => checkMemory(req, { ...params, partitions: 200_000 })).not.toThrow();
    expect(() => checkMemory(req, { ...params, partitions: 2_000_000 })).toThrow(/partitions=2000000 needs about 2\.\d+ GB of memory, more than 1\.00 GB \(the given limit\)/);
    expect(memoryLimit().bytes).toBeGreaterThan(0);
  });
});

describe('the run in slices', () => {
  it('runOnceAsync (slices with yields) gives the trace hash of runOnce', async () => {
    const req = { file: 'scenarios/ping.ts', scenario: ping, seed: 11, mode: null, overrides: {}, untilUs: 40_000_000 };
    const a = runOnce(req);
    const b = await runOnceAsync(req);
    expect(b.traceHash).toBe(a.traceHash);
    expect(b.events).toBe(a.events);
  });
});

describe('the end of a run in words', () => {
  const base = {
    scenario: 'x',
    mode: 'kraft' as const,
    seed: 1,
    params: {},
    traceHash: '0',
    events: 1,
    simMs: 18_105.3,
    wallMs: 1,
    invariants: [],
    violation: null,
    metrics: {
      recoveryMs: 1,
      phases: { detectMs: 1, electMs: 0, loadMs: 0, propagateMs: 0 },
      unavailablePartitionMs: 0,
      maxUnavailablePartitions: 0,
      divergence: { maxPartitions: 0, partitionMs: 0, phantomStates: 0, convergedAtMs: null },
      splitBrainMs: 0,
    },
    extra: { divergenceAfterFault: 'none' },
    stop: { reason: 'stopped', detail: '' },
  } satisfies RunResult;
  it('says why the run ended and why there is no convergence time', () => {
    expect(stopWords({ ...base, stop: { reason: 'stopped', detail: 'recovered and settled' } })).toBe('ended: recovered and settled');
    expect(stopWords({ ...base, stop: { reason: 'time-limit', detail: '' } })).toMatch(/simulated-time limit \(18,105\.3 ms; see --until\)/);
    expect(stopWords({ ...base, stop: { reason: 'quiescent', detail: '' } })).toBe('ended: nothing left to simulate');
    const table = renderTerminal([{ ...base, stop: { reason: 'stopped', detail: 'recovered and settled' } }]);
    expect(table).toMatch(/converged at\s+never diverged/);
    expect(table).not.toContain('stopped: stopped');
    const still = renderTerminal([{ ...base, stop: { reason: 'time-limit', detail: '' }, extra: { divergenceAfterFault: 'diverged' } }]);
    expect(still).toMatch(/converged at\s+still diverged at the end/);
  });
});
