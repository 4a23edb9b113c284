import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runOnce } from '../../sim/run.ts';
import { describe, expect, it } from 'vitest';
import { run, zombie } from './run.ts';

const n = (v: unknown): number => v as number;

describe('zombie controller', () => {
  it('paused with requests queued in its send threads: on resume they still go out until it resigns; brokers that saw the new epoch reject them, the others apply them', () => {
    const r = run(zombie, {});
    expect(r.violation).toBeNull();
    expect(r.stop.reason).toBe('stopped');
    expect(r.extra['zk.controller.epoch']).toBe(2);
    expect(r.extra['zk.controller.broker']).not.toBe(0);
    // The late requests exist, and both fences are exercised: rejected where epoch 2 was seen,
    // applied where it was not (the zombie's own broker, which the new controller treats as dead).
    expect(n(r.extra['zk.broker.rejected.stale.controller'])).toBeGreaterThan(0);
    expect(n(r.extra['zk.broker.accepted.old.controller.requests'])).toBeGreaterThan(0);
    expect(n(r.extra['zk.broker.accepted.old.controller.states'])).toBeGreaterThan(0);
    // Resume → resignation takes the ZooKeeper client's reconnect (ClientCnxn sleeps < 1 s first).
    expect(r.metrics.splitBrainMs!).toBeGreaterThan(0);
    expect(r.metrics.splitBrainMs!).toBeLessThan(1_100);
    // Every state the zombie sent had been committed: stale, never phantom.
    expect(r.metrics.divergence.phantomStates).toBe(0);
    expect(r.extra['healthyAtEnd']).toBe('yes');
  });

  it('its send threads send between resume and resignation (late requests exist), and the old epoch sends nothing after it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'zombie-'));
    try {
      const file = join(dir, 't.jsonl');
      runOnce({ file: 'test', scenario: zombie, seed: 7, mode: 'zk', overrides: {}, untilUs: 30 * 60 * 1_000_000, traceFile: file });
      const recs = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { tUs: number; kind: string; node: string; label: string; detail?: string });
      const resume = recs.find((r) => r.kind === 'fault' && r.label === 'resume')!;
      const resign = recs.find((r) => r.kind === 'state' && r.label === 'controller.resign' && r.node === resume.node)!;
      expect(resign.tUs).toBeGreaterThan(resume.tUs);
      const control = (r: { kind: string; node: string; label: string }) => r.kind === 'send' && r.node === resume.node && (r.label === 'LeaderAndIsr' || r.label === 'UpdateMetadata');
      const late = recs.filter((r) => control(r) && r.tUs >= resume.tUs && r.tUs <= resign.tUs);
      expect(late.length).toBeGreaterThan(0);
      expect(recs.filter((r) => control(r) && r.tUs > resign.tUs)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('resuming while the new controller still loads, every broker applies the late requests; paused mid-writes instead, it resigns before sending any', () => {
    const early = run(zombie, { 'pause.ms': 22_000 });
    expect(early.violation).toBeNull();
    expect(early.extra['zk.broker.rejected.stale.controller']).toBe(0);
    const base = run(zombie, {});
    expect(n(early.extra['zk.broker.accepted.old.controller.requests'])).toBeGreaterThan(n(base.extra['zk.broker.accepted.old.controller.requests']));
    // The old trigger: the pause hits while its partition-state writes are in flight; they are fenced
    // and ControllerMovedException makes it resign before the send threads get anything.
    const mid = run(zombie, { 'pause.on': 'delay', 'pause.after.ms': 300 });
    expect(mid.violation).toBeNull();
    expect(n(mid.extra['zk.controller.fenced.writes'])).toBeGreaterThan(0);
    expect(mid.extra['zk.broker.rejected.stale.controller']).toBe(0);
    expect(mid.extra['zk.broker.accepted.old.controller.requests']).toBe(0);
  });

  it('KAFKA-6082: without the epoch CheckOp the zombie writes after the new epoch (invariant trips)', () => {
    const mid = { 'pause.on': 'delay', 'pause.after.ms': 300, 'pause.ms': 21_000 };
    const ok = run(zombie, mid);
    expect(ok.violation).toBeNull();
    const bug = run(zombie, { ...mid, bugs: 'KAFKA-6082' });
    expect(bug.violation?.invariant).toBe('zk.one-controller-writes-per-epoch');
  });

  it('same trace hash in two processes', () => {
    const args = ['bin/sim.js', 'run', 'scenarios/zombie-controller.ts', '--seed', '42', '--json', '--set', 'partitions=2000'];
    const a = spawnSync('node', args, { cwd: process.cwd(), encoding: 'utf8' });
    const b = spawnSync('node', args, { cwd: process.cwd(), encoding: 'utf8' });
    const ha = JSON.parse(a.stdout).runs[0].traceHash;
    const hb = JSON.parse(b.stdout).runs[0].traceHash;
    expect(ha).toBe(hb);
    expect(ha).toMatch(/^[0-9a-f]+$/);
  }, 60_000);
});
