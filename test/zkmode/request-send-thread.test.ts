import { describe, expect, it } from 'vitest';
import type { TraceRecord } from '../../core/index.ts';
import type { ParamValue } from '../../sim/params.ts';
import { runOnce } from '../../sim/run.ts';
import { defineScenario } from '../../sim/scenario.ts';
import { buildZkCluster } from '../../sim/zkmode/cluster.ts';
import { ZK_TEST_PARAMS } from './run.ts';

const CONTROLLER = 'broker-0'; // warm start: broker-0 is the active controller
const TARGET = 'broker-2';
const SHUTDOWN_MS = 10_000;
const HEAL_MS = 20_000;

/** What the trace shows of the controller's channel to one broker. */
interface ChannelEvent {
  readonly atUs: number;
  /**
   * 'send': a chunk of a LeaderAndIsr/UpdateMetadata to TARGET; 'arrive': one delivered at TARGET;
   * 'answer': a response from TARGET delivered at the controller; 'connect' / 'close': the
   * controller's connection to TARGET.
   */
  readonly what: 'send' | 'arrive' | 'answer' | 'connect' | 'close';
  readonly label: string;
  readonly bytes: number;
}

/**
 * broker-1's controlled shutdown makes the controller queue LeaderAndIsr and UpdateMetadata for
 * every broker; the moment the first of them leaves for TARGET, one direction of the link between
 * the controller and TARGET is cut (both keep ZooKeeper) until HEAL_MS: the way to TARGET (the
 * request is held) or the way back (the request arrives, its answer is held).
 */
const cutOff = (direction: 'request' | 'answer') => defineScenario({
  name: 'zk-request-send-thread-test',
  description: 'test: a control request held by a partition',
  modes: ['zk'],
  until: '30m',
  params: ZK_TEST_PARAMS,
  build(ctx) {
    const h = buildZkCluster(ctx);
    const sim = ctx.sim;
    const ctrl = sim.node(CONTROLLER).id;
    const target = sim.node(TARGET).id;
    const events: ChannelEvent[] = [];
    let otherUpdateMetadataDuringCut = 0;
    sim.trace.sink = (r: TraceRecord) => {
      const control = r.label === 'LeaderAndIsr' || r.label === 'UpdateMetadata';
      if (r.kind === 'send' && r.node === ctrl && control) {
        if (r.peer === target) events.push({ atUs: r.atUs, what: 'send', label: r.label, bytes: r.value });
        else if (r.label === 'UpdateMetadata' && r.atUs >= SHUTDOWN_MS * 1000 && r.atUs < HEAL_MS * 1000) otherUpdateMetadataDuringCut++;
      }
      if (r.kind === 'deliver' && r.node === target && r.peer === ctrl && control) events.push({ atUs: r.atUs, what: 'arrive', label: r.label, bytes: r.value });
      if (r.kind === 'deliver' && r.node === ctrl && r.peer === target && r.label.endsWith('Response')) events.push({ atUs: r.atUs, what: 'answer', label: r.label, bytes: r.value });
      if ((r.kind === 'connect' || r.kind === 'close') && r.node === ctrl && r.peer === target && r.label === 'controller-channel') events.push({ atUs: r.atUs, what: r.kind, label: r.label, bytes: r.value });
    };
    sim.at(SHUTDOWN_MS * 1000, () => h.controlledShutdown(1, () => undefined));
    const shape = direction === 'answer' ? { type: 'one-way', from: [TARGET], to: [CONTROLLER] } as const : { type: 'one-way', from: [CONTROLLER], to: [TARGET] } as const;
    const cut = { type: 'partition', shape } as const;
    return {
      plan: {
        steps: [{ atMs: HEAL_MS, action: { type: 'heal' } }],
        // The first request to TARGET after the shutdown is a LeaderAndIsr (a trigger fires once).
        triggers: [{ when: { kind: 'send', label: 'LeaderAndIsr', node: CONTROLLER, peer: TARGET, fromMs: SHUTDOWN_MS }, action: cut }],
      },
      metrics: () => h.tracker.metrics(),
      extra: () => ({ ...h.tracker.extra(), ...h.extra(), 'test.events': JSON.stringify(events), 'test.otherUpdateMetadataDuringCut': otherUpdateMetadataDuringCut }),
    };
  },
});

const run = (overrides: Record<string, ParamValue>, direction: 'request' | 'answer' = 'answer') => runOnce({ file: 'test', scenario: cutOff(direction), seed: 42, mode: 'zk', overrides: { partitions: 2000, ...overrides }, untilUs: 30 * 60 * 1_000_000 });

/** A transmission: the chunks of one request sent together (one instant), with its shape. */
interface Transmission {
  readonly atUs: number;
  readonly shape: string;
  /** A response from TARGET was delivered since the previous transmission. */
  readonly answeredBefore: boolean;
}

function transmissions(events: readonly ChannelEvent[]): Transmission[] {
  const out: Transmission[] = [];
  let answered = true;
  for (let i = 0; i < events.length; ) {
    const e = events[i]!;
    if (e.what === 'answer') answered = true;
    if (e.what !== 'send') {
      i++;
      continue;
    }
    const parts: string[] = [];
    while (i < events.length && events[i]!.what === 'send' && events[i]!.atUs === e.atUs) parts.push(`${events[i]!.label}:${events[i++]!.bytes}`);
    out.push({ atUs: e.atUs, shape: parts.join(' '), answeredBefore: answered });
    answered = false;
  }
  return out;
}

/** How many times the first chunk of `tx` arrived at TARGET in [fromUs, toUs). */
function arrivals(events: readonly ChannelEvent[], tx: Transmission, fromUs: number, toUs: number): number {
  const [label, bytes] = tx.shape.split(' ')[0]!.split(':');
  return events.filter((e) => e.what === 'arrive' && e.atUs >= fromUs && e.atUs < toUs && e.label === label && e.bytes === Number(bytes)).length;
}

const between = (events: readonly ChannelEvent[], what: ChannelEvent['what'], fromUs: number, toUs: number): ChannelEvent[] => events.filter((e) => e.what === what && e.atUs > fromUs && e.atUs < toUs);

describe('ControllerChannelManager.RequestSendThread', () => {
  it('a request unanswered within controller.socket.timeout.ms is sent again on a fresh connection; what the closed one held never arrives', () => {
    const timeoutMs = 3000;
    const r = run({ 'controller.socket.timeout.ms': timeoutMs });
    expect(r.violation).toBeNull();
    expect(r.stop.reason).toBe('stopped');
    const events = JSON.parse(r.extra['test.events'] as string) as ChannelEvent[];
    const tx = transmissions(events);
    const first = tx.find((t) => t.atUs >= SHUTDOWN_MS * 1000)!;
    expect(first).toBeDefined();
    expect(arrivals(events, first, first.atUs, HEAL_MS * 1000)).toBe(1);
    // Each timeout closes the connection and, 100 ms later, opens a new one, which cannot be set up
    // while the way back is cut (the SYN-ACK is lost): nothing more is sent until the heal.
    const attempts = Math.floor((HEAL_MS * 1000 - first.atUs) / ((timeoutMs + 100) * 1000));
    expect(between(events, 'close', first.atUs, HEAL_MS * 1000).length).toBeGreaterThanOrEqual(attempts);
    expect(between(events, 'connect', first.atUs, HEAL_MS * 1000).length).toBeGreaterThanOrEqual(attempts);
    expect(between(events, 'send', first.atUs, HEAL_MS * 1000)).toHaveLength(0);
    // After the heal the same request goes out again, on the new connection, and is answered …
    const resent = tx.find((t) => t.atUs >= HEAL_MS * 1000)!;
    expect(resent.shape).toBe(first.shape);
    expect(resent.answeredBefore).toBe(false);
    expect(resent.atUs - HEAL_MS * 1000).toBeLessThan((timeoutMs + 100) * 1000);
    // … while the broker's answer to the first copy, held by the partition, died with the closed
    // connection. (Without connection close the held answer arrived at the heal, and every re-send
    // reached the broker during the partition.)
    expect(between(events, 'answer', first.atUs, resent.atUs)).toHaveLength(0);
    expect(arrivals(events, first, first.atUs, resent.atUs + 1_000_000)).toBe(2);
    // Meanwhile the controller had more for every broker (UpdateMetadata went to the others):
    // it waited behind the unanswered request instead of going out.
    expect(r.extra['test.otherUpdateMetadataDuringCut'] as number).toBeGreaterThan(0);
    // Over the whole run: a transmission is either a re-send of the previous one (same shape, at
    // least the timeout later) or follows an answer — one request at a time per broker.
    for (let i = 1; i < tx.length; i++) {
      const t = tx[i]!;
      if (t.answeredBefore) continue;
      expect(t.shape).toBe(tx[i - 1]!.shape);
      expect(t.atUs - tx[i - 1]!.atUs).toBeGreaterThanOrEqual(timeoutMs * 1000);
    }
    // After the heal the queue drains: a different request reached the broker and was answered.
    expect(tx.some((t) => t.atUs > resent.atUs && t.shape !== first.shape)).toBe(true);
    expect(r.extra['divergenceAtEnd']).toBe(0);
  });

  it('a request held by a partition past controller.socket.timeout.ms never arrives: the broker gets the copy re-sent on a fresh connection after the heal, once', () => {
    const timeoutMs = 3000;
    const r = run({ 'controller.socket.timeout.ms': timeoutMs }, 'request');
    expect(r.violation).toBeNull();
    const events = JSON.parse(r.extra['test.events'] as string) as ChannelEvent[];
    const tx = transmissions(events);
    const first = tx.find((t) => t.atUs >= SHUTDOWN_MS * 1000)!;
    const resent = tx.find((t) => t.atUs >= HEAL_MS * 1000)!;
    expect(resent.shape).toBe(first.shape);
    expect(between(events, 'send', first.atUs, HEAL_MS * 1000)).toHaveLength(0);
    expect(between(events, 'close', first.atUs, HEAL_MS * 1000).length).toBeGreaterThanOrEqual(Math.floor((HEAL_MS * 1000 - first.atUs) / ((timeoutMs + 100) * 1000)));
    // Nothing reached TARGET during the cut, and after it exactly one copy: the re-sent one. (Without
    // connection close the held copy and every re-send arrived at the heal: 4 copies.)
    expect(arrivals(events, first, first.atUs, HEAL_MS * 1000)).toBe(0);
    const answer = between(events, 'answer', HEAL_MS * 1000, Number.MAX_SAFE_INTEGER)[0]!;
    expect(arrivals(events, first, HEAL_MS * 1000, answer.atUs)).toBe(1);
    expect(between(events, 'arrive', HEAL_MS * 1000, resent.atUs)).toHaveLength(0);
    expect(r.extra['divergenceAtEnd']).toBe(0);
  });

  it('with the default timeout (30 s) the connection stays open: no re-send, and the held answer arrives at the heal', () => {
    const r = run({});
    expect(r.violation).toBeNull();
    const events = JSON.parse(r.extra['test.events'] as string) as ChannelEvent[];
    const tx = transmissions(events);
    const first = tx.find((t) => t.atUs >= SHUTDOWN_MS * 1000)!;
    expect(events.filter((e) => e.what === 'close')).toHaveLength(0);
    expect(tx.filter((t) => t.atUs >= SHUTDOWN_MS * 1000 && t.atUs < HEAL_MS * 1000)).toHaveLength(1);
    for (let i = 1; i < tx.length; i++) expect(tx[i]!.answeredBefore).toBe(true);
    const answers = between(events, 'answer', first.atUs, Number.MAX_SAFE_INTEGER);
    expect(answers[0]!.atUs).toBeGreaterThanOrEqual(HEAL_MS * 1000);
    expect(arrivals(events, first, first.atUs, answers[0]!.atUs)).toBe(1);
  });
});
