import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runCheck } from '../../sim/check.ts';
import { RECOVERY_HOLDS } from '../../sim/cluster/tracker.ts';
import type { RunResult } from '../../sim/result.ts';
import { libraryScenario } from '../library.ts';

const sum = (p: RunResult['metrics']['phases']): number => (p.detectMs ?? 0) + (p.electMs ?? 0) + (p.loadMs ?? 0) + (p.propagateMs ?? 0);

describe('the safety corpus (what `sim check` runs, on the run pool\'s worker threads)', () => {
  it('holds every safety and liveness property on every scenario, mode and seed', async () => {
    const results: RunResult[] = [];
    const lines = await runCheck({ onRun: (_done, _total, r) => results.push(r) });
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
    expect(results).toHaveLength(lines.reduce((n, l) => n + l.runs, 0));

    // cluster.recovery-holds on the scenario library (the recovery verdict, test/cluster/verdict.test.ts),
    // read from the corpus's own runs: every Kafka scenario in scenarios/, in each of its modes, has
    // it registered on every run, and it held (no failures above). In controller failover all four
    // phases are measured and add up to the recovery.
    let kafka = 0;
    for (const f of readdirSync(new URL('../../scenarios/', import.meta.url)).filter((x) => x.endsWith('.ts')).sort()) {
      const s = await libraryScenario(`scenarios/${f}`);
      if (s.modes === null || !('bugs' in s.params)) continue;
      for (const mode of s.modes) {
        const mine = results.filter((r) => r.scenario === s.name && r.mode === mode);
        expect(mine.length, `${f} ${mode}: runs in the corpus`).toBeGreaterThan(0);
        for (const r of mine) expect(r.invariants.map((i) => i.name), `${f} ${mode} seed ${r.seed}`).toContain(RECOVERY_HOLDS);
        if (f === 'controller-failover.ts') {
          for (const r of mine) {
            const p = r.metrics.phases;
            expect([p.detectMs, p.electMs, p.loadMs, p.propagateMs].every((x) => x !== null), `${mode} seed ${r.seed} phases`).toBe(true);
            expect(sum(p)).toBeCloseTo(r.metrics.recoveryMs!, 6);
          }
        }
        kafka++;
      }
    }
    expect(kafka).toBeGreaterThanOrEqual(4);
    // Generous: the library's runs plus 300 swarm/ping seeds on a loaded 2-core machine.
  }, 600_000);
});
