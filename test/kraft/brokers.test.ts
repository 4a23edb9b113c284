import { describe, expect, it } from 'vitest';
import { RaftLog } from '../../sim/raft/raft-log.ts';
import { kraft } from './harness.ts';

describe('KRaft brokers', () => {
  it('fences a crashed broker after the session timeout, moves its leaderships, and unfences it after restart', () => {
    for (let seed = 1; seed <= 3; seed++) {
      const c = kraft(seed);
      const t = c.h.tracker;
      const b = 2;
      const led = (): number => {
        let n = 0;
        for (let p = 0; p < t.truth.size; p++) if (t.truth.leader[p] === b) n++;
        return n;
      };
      expect(led()).toBeGreaterThan(0);
      c.run(5000, { steps: [{ atMs: 5000, action: { type: 'crash', node: 'broker-2' }, main: true }, { atMs: 40_000, action: { type: 'restart', node: 'broker-2' } }] });
      c.run(5000 + 9000 - 2000 - 100);
      // Within the session timeout (minus one heartbeat interval) nothing moved.
      expect(led()).toBeGreaterThan(0);
      expect(t.isServing(b)).toBe(true);
      c.run(5000 + 9000 + 1000);
      expect(c.sim.props.violation).toBeNull();
      expect(t.isServing(b)).toBe(false);
      expect(led()).toBe(0);
      for (let p = 0; p < t.truth.size; p++) {
        if (t.truth.slotOf(p, b) < 0) continue;
        const l = t.truth.leader[p]!;
        // New leaders come from the ISR, which the fenced broker left (unless it was the last one).
        if (l >= 0) expect(t.truth.isrHas(p, l)).toBe(true);
        if (t.truth.isrSize(p) > 1) expect(t.truth.isrHas(p, b)).toBe(false);
      }
      expect(t.unavailable).toBe(0);
      c.run(70_000);
      expect(c.sim.props.violation).toBeNull();
      expect(t.isServing(b)).toBe(true);
      expect(t.brokerDivergence(b)).toBe(0);
    }
  });

  it('a wiped broker catches up from a snapshot fetched from the leader (KIP-630)', () => {
    for (let seed = 1; seed <= 3; seed++) {
      const c = kraft(seed, { 'metadata.log.max.record.bytes.between.snapshots': 1000, 'metadata.max.retention.bytes': 0 });
      const initialStart = new RaftLog(c.h.brokers[3]!).startOffset;
      c.run(60_000, {
        steps: [
          { atMs: 3000, action: { type: 'crash', node: 'broker-3' }, main: true },
          { atMs: 3000, action: { type: 'wipe', node: 'broker-3' } },
          { atMs: 25_000, action: { type: 'restart', node: 'broker-3' } },
        ],
      });
      expect(c.sim.props.violation).toBeNull();
      const raft = c.h.raftOf(c.h.brokers[3]!)!;
      const leaderLog = c.h.raftOf(c.h.activeController()!)!.log;
      expect(leaderLog.startOffset).toBeGreaterThan(initialStart);
      // Its log restarted at the leader's snapshot, which it could only have fetched.
      expect(raft.log.snapshot!.endOffset).toBeGreaterThan(initialStart);
      expect(raft.log.startOffset).toBe(raft.log.snapshot!.endOffset);
      expect(c.h.tracker.brokerDivergence(3)).toBe(0);
      expect(c.h.tracker.isServing(3)).toBe(true);
    }
  });
});
