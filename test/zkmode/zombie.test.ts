import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { run, zombie } from './run.ts';

describe('zombie controller', () => {
  it('the paused controller is replaced; its ZK writes are fenced; split brain is measured; the cluster converges', () => {
    const r = run(zombie, { partitions: 4000 });
    expect(r.violation).toBeNull();
    expect(r.stop.reason).toBe('stopped');
    expect(r.extra['zk.controller.epoch']).toBe(2);
    expect(r.extra['zk.controller.fenced.writes'] as number).toBeGreaterThan(0);
    expect(r.metrics.splitBrainMs!).toBeGreaterThan(0);
    expect(r.extra['healthyAtEnd']).toBe('yes');
  });

  it('KAFKA-6082: without the epoch CheckOp the zombie writes after the new epoch (invariant trips)', () => {
    const ok = run(zombie, { partitions: 20000, 'pause.ms': 21000 });
    expect(ok.violation).toBeNull();
    const bug = run(zombie, { partitions: 20000, 'pause.ms': 21000, bugs: 'KAFKA-6082' });
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
