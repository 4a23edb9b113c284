import { describe, expect, it } from 'vitest';
import type { TraceRecord } from '../../core/index.ts';
import type { ParamValue } from '../../sim/params.ts';
import { runOnce } from '../../sim/run.ts';
import { defineScenario } from '../../sim/scenario.ts';
import { buildZkCluster } from '../../sim/zkmode/cluster.ts';
import { ZK_TEST_PARAMS } from './run.ts';

const CONTROLLER = 'broker-0'; // warm start: broker-0 is the active controller
const TARGET = 'broker-2';
const CLOG_MS = 9_000;
const SHUTDOWN_MS = 10_000;
const UNCLOG_MS = 20_000;

/** What the trace shows of the controller's channel to one broker. */
interface ChannelEvent {
  readonly atUs: number;
  /** 'send': a chunk of a LeaderAndIsr/UpdateMetadata to TARGET; 'answer': a response from TARGET delivered at the controller. */
  readonly what: 'send' | 'answer';
  readonly label: string;
  readonly bytes: number;
}

/**
 * The controller's link to TARGET is clogged from CLOG_MS to UNCLOG_MS (nothing it sends arrives,
 * nothing is lost); in between, broker-1's controlled shutdown makes the controller queue
 * LeaderAndIsr and UpdateMetadata for every broker.
 */
const clogged = defineScenario({
  name: 'zk-request-send-thread-test',
  description: 'test: a control request to a clogged broker',
  modes: ['zk'],
  until: '30m',
  params: ZK_TEST_PARAMS,
  build(ctx) {
    const h = buildZkCluster(ctx);
    const sim = ctx.sim;
    const ctrl = sim.node(CONTROLLER).id;
    const target = sim.node(TARGET).id;
    const events: ChannelEvent[] = [];
    let otherUpdateMetadataDuringClog = 0;
    sim.trace.sink = (r: TraceRecord) => {
      if (r.kind === 'send' && r.node === ctrl && (r.label === 'LeaderAndIsr' || r.label === 'UpdateMetadata')) {
        if (r.peer === target) events.push({ atUs: r.atUs, what: 'send', label: r.label, bytes: r.value });
        else if (r.label === 'UpdateMetadata' && r.atUs >= SHUTDOWN_MS * 1000 && r.atUs < UNCLOG_MS * 1000) otherUpdateMetadataDuringClog++;
      }
      if (r.kind === 'deliver' && r.node === ctrl && r.peer === target && r.label.endsWith('Response')) events.push({ atUs: r.atUs, what: 'answer', label: r.label, bytes: r.value });
    };
    sim.at(SHUTDOWN_MS * 1000, () => h.controlledShutdown(1, () => undefined));
    return {
      plan: {
        steps: [
          { atMs: CLOG_MS, action: { type: 'clog', from: CONTROLLER, to: TARGET } },
          { atMs: UNCLOG_MS, action: { type: 'unclog', from: CONTROLLER, to: TARGET } },
        ],
      },
      metrics: () => h.tracker.metrics(),
      extra: () => ({ ...h.tracker.extra(), ...h.extra(), 'test.events': JSON.stringify(events), 'test.otherUpdateMetadataDuringClog': otherUpdateMetadataDuringClog }),
    };
  },
});

const run = (overrides: Record<string, ParamValue>) => runOnce({ file: 'test', scenario: clogged, seed: 42, mode: 'zk', overrides: { partitions: 2000, ...overrides }, untilUs: 30 * 60 * 1_000_000 });

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
    if (e.what === 'answer') {
      answered = true;
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

describe('ControllerChannelManager.RequestSendThread', () => {
  it('a request unanswered within controller.socket.timeout.ms is sent again (the same request), and nothing else goes to that broker meanwhile', () => {
    const timeoutMs = 3000;
    const r = run({ 'controller.socket.timeout.ms': timeoutMs });
    expect(r.violation).toBeNull();
    expect(r.stop.reason).toBe('stopped');
    const events = JSON.parse(r.extra['test.events'] as string) as ChannelEvent[];
    const tx = transmissions(events);
    // The first request queued for the clogged broker, and its re-sends until the link unclogs.
    const during = tx.filter((t) => t.atUs >= SHUTDOWN_MS * 1000 && t.atUs < UNCLOG_MS * 1000);
    expect(during.length).toBeGreaterThanOrEqual(Math.floor((UNCLOG_MS - SHUTDOWN_MS - 1000) / (timeoutMs + 100)));
    for (const t of during) expect(t.shape).toBe(during[0]!.shape);
    for (let i = 1; i < during.length; i++) {
      expect(during[i]!.answeredBefore).toBe(false);
      expect(during[i]!.atUs - during[i - 1]!.atUs).toBeGreaterThanOrEqual(timeoutMs * 1000);
    }
    // Meanwhile the controller had more for every broker (UpdateMetadata went to the others):
    // it waited behind the unanswered request instead of going out.
    expect(r.extra['test.otherUpdateMetadataDuringClog'] as number).toBeGreaterThan(0);
    // Over the whole run: a transmission is either a re-send of the previous one (same shape, at
    // least the timeout later) or follows an answer — one request at a time per broker.
    for (let i = 1; i < tx.length; i++) {
      const t = tx[i]!;
      if (t.answeredBefore) continue;
      expect(t.shape).toBe(tx[i - 1]!.shape);
      expect(t.atUs - tx[i - 1]!.atUs).toBeGreaterThanOrEqual(timeoutMs * 1000);
    }
    // After the unclog the queue drains: a different request reached the broker and was answered.
    const after = tx.filter((t) => t.atUs >= UNCLOG_MS * 1000);
    expect(after.some((t) => t.shape !== during[0]!.shape)).toBe(true);
    expect(r.extra['divergenceAtEnd']).toBe(0);
  });

  it('with the default timeout (30 s) the same clog causes no re-send', () => {
    const r = run({});
    expect(r.violation).toBeNull();
    const tx = transmissions(JSON.parse(r.extra['test.events'] as string) as ChannelEvent[]);
    const during = tx.filter((t) => t.atUs >= SHUTDOWN_MS * 1000 && t.atUs < UNCLOG_MS * 1000);
    expect(during).toHaveLength(1);
    for (let i = 1; i < tx.length; i++) expect(tx[i]!.answeredBefore).toBe(true);
  });
});
