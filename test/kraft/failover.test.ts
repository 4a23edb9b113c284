import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { kraft } from './harness.ts';

const crashActive = { steps: [{ atMs: 5000, action: { type: 'crash' as const, node: '@activeController' }, main: true }] };

describe('KRaft controller failover', () => {
  it('a standby takes over through fetch timeout, election and the new epoch\'s first commit', () => {
    for (let seed = 1; seed <= 6; seed++) {
      const c = kraft(seed);
      const before = c.h.activeController()!;
      const out = c.run(60_000, crashActive);
      expect(c.sim.props.violation, `seed ${seed}`).toBeNull();
      expect(out.reason).toBe('stopped'); // recovered and settled
      const after = c.h.activeController()!;
      expect(after).not.toBe(before);
      expect(c.h.controllerOf(after)!.epoch).toBeGreaterThan(1);
      const m = c.h.tracker.metrics();
      // Detection is the followers' fetch timeout, counted from their last successful (long-poll) fetch.
      expect(m.phases.detectMs!).toBeGreaterThan(2000 - 500 - 50);
      expect(m.phases.detectMs!).toBeLessThanOrEqual(2000);
      // An election needs at least one Vote round trip; a split vote costs an election timeout more.
      expect(m.phases.electMs!).toBeGreaterThan(0);
      expect(m.phases.loadMs).toBe(0);
      // (Phases are rounded to the µs: allow the rounding of their sum.)
      expect(m.recoveryMs!).toBeGreaterThanOrEqual(m.phases.detectMs! + m.phases.electMs! - 1e-6);
    }
  });

  it('works in combined mode too (the active controller is also a broker)', () => {
    for (let seed = 1; seed <= 3; seed++) {
      const c = kraft(seed, { 'kraft.combined': true });
      expect(c.h.activeController()?.name ?? 'broker-0').toBe('broker-0');
      const out = c.run(90_000, crashActive);
      expect(c.sim.props.violation, `seed ${seed}`).toBeNull();
      expect(out.reason).toBe('stopped');
      // The crashed combined node was a broker: its partitions moved after the session timeout.
      const m = c.h.tracker.metrics();
      expect(m.maxUnavailablePartitions!).toBeGreaterThan(0);
      expect(c.h.tracker.unavailable).toBe(0);
    }
  });

  it('elects a first leader from a cold start', () => {
    for (let seed = 1; seed <= 3; seed++) {
      const c = kraft(seed, { 'kraft.cold.start': true });
      c.run(8000);
      expect(c.sim.props.violation).toBeNull();
      expect(c.h.activeController()).not.toBeNull();
      expect(c.h.tracker.activeControllers).toBe(1);
    }
  });

  it('gives the same trace hash for the same seed, in one process and in two', () => {
    const hashOf = (): string => {
      const c = kraft(42);
      c.run(60_000, crashActive);
      return c.sim.trace.hash();
    };
    expect(hashOf()).toBe(hashOf());
    const other = kraft(43);
    other.run(60_000, crashActive);
    expect(other.sim.trace.hash()).not.toBe(hashOf());
    const root = fileURLToPath(new URL('../..', import.meta.url));
    expect(existsSync(`${root}/scenarios/controller-failover.ts`)).toBe(true);
    const cli = (): string => {
      const r = spawnSync('node', ['bin/sim.js', 'run', 'scenarios/controller-failover.ts', '--mode', 'kraft', '--seed', '42', '--set', 'partitions=20000', '--json'], { cwd: root, encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0' } });
      expect(r.status, r.stderr).toBe(0);
      const run = (JSON.parse(r.stdout) as { runs: { traceHash: string; violation: unknown }[] }).runs[0]!;
      expect(run.violation).toBeNull();
      return run.traceHash;
    };
    expect(cli()).toBe(cli());
  });
});
