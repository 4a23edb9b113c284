import { describe, expect, it } from 'vitest';
import { CLOSE_BY_CLIENT, CLOSE_REFUSED, CLOSE_SETUP_TIMEOUT, DEFAULT_CONNECTION, Simulation, type Message, type SimNode, type TraceRecord } from '../../core/index.ts';

interface Req extends Message {
  readonly type: 'Ping';
  readonly seq: number;
}
interface Resp extends Message {
  readonly type: 'PingResponse';
  readonly seq: number;
}

/**
 * A tiny Kafka-like client: n0 sends Ping requests to n1 on one connection and, like NetworkClient,
 * closes the connection when a request has had no answer for `timeoutMs`. n1 answers each Ping at
 * once, or after `replyDelayUs` (a deferred reply, as a long poll or a purgatory gives).
 */
function world(opts: { timeoutMs?: number; replyDelayUs?: number; seed?: string } = {}) {
  const sim = new Simulation({ seed: opts.seed ?? 'conn' });
  const records: TraceRecord[] = [];
  sim.trace.sink = (r) => records.push(r);
  const requests: { atUs: number; seq: number }[] = [];
  const responses: { atUs: number; seq: number }[] = [];
  const timeoutUs = (opts.timeoutMs ?? 2000) * 1000;
  const outstanding = new Map<number, number>();
  let client!: SimNode;
  const server = sim.addNode('n1', (self) => ({
    onMessage(from, msg) {
      const m = msg as Req;
      requests.push({ atUs: sim.nowUs, seq: m.seq });
      const reply = (): void => self.send(from, { type: 'PingResponse', seq: m.seq } satisfies Resp, 100);
      if (opts.replyDelayUs === undefined) reply();
      else self.after(opts.replyDelayUs, reply);
    },
  }));
  client = sim.addNode('n0', (self) => ({
    onMessage(_from, msg) {
      const m = msg as Resp;
      responses.push({ atUs: sim.nowUs, seq: m.seq });
      const t = outstanding.get(m.seq);
      if (t !== undefined) self.cancelTimer(t);
      outstanding.delete(m.seq);
    },
  }));
  const conn = (): ReturnType<SimNode['connection']> => client.connection(server, 'test');
  const request = (atUs: number, seq: number): void => {
    sim.at(atUs, () => {
      const ping: Req = { type: 'Ping', seq };
      conn().send(ping, 100);
      outstanding.set(seq, client.setTimer('request-timeout', timeoutUs, () => {
        outstanding.delete(seq);
        conn().expire();
      }));
    });
  };
  const partition = (atUs: number): void => {
    sim.at(atUs, () => sim.faults.apply({ type: 'partition', shape: { type: 'isolate', node: 'n1' } }));
  };
  const heal = (atUs: number): void => {
    sim.at(atUs, () => sim.faults.apply({ type: 'heal-all' }));
  };
  return { sim, client, server, conn, request, partition, heal, requests, responses, records };
}

const closes = (records: readonly TraceRecord[], reason: number): TraceRecord[] => records.filter((r) => r.kind === 'close' && r.value === reason);

describe('connections', () => {
  it('a request held past its timeout by a partition is never delivered, and a new one goes through after heal', () => {
    const w = world();
    w.request(1_000, 1); // establishes the connection and is answered
    w.partition(100_000);
    w.request(200_000, 2); // held by the partition; times out at 2.2 s, the client closes
    w.heal(10_000_000);
    w.request(11_000_000, 3); // a new connection
    w.sim.run({ untilUs: 30_000_000 });
    expect(w.requests.map((r) => r.seq)).toEqual([1, 3]);
    expect(w.responses.map((r) => r.seq)).toEqual([1, 3]);
    const closed = closes(w.records, CLOSE_BY_CLIENT);
    expect(closed).toHaveLength(1);
    expect(closed[0]!.atUs).toBeGreaterThanOrEqual(2_200_000);
    // The held copy of request 2 is dropped when the connection closes, not at heal.
    const dropped = w.records.filter((r) => r.kind === 'drop' && r.label === 'Ping');
    expect(dropped).toHaveLength(1);
    expect(dropped[0]!.atUs).toBe(closed[0]!.atUs);
  });

  it('a connection nobody closes keeps TCP semantics: the held request arrives after heal', () => {
    const w = world({ timeoutMs: 60_000 });
    w.request(1_000, 1);
    w.partition(100_000);
    w.request(200_000, 2);
    w.heal(10_000_000);
    w.sim.run({ untilUs: 30_000_000 });
    expect(w.requests.map((r) => r.seq)).toEqual([1, 2]);
    expect(w.requests[1]!.atUs).toBeGreaterThanOrEqual(10_000_000);
    expect(closes(w.records, CLOSE_BY_CLIENT)).toHaveLength(0);
  });

  it('closing drops the reply direction too: a response to a closed connection never arrives', () => {
    // The server answers 3 s after the request; the client has closed at 2 s.
    const w = world({ replyDelayUs: 3_000_000 });
    w.request(1_000, 1);
    w.sim.run({ untilUs: 10_000_000 });
    expect(w.requests.map((r) => r.seq)).toEqual([1]);
    expect(w.responses).toHaveLength(0);
    expect(w.records.some((r) => r.kind === 'drop' && r.label === 'PingResponse')).toBe(true);
  });

  it('a response in flight or held when the client closes is dropped with the connection', () => {
    const w = world({ replyDelayUs: 500_000 });
    w.request(1_000, 1);
    w.sim.at(300_000, () => w.sim.faults.apply({ type: 'partition', shape: { type: 'one-way', from: ['n1'], to: ['n0'] } }));
    w.heal(5_000_000);
    w.sim.run({ untilUs: 10_000_000 });
    expect(w.requests).toHaveLength(1);
    expect(w.responses).toHaveLength(0);
  });

  it('a request already on the wire when the client closes still arrives (nothing recalls sent bytes); its answer does not', () => {
    const w = world();
    w.request(1_000, 1); // sets the connection up
    w.sim.at(100_000, () => w.sim.net.setLinkFault(w.client.id, w.server.id, { delayUs: 5_000_000 }));
    w.request(200_000, 2); // on the wire for 5 s; the client closes at 2.2 s
    w.sim.run({ untilUs: 10_000_000 });
    expect(w.requests.map((r) => r.seq)).toEqual([1, 2]);
    expect(w.requests[1]!.atUs).toBeGreaterThanOrEqual(5_200_000);
    expect(w.responses.map((r) => r.seq)).toEqual([1]);
    expect(closes(w.records, CLOSE_BY_CLIENT)).toHaveLength(1);
  });

  it('a new connection cannot be set up across a partition: the attempt fails at the setup timeout, nothing is held for the heal', () => {
    const w = world({ timeoutMs: 60_000 });
    w.partition(0);
    w.request(1_000, 1);
    w.heal(40_000_000);
    w.sim.run({ untilUs: 39_000_000 });
    const failed = closes(w.records, CLOSE_SETUP_TIMEOUT);
    // socket.connection.setup.timeout.ms (10 s ±20 %), then doubling: the attempts keep failing.
    expect(failed.length).toBeGreaterThanOrEqual(2);
    expect(failed[0]!.atUs).toBeGreaterThanOrEqual(1_000 + 0.8 * DEFAULT_CONNECTION.setupTimeoutMs * 1000);
    expect(failed[0]!.atUs).toBeLessThanOrEqual(1_000 + 1.2 * DEFAULT_CONNECTION.setupTimeoutMs * 1000);
    expect(failed[1]!.atUs - failed[0]!.atUs).toBeGreaterThan(1.6 * DEFAULT_CONNECTION.setupTimeoutMs * 1000 - 1);
    expect(w.requests).toHaveLength(0);
  });

  it('a connect attempt whose partition heals before the setup timeout completes at the next SYN retransmission', () => {
    const w = world({ timeoutMs: 60_000 });
    w.partition(0);
    w.request(1_000, 1);
    w.heal(2_500_000); // SYNs at 1 ms, 1.001 s, 3.001 s
    w.sim.run({ untilUs: 20_000_000 });
    expect(w.requests).toHaveLength(1);
    expect(w.requests[0]!.atUs).toBeGreaterThanOrEqual(3_001_000);
    expect(w.requests[0]!.atUs).toBeLessThan(3_010_000);
    expect(closes(w.records, CLOSE_SETUP_TIMEOUT)).toHaveLength(0);
  });

  it('connecting to a node that is down is refused, and retried with the exponential reconnect backoff', () => {
    const w = world({ timeoutMs: 60_000 });
    w.sim.at(0, () => w.sim.crash(w.server));
    w.request(1_000, 1);
    w.sim.at(20_000_000, () => w.sim.restart(w.server));
    w.sim.run({ untilUs: 30_000_000 });
    const refused = closes(w.records, CLOSE_REFUSED).map((r) => r.atUs);
    expect(refused.length).toBeGreaterThan(10);
    const gaps = refused.slice(1).map((t, i) => t - refused[i]!);
    // reconnect.backoff.ms 50 ±20 %, doubling to reconnect.backoff.max.ms 1000 (plus a round trip).
    expect(gaps[0]!).toBeGreaterThanOrEqual(40_000);
    expect(gaps[0]!).toBeLessThan(62_000);
    expect(gaps[2]!).toBeGreaterThan(gaps[0]! * 2);
    for (const g of gaps) expect(g).toBeLessThanOrEqual(1_000_000 + 2_000);
    expect(Math.max(...gaps)).toBeGreaterThan(800_000);
    // Once the server is back, the waiting request goes out on the new connection.
    expect(w.requests).toHaveLength(1);
    expect(w.requests[0]!.atUs).toBeGreaterThanOrEqual(20_000_000);
    expect(w.requests[0]!.atUs).toBeLessThan(21_100_000);
  });

  it('a server restart breaks the connection: the next send reconnects to the new process', () => {
    const w = world();
    w.request(1_000, 1);
    w.sim.at(100_000, () => w.sim.crash(w.server));
    w.sim.at(200_000, () => w.sim.restart(w.server));
    w.request(300_000, 2);
    w.sim.run({ untilUs: 5_000_000 });
    expect(w.requests.map((r) => r.seq)).toEqual([1, 2]);
    expect(w.records.filter((r) => r.kind === 'connected')).toHaveLength(2);
  });
});
