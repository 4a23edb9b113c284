import { Simulation, type Message, type SimNode } from '../../core/index.ts';
import { ZooKeeperClient, type KeeperState } from '../../sim/zookeeper/client.ts';
import { ZkEnsemble } from '../../sim/zookeeper/ensemble.ts';
import { isZkClientMsg, type Request, type WatchEventType } from '../../sim/zookeeper/types.ts';

export const COSTS = { readUs: 20, writeUs: 50, txnLogFsyncUs: 1000, statBytes: 68, znodePathBytes: 45, partitionStateZnodeBytes: 80 };

export interface TestClient {
  node: SimNode;
  zk: () => ZooKeeperClient;
  states: { atMs: number; state: KeeperState }[];
  watches: { atMs: number; path: string; event: WatchEventType }[];
}

export function ensemble(seed: number, opts: { servers?: number; warm?: boolean; partitions?: number; bugs?: string[] } = {}): { sim: Simulation; zk: ZkEnsemble } {
  const sim = new Simulation({ seed });
  const zk = new ZkEnsemble(sim, { servers: opts.servers ?? 3, tickMs: 2000, initLimit: 10, syncLimit: 5, partitions: opts.partitions ?? 4, costs: COSTS, warm: opts.warm ?? false, bugs: new Set(opts.bugs ?? []) });
  return { sim, zk };
}

export function client(sim: Simulation, zk: ZkEnsemble, name: string, sessionTimeoutMs = 18000, connect = true, onState?: (s: KeeperState, zk: ZooKeeperClient) => void): TestClient {
  const states: TestClient['states'] = [];
  const watches: TestClient['watches'] = [];
  let c: ZooKeeperClient | null = null;
  const node = sim.addNode(name, (n) => {
    c = new ZooKeeperClient(n, zk.nodes, {
      sessionTimeoutMs,
      maxInFlight: 10,
      onState: (s) => {
        states.push({ atMs: sim.nowUs / 1000, state: s });
        onState?.(s, c!);
      },
      onWatch: (path, event) => watches.push({ atMs: sim.nowUs / 1000, path, event }),
      requestBytes: (r: Request) => (r.kind === 'write' ? 64 : 48),
    });
    if (connect) n.after(0, () => c!.connect());
    return {
      onMessage(from: SimNode, m: Message) {
        if (isZkClientMsg(m)) c!.onMessage(from, m);
      },
    };
  });
  return { node, zk: () => c!, states, watches };
}
