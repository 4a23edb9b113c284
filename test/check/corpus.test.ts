import { describe, expect, it } from 'vitest';
import { runCheck } from '../../sim/check.ts';

describe('the safety corpus (what `sim check` runs, on the run pool\'s worker threads)', () => {
  it('holds every safety and liveness property on every scenario, mode and seed', async () => {
    const lines = await runCheck({});
    const failures = lines.flatMap((l) => l.failures.map((f) => `${f.invariant} at ${f.atMs} ms: ${f.detail} — ${f.replay}`));
    expect(failures).toEqual([]);
    // Every scenario file of the corpus ran, in every mode it has.
    expect(lines.map((l) => `${l.file} ${l.mode ?? '-'}`)).toEqual([
      'scenarios/ping.ts -',
      'scenarios/swarm.ts zk',
      'scenarios/swarm.ts kraft',
      'scenarios/controller-failover.ts zk',
      'scenarios/controller-failover.ts kraft',
      'scenarios/zombie-controller.ts zk',
      'scenarios/controlled-shutdown.ts zk',
      'scenarios/controlled-shutdown.ts kraft',
    ]);
    // CI runs the corpus through the sweep engine at a size that finds bugs, not a token one.
    expect(lines.reduce((n, l) => n + l.runs, 0)).toBeGreaterThanOrEqual(500);
  });
});
