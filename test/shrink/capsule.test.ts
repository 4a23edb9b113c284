import { describe, expect, it } from 'vitest';
import { CAPSULE_FORMAT, capsuleProblem } from '../../sim/capsule.ts';

const good = {
  format: CAPSULE_FORMAT,
  scenario: { file: 'scenarios/swarm.ts', name: 'swarm' },
  seed: 19,
  mode: 'kraft',
  overrides: { bugs: 'KAFKA-15489', partitions: 1 },
  until: null,
  plan: { steps: [{ atMs: 10, action: { type: 'heal' } }] },
  invariant: 'raft.leader-resigns-without-majority',
  violation: { atMs: 17000, detail: 'x' },
  traceHash: '0123456789abcdef',
  events: 10,
  code: { version: '0.1.0', commit: null },
};

describe('capsule checks', () => {
  it('accepts a whole capsule', () => {
    expect(capsuleProblem(good)).toBeNull();
  });

  const without = (k: keyof typeof good): unknown => Object.fromEntries(Object.entries(good).filter(([key]) => key !== k));
  const cases: [unknown, RegExp][] = [
    [[], /JSON object/],
    [{ ...good, format: 'other' }, /format/],
    [without('seed'), /missing field seed/],
    [without('plan'), /missing field plan/],
    [without('traceHash'), /missing field traceHash/],
    [{ ...good, scenario: { name: 'swarm' } }, /missing field scenario\.file/],
    [{ ...good, seed: -1 }, /seed must be/],
    [{ ...good, seed: '19' }, /seed must be/],
    [{ ...good, mode: 'both' }, /mode must be/],
    [{ ...good, overrides: { bugs: ['x'] } }, /overrides must be/],
    [{ ...good, traceHash: 'xyz' }, /traceHash must be 16 hex digits/],
    [{ ...good, violation: { atMs: 'soon' } }, /violation\.atMs/],
    [{ ...good, plan: { steps: 'none' } }, /plan: .*steps/],
    [{ ...good, plan: { steps: [{ atMs: 5, action: { type: 'explode' } }] } }, /unknown action type "explode"/],
  ];
  for (const [data, want] of cases) {
    it(`refuses ${want.source}`, () => {
      expect(capsuleProblem(data)).toMatch(want);
    });
  }
});
