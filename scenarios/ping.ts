import type { Message, SimNode } from '../core/index.ts';
import { msToUs } from '../core/index.ts';
import { listParam, num } from '../sim/params.ts';
import { defineScenario } from '../sim/scenario.ts';

/**
 * Kernel demo: five nodes ping each other under a fault plan that uses every fault family
 * (link loss, delay, clog-then-burst, duplicate, reorder; every partition shape; crash, restart,
 * pause; lost unsynced writes and a wiped disk; clock drift, offset and jump; a trace trigger).
 *
 * Each node numbers its pings from a block of sequence numbers it first reserves on disk and
 * fsyncs, so a number is never used twice by the same disk, even across power loss. That is the
 * safety property; bug `skip-fsync` uses a block without fsyncing it, and power loss breaks it.
 * Liveness: within `liveness.ms` of the last fault, every pair of live nodes hears each other.
 */

interface Ping extends Message { readonly type: 'Ping'; readonly seq: number }
interface Pong extends Message { readonly type: 'Pong'; readonly seq: number }
interface Hello extends Message { readonly type: 'Hello' }
type PingMsg = Ping | Pong | Hello;

interface DiskState { readonly diskId: number; readonly reservedUpTo: number }

const NAMES = ['n0', 'n1', 'n2', 'n3', 'n4'];
const BLOCK = 20;

export default defineScenario({
  name: 'ping',
  description: 'kernel demo: 5 nodes ping each other under every fault family',
  modes: null,
  until: '40s',
  params: {
    'ping.interval.ms': { default: 100, unit: 'ms', description: 'interval between pings to each peer', min: 1 },
    'peer.timeout.ms': { default: 1000, unit: 'ms', description: 'a peer not heard from for this long is marked down', min: 1 },
    'liveness.ms': { default: 5000, unit: 'ms', description: 'bound for every pair to hear each other after the last fault', min: 1 },
    bugs: { default: '', unit: '', description: 'deliberate bugs to show the properties can fail', choices: ['skip-fsync'], list: true },
  },
  build({ sim, params }) {
    const intervalUs = msToUs(num(params, 'ping.interval.ms'));
    const peerTimeoutUs = msToUs(num(params, 'peer.timeout.ms'));
    const skipFsync = listParam(params, 'bugs').has('skip-fsync');
    // Oracle, outside every node: the last sequence number each (node, disk) has sent.
    const lastSent = new Map<string, number>();
    let reused: string | null = null;
    // Last time (µs) each node heard a Pong from each peer, for liveness.
    const heard: number[][] = NAMES.map(() => NAMES.map(() => -1));

    const behavior = (node: SimNode) => {
      const peers = (): SimNode[] => sim.nodes.filter((n) => n !== node);
      const stored = node.store.get<DiskState>('disk');
      let disk: DiskState = stored ?? { diskId: node.rng.int(1_000_000_000), reservedUpTo: 0 };
      // A fresh disk is formatted (its id fsynced) before first use, bug or not.
      let formatted = stored !== undefined;
      let nextSeq = disk.reservedUpTo;
      let usableUpTo = disk.reservedUpTo;
      let reserving = false;
      const lastPong = new Map<number, number>();
      const down = new Set<number>();

      const reserve = (): void => {
        if (reserving) return;
        const next: DiskState = { diskId: disk.diskId, reservedUpTo: Math.max(usableUpTo, nextSeq) + BLOCK };
        disk = next;
        node.store.put('disk', next);
        if (skipFsync && formatted) {
          usableUpTo = next.reservedUpTo;
          return;
        }
        reserving = true;
        node.fsync('reserve-seq', 16, () => {
          reserving = false;
          formatted = true;
          usableUpTo = next.reservedUpTo;
        });
      };

      const tick = (): void => {
        if (nextSeq + peers().length > usableUpTo) reserve();
        for (const p of peers()) {
          if (nextSeq >= usableUpTo) break;
          const seq = nextSeq++;
          const key = `${node.name}/${disk.diskId}`;
          const prev = lastSent.get(key);
          if (prev !== undefined && seq <= prev && reused === null) reused = `${node.name} (disk ${disk.diskId}) sent seq ${seq} after ${prev}`;
          lastSent.set(key, seq);
          node.note('ping.sent', seq);
          node.send(p, { type: 'Ping', seq }, 64);
        }
        node.setTimer('ping', intervalUs, tick);
      };

      const check = (): void => {
        const now = node.monoNowUs;
        for (const p of peers()) {
          const last = lastPong.get(p.id) ?? 0;
          if (now - last > peerTimeoutUs && !down.has(p.id)) {
            down.add(p.id);
            node.note('peer.down', p.id);
          }
        }
        node.setTimer('peer-check', peerTimeoutUs / 4, check);
      };

      for (const p of peers()) node.send(p, { type: 'Hello' }, 32);
      reserve();
      node.setTimer('ping', node.rng.int(intervalUs), tick);
      node.setTimer('peer-check', peerTimeoutUs / 4, check);

      return {
        onMessage(from: SimNode, raw: Message) {
          const msg = raw as PingMsg;
          switch (msg.type) {
            case 'Ping':
              node.executor('handler').submit('Ping', 20, () => node.send(from, { type: 'Pong', seq: msg.seq }, 64));
              break;
            case 'Pong':
              lastPong.set(from.id, node.monoNowUs);
              heard[node.id]![from.id] = sim.nowUs;
              if (down.delete(from.id)) node.note('peer.up', from.id);
              break;
            case 'Hello':
              break;
          }
        },
      };
    };

    for (const name of NAMES) sim.addNode(name, behavior);

    sim.props.safety('seq-unique-per-disk', () => reused, { on: ['ping.sent'] });
    sim.props.liveness('all-pairs-hear-each-other', msToUs(num(params, 'liveness.ms')), () => {
      const since = sim.props.quietSinceUs;
      for (const a of sim.nodes) {
        if (!a.up) continue;
        for (const b of sim.nodes) {
          if (a === b || !b.up) continue;
          if (heard[a.id]![b.id]! < since) return `${a.name} has not heard ${b.name} since the last fault`;
        }
      }
      return null;
    });

    const all = NAMES;
    return {
      plan: {
        steps: [
          { atMs: 1000, action: { type: 'link-fault', from: 'n0', to: 'n1', drop: 0.3, delayMs: 20 } },
          { atMs: 2000, action: { type: 'clear-link-faults' } },
          { atMs: 2500, action: { type: 'clog', from: 'n1', to: 'n2' } },
          { atMs: 3500, action: { type: 'unclog', from: 'n1', to: 'n2' } },
          { atMs: 4000, action: { type: 'link-fault', from: '*', to: '*', duplicate: 0.2, reorder: 0.2 } },
          { atMs: 5000, action: { type: 'clear-link-faults' } },
          { atMs: 5500, action: { type: 'partition', shape: { type: 'symmetric', a: ['n0', 'n1'], b: ['n2', 'n3', 'n4'] } } },
          { atMs: 6500, action: { type: 'heal' } },
          { atMs: 7000, action: { type: 'partition', shape: { type: 'one-way', from: ['n0'], to: ['n3'] } } },
          { atMs: 7500, action: { type: 'heal' } },
          { atMs: 8000, action: { type: 'partition', shape: { type: 'bridge', a: ['n0'], bridge: 'n1', b: ['n2', 'n3', 'n4'] } } },
          { atMs: 9000, action: { type: 'heal' } },
          { atMs: 9500, action: { type: 'partition', shape: { type: 'majorities-ring', nodes: all } } },
          { atMs: 10500, action: { type: 'heal' } },
          { atMs: 11000, action: { type: 'partition', shape: { type: 'groups', groups: [['n0'], ['n1', 'n2'], ['n3', 'n4']] } } },
          { atMs: 12000, action: { type: 'heal' } },
          { atMs: 12500, action: { type: 'partition', shape: { type: 'isolate', node: 'n4' } } },
          { atMs: 13500, action: { type: 'heal' } },
          { atMs: 14000, action: { type: 'crash', node: 'n1' }, main: true },
          { atMs: 15000, action: { type: 'restart', node: 'n1' } },
          { atMs: 15500, action: { type: 'pause', node: 'n2' } },
          { atMs: 17500, action: { type: 'resume', node: 'n2' } },
          { atMs: 18000, action: { type: 'clock-rate', node: 'n3', rate: 1.5 } },
          { atMs: 18500, action: { type: 'clock-offset', node: 'n0', offsetMs: -5000 } },
          { atMs: 19000, action: { type: 'clock-jump', node: 'n3', deltaMs: 30000 } },
          { atMs: 20000, action: { type: 'clock-rate', node: 'n3', rate: 1 } },
          { atMs: 20500, action: { type: 'crash', node: 'n4', keepUnsynced: true } },
          { atMs: 20500, action: { type: 'lose-unsynced', node: 'n4' } },
          { atMs: 21000, action: { type: 'restart', node: 'n4' } },
          { atMs: 22000, action: { type: 'crash', node: 'n3' } },
          { atMs: 22000, action: { type: 'wipe', node: 'n3' } },
          { atMs: 22500, action: { type: 'restart', node: 'n3' } },
          { atMs: 23000, action: { type: 'heal-all' } },
        ],
        triggers: [
          // When n1 announces itself after its restart, cut it off for 800 ms.
          { when: { kind: 'send', label: 'Hello', node: 'n1', fromMs: 14000 }, afterMs: 0, action: { type: 'partition', shape: { type: 'isolate', node: 'n1' } } },
          { when: { kind: 'send', label: 'Hello', node: 'n1', fromMs: 14000 }, afterMs: 800, action: { type: 'heal' } },
        ],
      },
    };
  },
});
