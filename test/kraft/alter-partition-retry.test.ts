import { describe, expect, it } from 'vitest';
import { kraft } from './harness.ts';

/**
 * A restarted broker is unfenced and fetches; its leaders propose it back into their ISRs with
 * AlterPartition. When every broker → controller message is lost for 800 ms just then, those
 * requests vanish unanswered. Kafka's alter-partition channel (retryTimeoutMs = ∞) sends them again
 * after controller.socket.timeout.ms; the partitions must not stay pending (and short of a replica)
 * for good. The run's settle time is raised so that the verdict does not stop it first.
 */
describe('KRaft AlterPartition lost on its way to the controller', () => {
  it('is proposed again after controller.socket.timeout.ms, and every ISR gets the broker back', () => {
    const c = kraft(1, { partitions: 6000, 'settle.ms': 100_000_000 });
    const t = c.h.tracker;
    const b = 2;
    const outOfIsr = (): number => {
      let n = 0;
      for (let p = 0; p < t.truth.size; p++) if (t.truth.slotOf(p, b) >= 0 && !t.truth.isrHas(p, b)) n++;
      return n;
    };
    c.run(20_000, { steps: [{ atMs: 5000, action: { type: 'crash', node: `broker-${b}` } }, { atMs: 20_000, action: { type: 'restart', node: `broker-${b}` } }] });
    let unfencedMs = -1;
    for (let ms = 20_000; ms < 40_000 && unfencedMs < 0; ms += 10) {
      c.run(ms);
      if (t.isServing(b)) unfencedMs = ms;
    }
    expect(unfencedMs).toBeGreaterThan(0);
    expect(outOfIsr()).toBeGreaterThan(0);
    const brokerIds = new Set(c.h.brokers.map((n) => n.id));
    const controllers = c.sim.nodes.filter((n) => !brokerIds.has(n.id));
    for (const ctl of controllers) for (const id of brokerIds) c.sim.net.setLinkFault(id, ctl.id, { drop: 1 });
    c.run(unfencedMs + 800);
    c.sim.net.clearLinkFaults();
    c.run(unfencedMs + 120_000);
    expect(c.sim.props.violation).toBeNull();
    expect(outOfIsr()).toBe(0);
  });
});
