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
      'scenarios/broker-crash.ts zk',
      'scenarios/broker-crash.ts kraft',
      'scenarios/broker-bounce.ts zk',
      'scenarios/broker-bounce.ts kraft',
      ...['controller-isolated', 'controller-from-quorum', 'broker-from-controller'].flatMap(() => ['scenarios/network-partition.ts zk', 'scenarios/network-partition.ts kraft']),
      'scenarios/rolling-restart.ts zk',
      'scenarios/rolling-restart.ts kraft',
      'scenarios/clock-skew.ts zk',
      'scenarios/clock-skew.ts kraft',
      'scenarios/flapping-link.ts zk',
      'scenarios/flapping-link.ts kraft',
    ]);
    // CI runs the corpus through the sweep engine at a size that finds bugs, not a token one.
    expect(lines.reduce((n, l) => n + l.runs, 0)).toBeGreaterThanOrEqual(500);
    // Generous: the library's runs plus 300 swarm/ping seeds on a loaded 2-core machine.
  }, 600_000);
});
