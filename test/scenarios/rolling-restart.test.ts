import { describe, expect, it } from 'vitest';
import { runOnce } from '../../sim/run.ts';
import rolling from '../../scenarios/rolling-restart.ts';

describe('rolling-restart', () => {
  // ZK mode failed here before the controller dropped dead brokers from its shutting-down set and
  // leaders re-checked ISR expansion when a follower resumed fetching: the first broker never
  // rejoined its ISRs and the roll stopped after it.
  it.each(['zk', 'kraft'] as const)('%s: every broker is stopped, restarted and back in every ISR, one after the other', (mode) => {
    const r = runOnce({ file: 'scenarios/rolling-restart.ts', scenario: rolling, seed: 1, mode, overrides: { partitions: 3000, brokers: 4 }, untilUs: 2 * 3600 * 1e6 });
    expect(r.violation).toBeNull();
    expect(r.extra['brokersRestarted']).toBe(4);
    const total = r.extra['rollingRestartMs'];
    expect(typeof total).toBe('number');
    // Each broker was down at least restart.ms, one after the other.
    expect(total as number).toBeGreaterThan(4 * 5000);
    expect(r.stop.reason).toBe('stopped');
    expect(r.metrics.shutdownMs).toBeGreaterThan(0);
  });
});
