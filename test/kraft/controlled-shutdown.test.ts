import { describe, expect, it } from 'vitest';
import type { FaultStep } from '../../core/index.ts';
import { kraft } from './harness.ts';

const B = 1; // the broker that shuts down
const AT_MS = 10_000;
/** Holds the run open past the shutdown (the tracker stops a healthy run once no fault step remains). */
const hold = (ms: number): FaultStep => ({ atMs: ms, action: { type: 'heal' } });

interface Outcome {
  shutdownMs: number | null;
  unavailablePartitionMs: number;
  /** At the moment the broker exits: unavailable partitions, partitions it still leads in truth, brokers behind the controlled shutdown offset. */
  atExit: { unavailable: number; stillLeads: number; behind: number[]; controlledShutdownOffset: number; atUs: number } | null;
  c: ReturnType<typeof kraft>;
}

function shutdown(seed: number, partitions: number, extra: FaultStep[] = [], untilMs = 40_000): Outcome {
  const c = kraft(seed, { partitions, brokers: 12 });
  const t = c.h.tracker;
  let atExit: Outcome['atExit'] = null;
  c.sim.at(AT_MS * 1000, () => {
    c.h.controlledShutdown(B, () => {
      const ctl = c.h.controllerOf(c.h.activeController()!)!;
      const grant = ctl.shutdownGrants.find((g) => g.broker === B)!;
      let stillLeads = 0;
      for (let p = 0; p < t.truth.size; p++) if (t.truth.leader[p] === B) stillLeads++;
      const behind: number[] = [];
      for (let b = 0; b < c.h.brokers.length; b++) {
        if (b === B || !c.h.brokers[b]!.up || !t.isServing(b)) continue;
        if (c.h.brokerServer(b)!.appliedOffset < grant.controlledShutdownOffset) behind.push(b);
      }
      atExit = { unavailable: t.unavailable, stillLeads, behind, controlledShutdownOffset: grant.controlledShutdownOffset, atUs: grant.atUs };
    });
  });
  c.run(untilMs, { steps: [...extra, hold(untilMs - 1000)] });
  const shutdownMs = c.h.extra().shutdownMs;
  return { shutdownMs: typeof shutdownMs === 'number' ? shutdownMs : null, unavailablePartitionMs: t.metrics().unavailablePartitionMs ?? 0, atExit, c };
}

describe('KRaft controlled shutdown (KIP-631, heartbeats with WantShutDown)', () => {
  it('moves every leadership away, waits for the active brokers to see it, then lets the broker exit', () => {
    for (let seed = 1; seed <= 3; seed++) {
      const o = shutdown(seed, 20_000);
      const t = o.c.h.tracker;
      expect(o.c.sim.props.violation).toBeNull();
      expect(o.shutdownMs).not.toBeNull();
      expect(o.shutdownMs!).toBeGreaterThan(0);
      const x = o.atExit!;
      expect(x).not.toBeNull();
      // Leaders moved before the exit: nothing led by it, nothing unavailable when it goes.
      expect(x.stillLeads).toBe(0);
      expect(x.unavailable).toBe(0);
      // ShouldShutDown only once every active broker had applied the controlled shutdown's records.
      expect(x.behind).toEqual([]);
      // The broker is gone and fenced; it is in no ISR it could leave; nothing stays unavailable.
      expect(o.c.h.brokers[B]!.up).toBe(false);
      expect(t.isServing(B)).toBe(false);
      for (let p = 0; p < t.truth.size; p++) {
        if (t.truth.slotOf(p, B) >= 0 && t.truth.isrSize(p) > 1) expect(t.truth.isrHas(p, B)).toBe(false);
      }
      expect(t.unavailable).toBe(0);
      expect(t.totalDivergence).toBe(0);
    }
  });

  it('takes longer the more partitions the broker is a replica of (2k vs 20k)', () => {
    for (let seed = 1; seed <= 3; seed++) {
      const small = shutdown(seed, 2_000);
      const large = shutdown(seed, 20_000);
      expect(small.c.sim.props.violation).toBeNull();
      expect(large.c.sim.props.violation).toBeNull();
      expect(large.shutdownMs!).toBeGreaterThan(small.shutdownMs!);
    }
  });

  it('waits for a silent active broker to be fenced: the lowest active offset holds the shutdown back', () => {
    for (let seed = 1; seed <= 3; seed++) {
      const pauseAtMs = AT_MS - 500;
      const normal = shutdown(seed, 20_000);
      // Broker 4 stops heartbeating (paused) just before: its last reported offset stays below the
      // controlled shutdown offset until the controller fences it after broker.session.timeout.ms.
      const stalled = shutdown(seed, 20_000, [{ atMs: pauseAtMs, action: { type: 'pause', node: 'broker-4' } }], 60_000);
      expect(stalled.shutdownMs).not.toBeNull();
      const fenceEarliestUs = (pauseAtMs - 2000 + 9000) * 1000; // last heartbeat (≤ one interval before the pause) + session timeout
      expect(stalled.atExit!.atUs).toBeGreaterThanOrEqual(fenceEarliestUs);
      expect(normal.atExit!.atUs).toBeLessThan(fenceEarliestUs);
      expect(stalled.shutdownMs!).toBeGreaterThan(normal.shutdownMs!);
      expect(stalled.atExit!.behind).toEqual([]);
      expect(stalled.c.h.tracker.isServing(4)).toBe(false);
    }
  });

  it('a crash instead leaves its partitions unavailable until it is fenced', () => {
    for (let seed = 1; seed <= 3; seed++) {
      const clean = shutdown(seed, 20_000);
      const crash = kraft(seed, { partitions: 20_000, brokers: 12 });
      crash.run(AT_MS + 5000, { steps: [{ atMs: AT_MS, action: { type: 'crash', node: `broker-${B}` } }, hold(39_000)] });
      // Five seconds in: still within the session timeout, its leaderships are unavailable.
      expect(crash.h.tracker.unavailable).toBeGreaterThan(0);
      crash.run(40_000);
      expect(crash.sim.props.violation).toBeNull();
      expect(crash.h.tracker.unavailable).toBe(0);
      expect(crash.h.tracker.isServing(B)).toBe(false);
      const crashMs = crash.h.tracker.metrics().unavailablePartitionMs!;
      // A clean shutdown's moved leaderships are unavailable only from their commit until the new
      // leader has applied it — makeLeader and its leader-epoch checkpoint fsyncs, ≈ 150 per broker
      // here (≈ 0.7 s on average with the default disk) — against ≈ 9 s of session timeout.
      expect(crashMs).toBeGreaterThan(5 * clean.unavailablePartitionMs);
    }
  });
});
