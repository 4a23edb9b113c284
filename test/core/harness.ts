import { Simulation, type Message, type NodeBehavior, type SimNode, type TraceRecord } from '../../core/index.ts';

export interface Probe extends Message {
  readonly type: 'Probe';
  readonly seq: number;
}

export interface Delivery {
  readonly atUs: number;
  readonly from: string;
  readonly to: string;
  readonly seq: number;
}

/** A simulation of `n` nodes ('n0'…) that only record what they receive, plus the full trace. */
export function recordingSim(n: number, opts: { seed?: string; link?: Parameters<typeof makeSim>[1] } = {}) {
  const sim = makeSim(opts.seed ?? 'test', opts.link);
  const deliveries: Delivery[] = [];
  const records: TraceRecord[] = [];
  sim.trace.sink = (r) => records.push(r);
  const nodes: SimNode[] = [];
  for (let i = 0; i < n; i++) {
    nodes.push(
      sim.addNode(`n${i}`, (self): NodeBehavior => ({
        onMessage(from, msg) {
          deliveries.push({ atUs: sim.nowUs, from: from.name, to: self.name, seq: (msg as Probe).seq });
        },
      })),
    );
  }
  /** Sends a probe from→to at virtual time atUs. */
  const sendAt = (atUs: number, from: SimNode, to: SimNode, seq: number, sizeBytes = 100): void => {
    sim.at(atUs, () => from.send(to, { type: 'Probe', seq } satisfies Probe, sizeBytes));
  };
  return { sim, nodes, deliveries, records, sendAt };
}

function makeSim(seed: string, link?: ConstructorParameters<typeof Simulation>[0]['link']): Simulation {
  return new Simulation(link === undefined ? { seed } : { seed, link });
}
