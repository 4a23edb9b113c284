// The floor of a 2M-partition controller failover (bench/scale.ts runs it in a child process of
// its own, so its peak RSS is its own): plain typed-array loops doing the irreducible work of the
// ZooKeeper-mode failover, nothing simulated.
//   set-up: the replica layout, the ZooKeeper tree's partition states, truth, the controller's
//           context and every broker's metadata cache and hosted replica state, allocated and
//           touched (KRaft's run is almost only this: its floor is the set-up alone);
//   work:   reload every state from the tree into the context, elect a new leader (epoch + 1,
//           ISR shrunk) for every partition the dead broker led or followed, write those to the
//           tree and truth, and apply every state at every live broker (UpdateMetadata to all, the
//           LeaderAndIsr states to the hosts).
// Prints one JSON line: { partitions, brokers, setupMs, workMs, maxRssKb }.
// Usage: node bench/scale-floor.mjs [partitions] [brokers]
import { readFileSync } from 'node:fs';

const P = Number(process.argv[2] ?? 2_000_000);
const B = Number(process.argv[3] ?? 12);
const RF = 3;
const FULL = (1 << RF) - 1;

function states(n) {
  return { leader: new Int32Array(n), epoch: new Int32Array(n), version: new Int32Array(n), isr: new Uint8Array(n) };
}

const t0 = performance.now();
const replicas = new Int32Array(P * RF);
for (let p = 0; p < P; p++) for (let i = 0; i < RF; i++) replicas[p * RF + i] = (p + i * (1 + (p % (B - 1)))) % B;
const tree = states(P);
for (let p = 0; p < P; p++) {
  tree.leader[p] = replicas[p * RF];
  tree.isr[p] = FULL;
}
const truth = states(P);
truth.leader.set(tree.leader);
truth.isr.set(tree.isr);
const ctx = states(P);
const caches = [];
for (let b = 0; b < B; b++) {
  const c = states(P);
  c.leader.set(tree.leader);
  c.isr.set(tree.isr);
  caches.push(c);
}
// Hosted replica state: each broker's partitions (rf / B of them) and their leader, epoch, ISR.
const counts = new Int32Array(B);
for (let i = 0; i < replicas.length; i++) counts[replicas[i]]++;
const hosted = [];
for (let b = 0; b < B; b++) hosted.push({ parts: new Int32Array(counts[b]), s: states(counts[b]) });
const fill = new Int32Array(B);
for (let i = 0; i < replicas.length; i++) {
  const b = replicas[i];
  const k = fill[b]++;
  hosted[b].parts[k] = Math.floor(i / RF);
  hosted[b].s.leader[k] = replicas[i - (i % RF)];
  hosted[b].s.isr[k] = FULL;
}
const t1 = performance.now();

const dead = 0;
// Reload.
for (let p = 0; p < P; p++) {
  ctx.leader[p] = tree.leader[p];
  ctx.epoch[p] = tree.epoch[p];
  ctx.version[p] = tree.version[p];
  ctx.isr[p] = tree.isr[p];
}
// Elect and shrink: partitions with a replica on the dead broker.
for (let p = 0; p < P; p++) {
  let slot = -1;
  for (let i = 0; i < RF; i++) if (replicas[p * RF + i] === dead) slot = i;
  if (slot < 0) continue;
  const isr = ctx.isr[p] & ~(1 << slot);
  let leader = ctx.leader[p];
  if (leader === dead) {
    leader = -1;
    for (let i = 0; i < RF; i++) if ((isr & (1 << i)) !== 0) {
      leader = replicas[p * RF + i];
      break;
    }
  }
  ctx.leader[p] = leader;
  ctx.epoch[p]++;
  ctx.version[p]++;
  ctx.isr[p] = isr;
  tree.leader[p] = truth.leader[p] = leader;
  tree.epoch[p] = truth.epoch[p] = ctx.epoch[p];
  tree.version[p] = truth.version[p] = ctx.version[p];
  tree.isr[p] = truth.isr[p] = isr;
}
// Apply at every live broker.
for (let b = 0; b < B; b++) {
  if (b === dead) continue;
  const c = caches[b];
  for (let p = 0; p < P; p++) {
    c.leader[p] = ctx.leader[p];
    c.epoch[p] = ctx.epoch[p];
    c.version[p] = ctx.version[p];
    c.isr[p] = ctx.isr[p];
  }
  const h = hosted[b];
  for (let k = 0; k < h.parts.length; k++) {
    const p = h.parts[k];
    if (ctx.epoch[p] <= h.s.epoch[k] && ctx.epoch[p] !== 0) continue;
    h.s.leader[k] = ctx.leader[p];
    h.s.epoch[k] = ctx.epoch[p];
    h.s.isr[k] = ctx.isr[p];
  }
}
const t2 = performance.now();

let check = 0;
for (let b = 0; b < B; b++) check += caches[b].epoch[P - 1] + hosted[b].s.epoch[0];
const hwm = /VmHWM:\s+(\d+)\s+kB/.exec(readFileSync('/proc/self/status', 'utf8'));
const maxRssKb = hwm !== null ? Number(hwm[1]) : process.resourceUsage().maxRSS;
process.stdout.write(JSON.stringify({ partitions: P, brokers: B, setupMs: t1 - t0, workMs: t2 - t1, maxRssKb, check }) + '\n');
