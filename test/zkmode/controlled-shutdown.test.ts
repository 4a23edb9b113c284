import { describe, expect, it } from 'vitest';
import type { TraceRecord } from '../../core/index.ts';
import controlledShutdown from '../../scenarios/controlled-shutdown.ts';
import type { ParamValue } from '../../sim/params.ts';
import { runOnce } from '../../sim/run.ts';
import { defineScenario } from '../../sim/scenario.ts';
import type { ZkBroker } from '../../sim/zkmode/broker.ts';

const B = 1; // the scenario's default shutdown.broker
const n = (v: unknown): number => v as number;

/**
 * scenarios/controlled-shutdown.ts as it is, observed from inside the run: the ControlledShutdown
 * sends of the broker, and the truth at the moment its process exits (the scenario crashes it on
 * broker.controlled.shutdown.done) and afterwards, polled every 50 ms.
 */
const observed = defineScenario({
  ...controlledShutdown,
  name: 'zk-controlled-shutdown-observed-test',
  build(ctx) {
    const built = controlledShutdown.build(ctx);
    const sim = ctx.sim;
    // Truth as the model committed it (the ZooKeeper leader's commits); unavailability from the run's metrics.
    const committed = () => (sim.node('broker-0').behavior as ZkBroker).controller.h.committed;
    const sends: number[] = [];
    const brokerNode = sim.node(`broker-${B}`).id;
    sim.trace.sink = (r: TraceRecord) => {
      if (r.kind === 'send' && r.label === 'ControlledShutdown' && r.node === brokerNode) sends.push(r.atUs);
    };
    const seen = { exitUs: -1, ledAtExit: -1, lastUnavailableUs: -1 };
    sim.onLifecycle((node, ev) => {
      if (node.id !== brokerNode || ev !== 'crash' || seen.exitUs >= 0) return;
      const t = committed();
      seen.exitUs = sim.nowUs;
      seen.ledAtExit = 0;
      for (let p = 0; p < t.size; p++) if (t.leader[p] === B) seen.ledAtExit++;
      // Unavailable partition-time grew since the last poll: something was unavailable in between.
      let integral = built.metrics!().unavailablePartitionMs ?? 0;
      const poll = (): void => {
        const now = built.metrics!().unavailablePartitionMs ?? 0;
        if (now > integral) seen.lastUnavailableUs = sim.nowUs;
        integral = now;
        sim.after(50_000, poll);
      };
      poll();
    });
    return {
      ...built,
      extra: () => ({
        ...built.extra!(),
        'test.sends': sends.join(','),
        'test.exitMs': seen.exitUs / 1000,
        'test.ledAtExit': seen.ledAtExit,
        'test.lastUnavailableMs': seen.lastUnavailableUs / 1000,
      }),
    };
  },
});

const run = (overrides: Record<string, ParamValue>) => runOnce({ file: 'test', scenario: observed, seed: 42, mode: 'zk', overrides, untilUs: 30 * 60 * 1_000_000 });
const sendTimesMs = (r: ReturnType<typeof run>) => (r.extra['test.sends'] as string).split(',').filter((s) => s !== '').map((s) => Number(s) / 1000);

describe('ZK-mode controlled shutdown (KafkaServer.controlledShutdown → KafkaController.doControlledShutdown)', () => {
  it('at 20k partitions: one attempt, clean; the broker leads nothing in truth when it exits, and availability returns without waiting for its session to expire', () => {
    const r = run({ partitions: 20000 });
    expect(r.violation).toBeNull();
    expect(r.stop.reason).toBe('stopped');
    expect(r.extra['shutdownClean']).toBe('yes');
    expect(sendTimesMs(r)).toHaveLength(1);
    expect(r.extra['test.ledAtExit']).toBe(0);
    // The controller answers once LeaderAndIsr is queued, not acknowledged (as Kafka does): the new
    // leaders may still be applying it when the broker exits. They do so within a few seconds —
    // well before the exited broker's session (18 s) expires — and nothing is unavailable after.
    const exitMs = n(r.extra['test.exitMs']);
    const lastUnavailableMs = n(r.extra['test.lastUnavailableMs']);
    expect(exitMs).toBeGreaterThan(0);
    expect(lastUnavailableMs - exitMs).toBeLessThan(5_000);
    expect(r.extra['unavailableAtEnd']).toBe(0);
    expect(r.extra['healthyAtEnd']).toBe('yes');
    // The leaders it held moved first, one conditional write per partition it was in the ISR of.
    expect(n(r.extra['zk.controller.zk.writes'])).toBeGreaterThanOrEqual(20000 / 4);
  });

  it('a controller that cannot answer within controller.socket.timeout.ms: max.retries attempts spaced by the backoff, then an unclean exit with leaders left behind', () => {
    const timeout = 100;
    const backoff = 100;
    const retries = 3;
    const r = run({ partitions: 20000, 'controller.socket.timeout.ms': timeout, 'controlled.shutdown.retry.backoff.ms': backoff, 'controlled.shutdown.max.retries': retries });
    expect(r.violation).toBeNull();
    expect(r.extra['shutdownClean']).toBe('no');
    const sends = sendTimesMs(r);
    expect(sends).toHaveLength(retries);
    for (let i = 1; i < sends.length; i++) expect(sends[i]! - sends[i - 1]!).toBeGreaterThanOrEqual(timeout + backoff);
    // It gave up after the last attempt's timeout, while the controller was still moving leaders.
    expect(n(r.extra['shutdownMs'])).toBeGreaterThanOrEqual(retries * timeout + (retries - 1) * backoff);
    expect(n(r.extra['test.ledAtExit'])).toBeGreaterThan(0);
    // The controller finishes the moves anyway; the cluster ends whole.
    expect(r.extra['unavailableAtEnd']).toBe(0);
  });

  it('a first attempt that times out is retried after the backoff, and the retry finds the leaders already moved (clean)', () => {
    const r = run({ partitions: 20000, 'controller.socket.timeout.ms': 1000 });
    expect(r.violation).toBeNull();
    const sends = sendTimesMs(r);
    expect(sends).toHaveLength(2);
    expect(sends[1]! - sends[0]!).toBeGreaterThanOrEqual(1000 + 5000);
    expect(r.extra['shutdownClean']).toBe('yes');
    expect(r.extra['test.ledAtExit']).toBe(0);
    expect(n(r.extra['shutdownMs'])).toBeGreaterThanOrEqual(6000);
  });

  it('shutdownMs grows with the partitions the broker leads (2k vs 20k)', () => {
    const small = run({ partitions: 2000 });
    const big = run({ partitions: 20000 });
    for (const r of [small, big]) {
      expect(r.violation).toBeNull();
      expect(r.extra['shutdownClean']).toBe('yes');
    }
    const ratio = n(big.extra['shutdownMs']) / n(small.extra['shutdownMs']);
    expect(ratio).toBeGreaterThan(4);
    expect(ratio).toBeLessThan(20);
  });
});

/**
 * scenarios/controlled-shutdown.ts with the answers to the controller's first controlled-shutdown
 * write chunk lost (the ZooKeeper server → controller link drops everything for 50 ms): the chunk
 * commits, the client re-sends it after reconnecting, and every entry fails BADVERSION against
 * its own commit. doControlledShutdown then re-reads: it elects again for the partitions the
 * broker led, and sends the state it read for those it followed, already without it in the ISR.
 */
const lostAnswer = defineScenario({
  ...controlledShutdown,
  name: 'zk-controlled-shutdown-lost-answer-test',
  build(ctx) {
    const built = controlledShutdown.build(ctx);
    const sim = ctx.sim;
    let armed = false;
    let done = false;
    const prev = sim.trace.sink;
    sim.trace.sink = (r: TraceRecord) => {
      prev?.(r);
      if (done) return;
      if (r.kind === 'state' && r.label === 'controller.controlled.shutdown') armed = true;
      else if (armed && r.kind === 'send' && r.label === 'ZkRequest') {
        const controller = sim.nodes[r.node]!;
        const server = sim.node(`zk-${(controller.behavior as ZkBroker).zk.serverIndex}`);
        if (r.peer !== server.id) return;
        done = true;
        sim.net.setLinkFault(server.id, controller.id, { drop: 1 });
        sim.after(50_000, () => sim.net.clearLinkFaults());
      }
    };
    return built;
  },
});

describe('ZK-mode controlled shutdown whose write answers are lost', () => {
  it('re-reads after the BADVERSIONs and still moves every leader: LeaderAndIsr reaches the new leaders, nothing stays unavailable', () => {
    const r = runOnce({ file: 'test', scenario: lostAnswer, seed: 42, mode: 'zk', overrides: { partitions: 2000 }, untilUs: 30 * 60 * 1_000_000 });
    expect(r.violation, JSON.stringify(r.violation)).toBeNull();
    // The lost answers made the write conflict with itself.
    expect(n(r.extra['zk.controller.zk.write.conflicts'])).toBeGreaterThan(0);
    expect(r.extra['shutdownClean']).toBe('yes');
    expect(r.extra['unavailableAtEnd']).toBe(0);
    expect(r.extra['healthyAtEnd']).toBe('yes');
  });
});
