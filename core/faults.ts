import type { LinkFault, PartitionShape } from './network.ts';
import { assertNever } from './network.ts';
import type { SimNode } from './node.ts';
import type { Rng } from './rng.ts';
import type { Simulation } from './sim.ts';

/**
 * Names a node in a fault plan: its name ('broker-3'), a role the model resolves when the action
 * runs ('@activeController'), or a node bound by an earlier action ('$victim').
 */
export type NodeRef = string;

export type PartitionSpec =
  | { readonly type: 'symmetric'; readonly a: readonly NodeRef[]; readonly b: readonly NodeRef[] }
  | { readonly type: 'one-way'; readonly from: readonly NodeRef[]; readonly to: readonly NodeRef[] }
  | { readonly type: 'isolate'; readonly node: NodeRef }
  | { readonly type: 'bridge'; readonly a: readonly NodeRef[]; readonly bridge: NodeRef; readonly b: readonly NodeRef[] }
  | { readonly type: 'majorities-ring'; readonly nodes: readonly NodeRef[] }
  | { readonly type: 'groups'; readonly groups: readonly (readonly NodeRef[])[] };

export type FaultAction =
  | { readonly type: 'partition'; readonly shape: PartitionSpec; readonly bind?: string }
  | { readonly type: 'heal' }
  | { readonly type: 'crash'; readonly node: NodeRef; readonly keepUnsynced?: boolean; readonly bind?: string }
  | { readonly type: 'restart'; readonly node: NodeRef }
  | { readonly type: 'pause'; readonly node: NodeRef; readonly bind?: string }
  | { readonly type: 'resume'; readonly node: NodeRef }
  | { readonly type: 'lose-unsynced'; readonly node: NodeRef }
  | { readonly type: 'wipe'; readonly node: NodeRef }
  | {
      readonly type: 'link-fault';
      readonly from: NodeRef;
      readonly to: NodeRef;
      readonly drop?: number;
      readonly delayMs?: number;
      readonly duplicate?: number;
      readonly reorder?: number;
    }
  | { readonly type: 'clear-link-faults' }
  | { readonly type: 'clog'; readonly from: NodeRef; readonly to: NodeRef }
  | { readonly type: 'unclog'; readonly from: NodeRef; readonly to: NodeRef }
  | { readonly type: 'clock-rate'; readonly node: NodeRef; readonly rate: number }
  | { readonly type: 'clock-jump'; readonly node: NodeRef; readonly deltaMs: number }
  | { readonly type: 'clock-offset'; readonly node: NodeRef; readonly offsetMs: number }
  /** Ends every fault: heal, clear link faults, unclog, resume paused nodes, restart crashed ones. */
  | { readonly type: 'heal-all'; readonly restart?: boolean };

/** Matches a trace record: "the first message of type X from node Y". */
export interface TraceMatch {
  readonly kind: string;
  readonly label?: string;
  readonly node?: NodeRef;
  readonly peer?: NodeRef;
  /** Only records at or after this virtual time (ms) match. */
  readonly fromMs?: number;
}

export interface FaultStep {
  readonly atMs: number;
  readonly action: FaultAction;
  /** The scenario's main fault: recovery is measured from it. */
  readonly main?: boolean;
}

export interface FaultTrigger {
  readonly when: TraceMatch;
  readonly afterMs?: number;
  readonly action: FaultAction;
  readonly main?: boolean;
}

export interface FaultPlan {
  readonly steps: readonly FaultStep[];
  readonly triggers?: readonly FaultTrigger[];
}

export const EMPTY_PLAN: FaultPlan = { steps: [] };

/** Runs a fault plan against a simulation: timed steps, and triggers on trace records. */
export class FaultInjector {
  private readonly bound = new Map<string, SimNode>();
  private readonly roles = new Map<string, () => SimNode | null>();
  private pendingTriggers: { t: FaultTrigger; node: number; peer: number }[] = [];
  private stepsLeft = 0;
  mainFaultAtUs = -1;
  lastActionAtUs = -1;
  actionsRun = 0;

  constructor(private readonly sim: Simulation) {}

  /** Lets plans name a node by role ('@activeController'); the model answers when the action runs. */
  defineRole(name: string, resolve: () => SimNode | null): void {
    this.roles.set(name, resolve);
  }

  /** Timed steps of the plan not yet run. */
  get stepsRemaining(): number {
    return this.stepsLeft;
  }

  get hasTriggers(): boolean {
    return this.pendingTriggers.length > 0;
  }

  resolve(ref: NodeRef): SimNode {
    let n: SimNode | null | undefined;
    if (ref.startsWith('@')) {
      const r = this.roles.get(ref.slice(1));
      if (r === undefined) throw new FaultPlanError(`unknown role ${ref}`);
      n = r();
      if (n === null) throw new FaultPlanError(`role ${ref} has no node at ${this.sim.nowUs / 1000} ms`);
    } else if (ref.startsWith('$')) {
      n = this.bound.get(ref.slice(1));
      if (n === undefined) throw new FaultPlanError(`${ref} is not bound by an earlier action`);
    } else {
      n = this.sim.findNode(ref);
      if (n === undefined) throw new FaultPlanError(`no node named ${ref}`);
    }
    return n;
  }

  install(plan: FaultPlan): void {
    const steps = [...plan.steps].sort((a, b) => a.atMs - b.atMs);
    this.stepsLeft = steps.length;
    for (const step of steps) {
      this.sim.at(Math.round(step.atMs * 1000), () => {
        this.stepsLeft--;
        this.apply(step.action, step.main === true);
      });
    }
    for (const t of plan.triggers ?? []) {
      // Named nodes are resolved up front; roles are matched when a record arrives.
      const node = t.when.node !== undefined && !t.when.node.startsWith('@') && !t.when.node.startsWith('$') ? this.resolve(t.when.node).id : -1;
      const peer = t.when.peer !== undefined && !t.when.peer.startsWith('@') && !t.when.peer.startsWith('$') ? this.resolve(t.when.peer).id : -1;
      this.pendingTriggers.push({ t, node, peer });
    }
    if (steps.length === 0) this.sim.props.armLiveness(0);
  }

  /** Checks pending triggers against one trace record. */
  onRecord(kind: string, node: number, peer: number, label: string): void {
    for (let i = 0; i < this.pendingTriggers.length; i++) {
      const p = this.pendingTriggers[i]!;
      const w = p.t.when;
      if (w.kind !== kind) continue;
      if (w.fromMs !== undefined && this.sim.nowUs < w.fromMs * 1000) continue;
      if (w.label !== undefined && w.label !== label) continue;
      if (!this.matchesNode(w.node, p.node, node)) continue;
      if (!this.matchesNode(w.peer, p.peer, peer)) continue;
      this.pendingTriggers.splice(i--, 1);
      const t = p.t;
      const fire = (): void => this.apply(t.action, t.main === true);
      // Never act inside the event that matched: the action runs as its own event.
      this.sim.at(this.sim.nowUs + Math.round((t.afterMs ?? 0) * 1000), fire);
    }
  }

  private matchesNode(ref: NodeRef | undefined, resolved: number, actual: number): boolean {
    if (ref === undefined) return true;
    if (resolved >= 0) return resolved === actual;
    try {
      return this.resolve(ref).id === actual;
    } catch {
      return false;
    }
  }

  apply(action: FaultAction, main = false): void {
    const sim = this.sim;
    const net = sim.net;
    const id = (ref: NodeRef): number => this.resolve(ref).id;
    let subject = -1;
    const bind = (name: string | undefined, n: SimNode): void => {
      if (name !== undefined) this.bound.set(name, n);
    };
    switch (action.type) {
      case 'partition': {
        const shape = this.resolveShape(action.shape);
        if (action.shape.type === 'isolate') {
          subject = (shape as { node: number }).node;
          bind(action.bind, sim.nodes[subject]!);
        }
        net.partition(shape);
        break;
      }
      case 'heal':
        net.heal();
        break;
      case 'crash': {
        const n = this.resolve(action.node);
        subject = n.id;
        bind(action.bind, n);
        sim.crash(n, action.keepUnsynced !== true);
        break;
      }
      case 'restart': {
        const n = this.resolve(action.node);
        subject = n.id;
        sim.restart(n);
        break;
      }
      case 'pause': {
        const n = this.resolve(action.node);
        subject = n.id;
        bind(action.bind, n);
        sim.pause(n);
        break;
      }
      case 'resume': {
        const n = this.resolve(action.node);
        subject = n.id;
        sim.resume(n);
        break;
      }
      case 'lose-unsynced':
        subject = id(action.node);
        sim.nodes[subject]!.store.loseUnsynced();
        break;
      case 'wipe':
        subject = id(action.node);
        sim.nodes[subject]!.store.wipe();
        break;
      case 'link-fault': {
        const fault: LinkFault = {
          ...(action.drop !== undefined ? { drop: action.drop } : {}),
          ...(action.delayMs !== undefined ? { delayUs: Math.round(action.delayMs * 1000) } : {}),
          ...(action.duplicate !== undefined ? { duplicate: action.duplicate } : {}),
          ...(action.reorder !== undefined ? { reorder: action.reorder } : {}),
        };
        const froms = action.from === '*' ? sim.nodes.map((n) => n.id) : [id(action.from)];
        const tos = action.to === '*' ? sim.nodes.map((n) => n.id) : [id(action.to)];
        for (const f of froms) for (const t of tos) if (f !== t) net.setLinkFault(f, t, fault);
        if (froms.length === 1) subject = froms[0]!;
        break;
      }
      case 'clear-link-faults':
        net.clearLinkFaults();
        break;
      case 'clog':
        subject = id(action.from);
        net.clog(subject, id(action.to));
        break;
      case 'unclog':
        subject = id(action.from);
        net.unclog(subject, id(action.to));
        break;
      case 'clock-rate':
        subject = id(action.node);
        sim.nodes[subject]!.setClockRate(action.rate);
        break;
      case 'clock-jump':
        subject = id(action.node);
        sim.nodes[subject]!.jumpWallClock(Math.round(action.deltaMs * 1000));
        break;
      case 'clock-offset':
        subject = id(action.node);
        sim.nodes[subject]!.setWallOffset(Math.round(action.offsetMs * 1000));
        break;
      case 'heal-all':
        net.heal();
        net.clearLinkFaults();
        net.unclogAll();
        for (const n of sim.nodes) {
          if (n.paused) sim.resume(n);
          if (!n.up && action.restart !== false) sim.restart(n);
        }
        break;
      default:
        assertNever(action);
    }
    this.actionsRun++;
    this.lastActionAtUs = sim.nowUs;
    if (main && this.mainFaultAtUs < 0) this.mainFaultAtUs = sim.nowUs;
    sim.trace.record(sim.nowUs, 'fault', subject, -1, action.type, main ? 1 : 0, JSON.stringify(action));
    if (this.stepsLeft === 0) sim.props.armLiveness(sim.nowUs);
  }

  private resolveShape(s: PartitionSpec): PartitionShape {
    const ids = (refs: readonly NodeRef[]): number[] => refs.map((r) => this.resolve(r).id);
    switch (s.type) {
      case 'symmetric':
        return { type: 'symmetric', a: ids(s.a), b: ids(s.b) };
      case 'one-way':
        return { type: 'one-way', from: ids(s.from), to: ids(s.to) };
      case 'isolate':
        return { type: 'isolate', node: this.resolve(s.node).id };
      case 'bridge':
        return { type: 'bridge', a: ids(s.a), bridge: this.resolve(s.bridge).id, b: ids(s.b) };
      case 'majorities-ring':
        return { type: 'majorities-ring', nodes: ids(s.nodes) };
      case 'groups':
        return { type: 'groups', groups: s.groups.map(ids) };
      default:
        return assertNever(s);
    }
  }
}

/** A fault plan that cannot run (an unknown node or role): the user's input, not a bug. */
export class FaultPlanError extends Error {}

export interface SwarmOptions {
  /** When faults may start and must end, ms. */
  readonly startMs: number;
  readonly endMs: number;
  /** Fault families to draw from; all by default. */
  readonly families?: readonly SwarmFamily[];
}

export type SwarmFamily = 'partition' | 'crash' | 'pause' | 'link' | 'clog' | 'clock' | 'disk';
const ALL_FAMILIES: readonly SwarmFamily[] = ['partition', 'crash', 'pause', 'link', 'clog', 'clock', 'disk'];

/**
 * Draws a random fault plan for one seed: an intensity in [0.2, 1), a mix of families, each fault
 * with its own heal, and a final heal-all at `endMs`, so liveness can be demanded afterwards.
 */
export function swarmPlan(rng: Rng, nodes: readonly NodeRef[], opts: SwarmOptions): FaultPlan {
  const families = opts.families ?? ALL_FAMILIES;
  const intensity = 0.2 + 0.8 * rng.next();
  const mix = families.filter(() => rng.bool(0.6));
  const chosen = mix.length > 0 ? mix : [rng.pick(families)];
  const count = 1 + Math.floor(intensity * 8);
  const steps: FaultStep[] = [];
  const span = opts.endMs - opts.startMs;
  for (let i = 0; i < count; i++) {
    const at = opts.startMs + Math.floor(rng.next() * span * 0.8);
    const lastFor = Math.max(1, Math.floor(rng.exp(span * 0.1 * intensity)));
    const end = Math.min(opts.endMs, at + lastFor);
    const node = rng.pick(nodes);
    const other = rng.pick(nodes.filter((n) => n !== node).length > 0 ? nodes.filter((n) => n !== node) : nodes);
    const family = rng.pick(chosen);
    switch (family) {
      case 'partition': {
        const shuffled = rng.shuffle(nodes);
        const cut = 1 + rng.int(Math.max(1, nodes.length - 1));
        const a = shuffled.slice(0, cut);
        const b = shuffled.slice(cut);
        const kind = rng.int(6);
        const shape: PartitionSpec =
          kind === 0 ? { type: 'isolate', node }
          : kind === 1 ? { type: 'one-way', from: a, to: b }
          : kind === 2 && b.length >= 2 ? { type: 'bridge', a, bridge: b[0]!, b: b.slice(1) }
          : kind === 3 ? { type: 'majorities-ring', nodes: shuffled }
          : kind === 4 ? { type: 'groups', groups: [a, b] }
          : { type: 'symmetric', a, b };
        steps.push({ atMs: at, action: { type: 'partition', shape } }, { atMs: end, action: { type: 'heal' } });
        break;
      }
      case 'crash':
        steps.push({ atMs: at, action: { type: 'crash', node } }, { atMs: end, action: { type: 'restart', node } });
        break;
      case 'pause':
        steps.push({ atMs: at, action: { type: 'pause', node } }, { atMs: end, action: { type: 'resume', node } });
        break;
      case 'link':
        steps.push(
          { atMs: at, action: { type: 'link-fault', from: node, to: other, drop: rng.next() * 0.3 * intensity, delayMs: rng.int(50), duplicate: rng.next() * 0.1, reorder: rng.next() * 0.1 } },
          { atMs: end, action: { type: 'clear-link-faults' } },
        );
        break;
      case 'clog':
        steps.push({ atMs: at, action: { type: 'clog', from: node, to: other } }, { atMs: end, action: { type: 'unclog', from: node, to: other } });
        break;
      case 'clock':
        if (rng.bool(0.5)) {
          steps.push({ atMs: at, action: { type: 'clock-rate', node, rate: 1 + (rng.next() - 0.5) * 0.2 * intensity } }, { atMs: end, action: { type: 'clock-rate', node, rate: 1 } });
        } else {
          steps.push({ atMs: at, action: { type: 'clock-jump', node, deltaMs: Math.round((rng.next() - 0.5) * 60_000 * intensity) } });
        }
        break;
      case 'disk':
        // A process crash keeps the page cache; 'crash' above is a power loss that drops it.
        steps.push({ atMs: at, action: { type: 'crash', node, keepUnsynced: true } }, { atMs: end, action: { type: 'restart', node } });
        break;
      default:
        assertNever(family);
    }
  }
  steps.push({ atMs: opts.endMs, action: { type: 'heal-all' } });
  return { steps };
}
