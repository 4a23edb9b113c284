import { describe, expect, it } from 'vitest';
import type { Simulation } from '../../core/index.ts';
import type { QuorumPeer } from '../../sim/zookeeper/peer.ts';
import { client, ensemble, type TestClient } from './harness.ts';

const TICK_MS = 2000;
const SESSION_MS = 18000;

const create = (path: string, ephemeral = false, sequential = false) => ({ type: 'create' as const, path, data: 1, dataBytes: 1, ephemeral, sequential });

/** Times (ms) at which any ZooKeeper server received something from `c` (pings, requests, connects). */
function heardLog(sim: Simulation, zkIds: readonly number[], c: TestClient): number[] {
  const heard: number[] = [];
  const prev = sim.trace.sink;
  sim.trace.sink = (rec) => {
    prev?.(rec);
    if (rec.kind === 'deliver' && rec.peer === c.node.id && zkIds.includes(rec.node)) heard.push(rec.atUs / 1000);
  };
  return heard;
}

/** Times (ms) of the leader's session-expiry decisions, by session. */
function expiryLog(sim: Simulation): Map<number, number> {
  const out = new Map<number, number>();
  const prev = sim.trace.sink;
  sim.trace.sink = (rec) => {
    prev?.(rec);
    if (rec.label === 'zk.session.expire') out.set(rec.value, rec.atUs / 1000);
  };
  return out;
}

describe('ZooKeeper sessions', () => {
  it('a silent client is expired between timeout and timeout + tickTime after the leader last heard it; its ephemeral goes in a committed txn', () => {
    let checked = 0;
    for (let seed = 1; seed <= 6 && checked < 2; seed++) {
      const { sim, zk } = ensemble(seed);
      const cs = [0, 1, 2, 3].map((i) => client(sim, zk, `c${i}`, SESSION_MS));
      sim.run({ untilUs: 8_000_000 });
      const leaderSid = zk.nodes.indexOf(zk.leader()!);
      // The leader tracks sessions; a client connected to it is touched without relay delay.
      const c = cs.find((x) => x.zk().connected && x.zk().serverIndex === leaderSid);
      if (c === undefined) continue;
      const heard = heardLog(sim, zk.nodes.map((n) => n.id), c);
      const expired = expiryLog(sim);
      const codes: string[] = [];
      c.zk().write([create('/e', true)], (r) => codes.push(r.code));
      sim.run({ untilUs: 10_000_000 });
      expect(codes).toEqual(['OK']);
      const session = c.zk().sessionId;
      const created = zk.leaderTree()!.get('/e')!.czxid;
      sim.at(17_300_000, () => sim.crash(c.node));
      sim.run({ untilUs: 17_300_000 + (SESSION_MS + 3 * TICK_MS) * 1000 });
      const last = Math.max(...heard.filter((t) => t <= 17_300));
      const at = expired.get(session);
      expect(at).toBeDefined();
      expect(at! - last).toBeGreaterThanOrEqual(SESSION_MS);
      expect(at! - last).toBeLessThanOrEqual(SESSION_MS + TICK_MS);
      // Expiry happens on tick boundaries of the leader's clock (ExpiryQueue buckets).
      for (const n of zk.nodes) {
        const p = n.behavior as QuorumPeer;
        expect(p.tree.get('/e')).toBeUndefined();
        expect(p.tree.sessions.has(session)).toBe(false);
        // Removed by a later committed txn (the parent's pzxid moved past the create).
        expect(p.tree.get('/')!.pzxid).toBeGreaterThan(created);
      }
      expect(zk.audit.prefixViolation).toBeNull();
      checked++;
    }
    expect(checked).toBeGreaterThan(0);
  });

  it('a client that hears nothing for readTimeout (2/3 of the session timeout) reconnects to another server and keeps its session', () => {
    const { sim, zk } = ensemble(11);
    const c = client(sim, zk, 'c0', SESSION_MS);
    const heardFrom: { atMs: number; from: number }[] = [];
    sim.trace.sink = (rec) => {
      if (rec.kind === 'deliver' && rec.node === c.node.id) heardFrom.push({ atMs: rec.atUs / 1000, from: rec.peer });
    };
    sim.run({ untilUs: 8_000_000 });
    const codes: string[] = [];
    c.zk().write([create('/mine', true)], (r) => codes.push(r.code));
    sim.run({ untilUs: 9_000_000 });
    expect(codes).toEqual(['OK']);
    const session = c.zk().sessionId;
    const srv = c.zk().serverIndex;
    // The server's replies stop reaching the client; its pings still reach the server.
    sim.net.partition({ type: 'one-way', from: [zk.nodes[srv]!.id], to: [c.node.id] });
    sim.run({ untilUs: 40_000_000 });
    const disc = c.states.find((s) => s.state === 'Disconnected');
    expect(disc).toBeDefined();
    const lastHeard = Math.max(...heardFrom.filter((h) => h.from === zk.nodes[srv]!.id && h.atMs <= 9_000).map((h) => h.atMs));
    expect(disc!.atMs - lastHeard).toBeGreaterThanOrEqual((SESSION_MS * 2) / 3 - 0.001);
    expect(disc!.atMs - lastHeard).toBeLessThan(SESSION_MS);
    expect(c.zk().connected).toBe(true);
    expect(c.zk().serverIndex).not.toBe(srv);
    expect(c.zk().sessionId).toBe(session);
    expect(c.zk().sessionsCreated).toBe(1);
    expect(c.states.some((s) => s.state === 'Expired')).toBe(false);
    expect(zk.leaderTree()!.get('/mine')?.ephemeralOwner).toBe(session);
  });

  it('a partitioned client learns that its session expired only when it reconnects', () => {
    const { sim, zk } = ensemble(12);
    const c = client(sim, zk, 'c0', SESSION_MS);
    sim.run({ untilUs: 8_000_000 });
    const expired = expiryLog(sim);
    const session = c.zk().sessionId;
    sim.net.partition({ type: 'symmetric', a: [c.node.id], b: zk.nodes.map((n) => n.id) });
    sim.run({ untilUs: 50_000_000 });
    // ZooKeeper expired it long ago; the client only knows it is disconnected.
    expect(expired.get(session)).toBeDefined();
    expect(expired.get(session)!).toBeLessThan(50_000);
    expect(c.states.map((s) => s.state)).toEqual(['SyncConnected', 'Disconnected']);
    sim.net.heal();
    sim.run({ untilUs: 80_000_000 });
    const exp = c.states.find((s) => s.state === 'Expired');
    expect(exp).toBeDefined();
    expect(exp!.atMs).toBeGreaterThan(50_000);
  });

  it('after a partition, answers to connection attempts the client gave up on are not taken for the current one; a re-created session keeps its connection', () => {
    const { sim, zk } = ensemble(12);
    const results: string[] = [];
    // Kafka's reaction to expiry: a new session (ZooKeeperClient.reinitialize), then its registration.
    const c = client(sim, zk, 'c0', SESSION_MS, true, (s, z) => {
      if (s === 'Expired') z.reinitialize();
      if (s === 'SyncConnected' && z.sessionsCreated === 2) z.write([create('/mine', true)], (r) => results.push(r.code));
    });
    sim.run({ untilUs: 8_000_000 });
    // The partition holds every connect attempt; healing delivers them all at once, with their answers.
    sim.net.partition({ type: 'symmetric', a: [c.node.id], b: zk.nodes.map((n) => n.id) });
    sim.run({ untilUs: 50_000_000 });
    sim.net.heal();
    sim.run({ untilUs: 80_000_000 });
    // One expiry (of the old session): not one per stale 'expired' answer to an abandoned attempt.
    expect(c.states.filter((s) => s.state === 'Expired')).toHaveLength(1);
    expect(results).toEqual(['OK']);
    const session = c.zk().sessionId;
    expect(zk.leaderTree()!.get('/mine')?.ephemeralOwner).toBe(session);
    // Connected since, on the session that owns the node.
    expect(c.states[c.states.length - 1]!.state).toBe('SyncConnected');
  });

  it("a read pipelined behind the session's own write sees it; another session's read on a lagging server does not", () => {
    const { sim, zk } = ensemble(15);
    const a = client(sim, zk, 'a', SESSION_MS);
    const b = client(sim, zk, 'b', SESSION_MS);
    sim.run({ untilUs: 8_000_000 });
    const seen: Record<string, string> = {};
    // b's server stops hearing the leader (shorter than syncLimit): it keeps serving its stale tree.
    const leader = zk.leader()!;
    const bServer = zk.nodes[b.zk().serverIndex]!;
    expect(bServer).not.toBe(leader);
    sim.net.clog(leader.id, bServer.id);
    a.zk().write([create('/x')], () => undefined);
    a.zk().read({ type: 'getData', path: '/x', watch: false }, (r) => (seen['a'] = r.code));
    sim.run({ untilUs: 8_500_000 });
    b.zk().read({ type: 'getData', path: '/x', watch: false }, (r) => (seen['b'] = r.code));
    sim.run({ untilUs: 9_000_000 });
    expect(seen['a']).toBe('OK');
    expect(seen['b']).toBe('NONODE');
    // And a sync first makes b's read see it (once the leader's link is released).
    b.zk().read({ type: 'sync' }, () => b.zk().read({ type: 'getData', path: '/x', watch: false }, (r) => (seen['b2'] = r.code)));
    sim.run({ untilUs: 11_000_000 });
    expect(seen['b2']).toBeUndefined();
    sim.net.unclog(leader.id, bServer.id);
    sim.run({ untilUs: 12_000_000 });
    expect(seen['b2']).toBe('OK');
  });

  it('one-shot watches: fired once, by the server the watcher is connected to', () => {
    const { sim, zk } = ensemble(13);
    const a = client(sim, zk, 'a', SESSION_MS);
    const b = client(sim, zk, 'b', SESSION_MS);
    sim.run({ untilUs: 8_000_000 });
    const from: number[] = [];
    const prev = sim.trace.sink;
    sim.trace.sink = (rec) => {
      prev?.(rec);
      if (rec.kind === 'deliver' && rec.node === a.node.id && rec.label === 'WatcherEvent') from.push(rec.peer);
    };
    b.zk().write([create('/w')], () => undefined);
    sim.run({ untilUs: 9_000_000 });
    a.zk().read({ type: 'getData', path: '/w', watch: true }, () => undefined);
    sim.run({ untilUs: 9_500_000 });
    const set = (v: number) => b.zk().write([{ type: 'setData', path: '/w', data: v, dataBytes: 1, version: -1 }], () => undefined);
    set(2);
    sim.run({ untilUs: 10_000_000 });
    set(3);
    sim.run({ untilUs: 11_000_000 });
    expect(a.watches.filter((w) => w.path === '/w')).toHaveLength(1);
    expect(a.watches[0]!.event).toBe('NodeDataChanged');
    expect(from).toEqual([zk.nodes[a.zk().serverIndex]!.id]);
    // Registered again, it fires again (once).
    a.zk().read({ type: 'getData', path: '/w', watch: true }, () => undefined);
    sim.run({ untilUs: 11_500_000 });
    set(4);
    set(5);
    sim.run({ untilUs: 13_000_000 });
    expect(a.watches.filter((w) => w.path === '/w')).toHaveLength(2);
  });
});

describe('ZooKeeper znodes', () => {
  it('multi with a failing CheckOp applies nothing; with a passing one it applies every op', () => {
    const { sim, zk } = ensemble(14);
    const c = client(sim, zk, 'c0', SESSION_MS);
    sim.run({ untilUs: 8_000_000 });
    const rs: { code: string; failedOp?: number }[] = [];
    c.zk().write([create('/a')], (r) => rs.push(r));
    c.zk().write([create('/b'), { type: 'setData', path: '/a', data: 7, dataBytes: 1, version: 0 }, { type: 'check', path: '/a', version: 5 }], (r) => rs.push(r));
    sim.run({ untilUs: 9_000_000 });
    expect(rs[1]).toMatchObject({ code: 'BADVERSION', failedOp: 2 });
    for (const n of zk.nodes) {
      const t = (n.behavior as QuorumPeer).tree;
      expect(t.get('/b')).toBeUndefined();
      expect(t.get('/a')!.version).toBe(0);
    }
    c.zk().write([create('/b'), { type: 'setData', path: '/a', data: 7, dataBytes: 1, version: 0 }, { type: 'check', path: '/a', version: 1 }], (r) => rs.push(r));
    sim.run({ untilUs: 10_000_000 });
    expect(rs[2]!.code).toBe('OK');
    for (const n of zk.nodes) {
      const t = (n.behavior as QuorumPeer).tree;
      expect(t.get('/b')).toBeDefined();
      expect(t.get('/a')!.version).toBe(1);
      expect(t.get('/a')!.data).toBe(7);
    }
  });

  it('sequential nodes get strictly increasing suffixes', () => {
    const { sim, zk } = ensemble(15);
    const c = client(sim, zk, 'c0', SESSION_MS);
    sim.run({ untilUs: 8_000_000 });
    c.zk().write([create('/q')], () => undefined);
    const names: string[] = [];
    for (let i = 0; i < 6; i++) c.zk().write([create('/q/item-', false, true)], (r) => names.push(...(r.created ?? [])));
    sim.run({ untilUs: 9_000_000 });
    expect(names).toHaveLength(6);
    const suffixes = names.map((n) => Number(n.slice('/q/item-'.length)));
    for (let i = 1; i < suffixes.length; i++) expect(suffixes[i]!).toBeGreaterThan(suffixes[i - 1]!);
    expect(new Set(zk.leaderTree()!.get('/q')!.children).size).toBe(6);
  });
});

describe('ZooKeeper client over a lossy link', () => {
  it('a request the link loses is answered after the client sees a later ping answered first and reconnects (ClientCnxn "Xid out of order")', () => {
    const run = (lossy: boolean): { codes: string[]; reconnects: number } => {
      const { sim, zk } = ensemble(21);
      const c = client(sim, zk, 'c0', 18000);
      sim.run({ untilUs: 14_000_000 });
      expect(c.zk().connected).toBe(true);
      const srv = zk.nodes[c.zk().serverIndex]!;
      if (lossy) sim.net.setLinkFault(c.node.id, srv.id, { drop: 1 });
      const codes: string[] = [];
      c.zk().write([{ type: 'create', path: '/lost', data: 1, dataBytes: 1, ephemeral: false, sequential: false }], (r) => codes.push(r.code));
      sim.run({ untilUs: 14_100_000 });
      sim.net.clearLinkFaults();
      sim.run({ untilUs: 60_000_000 });
      return { codes, reconnects: c.states.filter((s) => s.state === 'Disconnected').length };
    };
    const clean = run(false);
    expect(clean).toEqual({ codes: ['OK'], reconnects: 0 });
    const lossy = run(true);
    // Pings keep the session alive, so only the out-of-order reply can reveal the loss.
    expect(lossy.codes).toEqual(['OK']);
    expect(lossy.reconnects).toBe(1);
  });

  it("a write whose answer is lost is re-sent after the reconnect (Kafka's retryRequestsUntilConnected: NODEEXISTS from its own create); writeOnce is answered CONNECTIONLOSS instead", () => {
    const run = (once: boolean): string[] => {
      const { sim, zk } = ensemble(21);
      const c = client(sim, zk, 'c0', 18000);
      sim.run({ untilUs: 14_000_000 });
      const srv = zk.nodes[c.zk().serverIndex]!;
      // Only the answers are lost: the create reaches the server and commits.
      sim.net.setLinkFault(srv.id, c.node.id, { drop: 1 });
      const codes: string[] = [];
      const ops = [create('/once')];
      if (once) c.zk().writeOnce(ops, (r) => codes.push(r.code));
      else c.zk().write(ops, (r) => codes.push(r.code));
      sim.run({ untilUs: 14_100_000 });
      sim.net.clearLinkFaults();
      sim.run({ untilUs: 60_000_000 });
      return codes;
    };
    expect(run(false)).toEqual(['NODEEXISTS']);
    expect(run(true)).toEqual(['CONNECTIONLOSS']);
  });
});
