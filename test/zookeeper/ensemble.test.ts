import { describe, expect, it } from 'vitest';
import { runOnce } from '../../sim/run.ts';
import { defineScenario } from '../../sim/scenario.ts';
import type { ZkBroker } from '../../sim/zkmode/broker.ts';
import { BROKER_IDS_PATH, CONTROLLER_PATH, CONTROLLER_EPOCH_PATH } from '../../sim/zkmode/controller.ts';
import { buildZkCluster } from '../../sim/zkmode/cluster.ts';
import type { QuorumPeer } from '../../sim/zookeeper/peer.ts';
import { client, ensemble } from './harness.ts';
import { ZK_TEST_PARAMS } from '../zkmode/run.ts';

const create = (path: string) => ({ type: 'create' as const, path, data: path, dataBytes: 8, ephemeral: false, sequential: false });

describe('ZooKeeper ensemble', () => {
  it('5 servers: elect and commit; survive two crashes, not three', () => {
    const { sim, zk } = ensemble(21, { servers: 5 });
    const cs = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => client(sim, zk, `c${i}`));
    sim.run({ untilUs: 10_000_000 });
    const leader = zk.leader()!;
    expect(leader).not.toBeNull();
    const codes: string[] = [];
    const writeVia = (tag: string) => {
      // Without a quorum no server serves: the write waits in the client until one does.
      const c = cs.find((x) => x.zk().connected) ?? cs[0]!;
      c!.zk().write([create(`/${tag}`)], (r) => codes.push(`${tag} ${r.code}`));
    };
    writeVia('one');
    sim.run({ untilUs: 11_000_000 });
    expect(codes).toEqual(['one OK']);
    // Two crashes, the leader among them: the remaining three elect and commit.
    const others = zk.nodes.filter((n) => n !== leader);
    sim.crash(leader);
    sim.crash(others[0]!);
    sim.run({ untilUs: 60_000_000 });
    expect(zk.leader()).not.toBeNull();
    writeVia('two');
    sim.run({ untilUs: 75_000_000 });
    expect(codes).toContain('two OK');
    // A third crash leaves two of five: no quorum, no leader, nothing commits.
    sim.crash(zk.leader()!);
    sim.run({ untilUs: 120_000_000 });
    expect(zk.leader()).toBeNull();
    writeVia('three');
    sim.run({ untilUs: 180_000_000 });
    expect(codes.filter((c) => c.startsWith('three'))).toEqual([]);
    for (const n of zk.nodes) if (n.up) expect((n.behavior as QuorumPeer).tree.get('/three')).toBeUndefined();
    // One server back: a quorum again, the pending write commits.
    sim.restart(leader);
    sim.run({ untilUs: 260_000_000 });
    expect(zk.leader()).not.toBeNull();
    expect(codes).toContain('three OK');
    expect(zk.audit.leadershipViolation).toBeNull();
    expect(zk.audit.prefixViolation).toBeNull();
  });

  for (const [label, writes] of [['DIFF', 5], ['SNAP', 0]] as const) {
    it(`a restarted server syncs back from the leader and serves the committed data (${label})`, () => {
      // Warm: every server starts from a snapshot, so the leader's log does not reach back to zxid 0.
      const { sim, zk } = ensemble(22, { warm: true });
      zk.tree.create('/base', null, 0, 0, zk.nextWarmZxid());
      const cs = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => client(sim, zk, `c${i}`, 18000, false));
      const syncKinds: string[] = [];
      sim.run({ untilUs: 5_000_000 });
      const leader = zk.leader()!;
      const f = zk.nodes.find((n) => n !== leader)!;
      const fid = zk.nodes.indexOf(f);
      const writer = cs.find((c) => c.zk().serverIndex !== fid)!;
      writer.zk().connect();
      sim.run({ untilUs: 8_000_000 });
      for (let i = 0; i < 3; i++) writer.zk().write([create(`/before${i}`)], () => undefined);
      sim.run({ untilUs: 9_000_000 });
      sim.crash(f);
      for (let i = 0; i < writes; i++) writer.zk().write([create(`/during${i}`)], () => undefined);
      sim.run({ untilUs: 10_000_000 });
      if (label === 'SNAP') {
        // A server whose disk was lost comes back empty: its zxid 0 predates the leader's snapshot, so no DIFF.
        f.store.put('snapshot', undefined);
        f.store.log('txnlog').truncate(0);
      }
      const leaderPeer = leader.behavior as QuorumPeer;
      const orig = leaderPeer.sendPeer.bind(leaderPeer);
      leaderPeer.sendPeer = (sid, msg, bytes) => {
        if (msg.type === 'NewLeader' && sid === fid) syncKinds.push(msg.sync.kind);
        orig(sid, msg, bytes);
      };
      sim.restart(f);
      sim.run({ untilUs: 20_000_000 });
      const fp = f.behavior as QuorumPeer;
      expect(fp.state).toBe('FOLLOWING');
      expect(fp.serving).toBe(true);
      expect(syncKinds).toEqual([label === 'DIFF' ? 'diff' : 'snap']);
      const expected = [...zk.leaderTree()!.nodes.keys()].sort();
      expect([...fp.tree.nodes.keys()].sort()).toEqual(expected);
      expect(fp.tree.lastProcessedZxid).toBe(zk.leaderTree()!.lastProcessedZxid);
      // A client connected to the restarted server reads what was committed while it was down.
      const reader = cs.find((c) => c !== writer && c.zk().serverIndex === fid)!;
      expect(reader).toBeDefined();
      reader.zk().connect();
      sim.run({ untilUs: 22_000_000 });
      expect(reader.zk().serverIndex).toBe(fid);
      const got: string[] = [];
      reader.zk().read({ type: 'getChildren', path: '/', watch: false }, (r) => got.push(...(r.children ?? [])));
      sim.run({ untilUs: 23_000_000 });
      for (let i = 0; i < 3; i++) expect(got).toContain(`before${i}`);
      for (let i = 0; i < writes; i++) expect(got).toContain(`during${i}`);
      expect(zk.audit.prefixViolation).toBeNull();
    });
  }
});

const idle = defineScenario({
  name: 'zk-cold-start-test',
  description: 'test: a ZK-mode cluster from scratch, no faults',
  modes: ['zk'],
  until: '10m',
  params: ZK_TEST_PARAMS,
  build(ctx) {
    const h = buildZkCluster(ctx);
    const { sim } = ctx;
    return {
      plan: { steps: [] },
      metrics: () => h.tracker.metrics(),
      extra: () => {
        const brokers = ctx.params['brokers'] as number;
        const tree = (sim.node('zk-0').behavior as QuorumPeer).tree;
        let registered = 0;
        let epochsMatch = 0;
        for (let b = 0; b < brokers; b++) {
          const n = tree.get(`${BROKER_IDS_PATH}/${b}`);
          const broker = sim.node(`broker-${b}`).behavior as ZkBroker;
          if (n !== undefined) registered++;
          if (n !== undefined && broker.brokerEpoch === n.czxid) epochsMatch++;
        }
        const ctrl = tree.get(CONTROLLER_PATH)?.data as number | undefined;
        const actives = [...Array(brokers).keys()].filter((b) => (sim.node(`broker-${b}`).behavior as ZkBroker).controller.active);
        return { ...h.extra(), registered, epochsMatch, controllerZnode: ctrl ?? null, actives: actives.join(','), epochZnode: tree.get(CONTROLLER_EPOCH_PATH)?.data as number };
      },
    };
  },
});

describe('ZK-mode cold start', () => {
  it('from scratch: ZooKeeper elects, brokers register (broker epoch = czxid), one controller is elected and loads', () => {
    const r = runOnce({ file: 'test', scenario: idle, seed: 5, mode: 'zk', overrides: { 'zk.cold.start': true, partitions: 600, brokers: 5 }, untilUs: 120_000_000 });
    expect(r.violation).toBeNull();
    expect(r.extra['registered']).toBe(5);
    expect(r.extra['epochsMatch']).toBe(5);
    expect(r.extra['actives']).toBe(String(r.extra['controllerZnode']));
    expect(r.extra['epochZnode']).toBe(2);
    expect(r.extra['zk.controller.epoch']).toBe(2);
    expect(r.extra['zk.controller.zk.reads'] as number).toBeGreaterThanOrEqual(600);
  });
});
