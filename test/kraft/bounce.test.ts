import { describe, expect, it } from 'vitest';
import { kraft } from './harness.ts';

/**
 * A broker that is not a controller is killed and restarted 20 s later. Its disk still holds the
 * snapshot and log it had, which name it leader of partitions the controller has since moved away
 * (it was fenced after broker.session.timeout.ms). MetadataLoader publishes nothing before it has
 * caught up to the high watermark (stillNeedToCatchUp), so the restarted broker never believes it
 * leads a partition another live broker leads.
 */
describe('a bounced KRaft broker', () => {
  it('publishes no stale image: no partition has two live self-believed leaders', () => {
    for (let seed = 1; seed <= 3; seed++) {
      const c = kraft(seed, { partitions: 6000 });
      const t = c.h.tracker;
      const b = 2;
      let led = 0;
      for (let p = 0; p < t.truth.size; p++) if (t.truth.leader[p] === b) led++;
      expect(led).toBeGreaterThan(0);
      c.run(80_000, {
        steps: [
          { atMs: 5000, action: { type: 'crash', node: `broker-${b}` }, main: true },
          { atMs: 25_000, action: { type: 'restart', node: `broker-${b}` } },
        ],
      });
      expect(c.sim.props.violation).toBeNull();
      // The leaderships did move while it was down (else the test would show nothing).
      const extra = t.extra();
      expect(extra.dualLeaderPartitionsMax).toBe(0);
      // And it did come back: unfenced, caught up.
      expect(t.isServing(b)).toBe(true);
      expect(t.brokerDivergence(b)).toBe(0);
    }
  });
});
