import type { LinkFault, PartitionShape } from './network.ts';
import { assertNever } from './network.ts';
import type { SimNode } from './node.ts';
import type { Rng } from './rng.ts';
import type { Simulation } from './sim.ts';

/**
 * Names nodes in a fault plan. A string is a node's name ('broker-3'), a role or group the model
 * resolves when the action runs ('@activeController', '@brokers'; '@all' is every node), or the
 * nodes bound by an earlier action ('$victim'). A `NodeSelector` narrows candidates down ("a broker
 * that is not the active controller", "every node but X"). A reference always stands for a set of
 * nodes: an action on a node (crash, restart, clock-rate, …) applies to each of them, in id order.
 */
export type NodeRef = string | NodeSelector;

/**
 * Candidates (`of`), minus `except`, minus `avoid` unless that would leave nothing, keeping only nodes
 * in `state`; then `pick`: every one of them ('all', the default), the one with the lowest node id
 * ('lowest': deterministic, the order nodes were created in), or one drawn from the run's fault
 * stream ('random': seeded, `<seed>/faults/select`, so it never shifts any other draw). Resolved when
 * the action runs. An `except`/`avoid` entry that names nothing now (an unbound `$name`, a role with
 * no node) excludes nothing; a selector left with no node is an error of the plan.
 */
export interface NodeSelector {
  readonly of: NodeRef | readonly NodeRef[];
  readonly except?: NodeRef | readonly NodeRef[];
  readonly avoid?: NodeRef | readonly NodeRef[];
  readonly state?: 'up' | 'down';
  readonly pick?: 'all' | 'lowest' | 'random';
}

/** `select('@brokers', { except: '@activeController', pick: 'lowest' })`: a selector, typed. */
export function select(of: NodeRef | readonly NodeRef[], opts: Omit<NodeSelector, 'of'> = {}): NodeSelector {
  return { of, ...opts };
}

/** Every node but these: `allBut('@activeController')`. */
export function allBut(...except: NodeRef[]): NodeSelector {
  return { of: '@all', except };
}

export type PartitionSpec =
  | { readonly type: 'symmetric'; readonly a: readonly NodeRef[]; readonly b: readonly NodeRef[] }
  | { readonly type: 'one-way'; readonly from: readonly NodeRef[]; readonly to: readonly NodeRef[] }
  | { readonly type: 'isolate'; readonly node: NodeRef }
  | { readonly type: 'bridge'; readonly a: readonly NodeRef[]; readonly bridge: NodeRef; readonly b: readonly NodeRef[] }
  | { readonly type: 'majorities-ring'; readonly nodes: readonly NodeRef[] }
  | { readonly type: 'groups'; readonly groups: readonly (readonly NodeRef[])[] };

/**
 * `bind: 'x'` on any action names its subject nodes `$x` for later actions and trigger matches:
 * the nodes acted on (node actions, 'op'); the isolated node, side `a`, `from`, the bridge, the
 * first group or the ring (partitions); `from` (link-fault, clog, unclog); the nodes restarted or
 * resumed (heal-all); nobody (heal, clear-link-faults). A binding is a set fixed when the action
 * runs: `$old` stays the crashed controller after another one is elected.
 */
interface Binds {
  readonly bind?: string;
}

export type FaultAction = Binds &
  (
    | { readonly type: 'partition'; readonly shape: PartitionSpec }
    | { readonly type: 'heal' }
    | { readonly type: 'crash'; readonly node: NodeRef; readonly keepUnsynced?: boolean }
    | { readonly type: 'restart'; readonly node: NodeRef }
    | { readonly type: 'pause'; readonly node: NodeRef }
    | { readonly type: 'resume'; readonly node: NodeRef }
    | { readonly type: 'lose-unsynced'; readonly node: NodeRef }
    | { readonly type: 'wipe'; readonly node: NodeRef }
    | {
        readonly type: 'link-fault';
        /** '*' is every node. */
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
    /** An operation the model defines (`defineOp`), e.g. Kafka's 'controlled-shutdown' of a broker. */
    | { readonly type: 'op'; readonly op: string; readonly node: NodeRef }
    /** Ends every fault: heal, clear link faults, unclog, resume paused nodes, restart crashed ones. */
    | { readonly type: 'heal-all'; readonly restart?: boolean }
  );

/** Matches a trace record: "the first message of type X from node Y". */
export interface TraceMatch {
  readonly kind: string;
  readonly label?: string;
  /** The record's node (or peer) is one of these nodes, resolved when a record arrives. */
  readonly node?: NodeRef;
  readonly peer?: NodeRef;
  /** The record's value equals this. */
  readonly value?: number;
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
  /**
   * The plan is not over until this trigger has fired and its action has run: until then it counts
   * as a step remaining, so the run does not stop as settled and liveness windows do not start.
   */
  readonly required?: boolean;
}

export interface FaultPlan {
  readonly steps: readonly FaultStep[];
  readonly triggers?: readonly FaultTrigger[];
}

export const EMPTY_PLAN: FaultPlan = { steps: [] };

/** A trace record as a watch sees it. */
export interface WatchedRecord {
  readonly atUs: number;
  readonly kind: string;
  readonly label: string;
  readonly node: SimNode | null;
  readonly peer: SimNode | null;
  readonly value: number;
}

interface Watcher {
  readonly match: TraceMatch;
  readonly fn: (r: WatchedRecord) => void;
  readonly node: number;
  readonly peer: number;
  active: boolean;
}

const NONE: readonly SimNode[] = [];
const asList = (r: NodeRef | readonly NodeRef[] | undefined): readonly NodeRef[] => (r === undefined ? [] : typeof r === 'string' || !Array.isArray(r) ? [r as NodeRef] : (r as readonly NodeRef[]));

/** Runs a fault plan against a simulation: timed steps, triggers on trace records, and watches. */
export class FaultInjector {
  private readonly bound = new Map<string, readonly SimNode[]>();
  private readonly roles = new Map<string, () => SimNode | readonly SimNode[] | null>();
  private readonly ops = new Map<string, (node: SimNode) => void>();
  private pendingTriggers: { t: FaultTrigger; node: number; peer: number }[] = [];
  /** Watches by record kind; `nWatchers` active ones in all. */
  private readonly watchers = new Map<string, Watcher[]>();
  private nWatchers = 0;
  /** Timed steps, actions scheduled with `act`, and required triggers, not yet run. */
  private stepsLeft = 0;
  private selectRng: Rng | null = null;
  mainFaultAtUs = -1;
  lastActionAtUs = -1;
  actionsRun = 0;

  constructor(private readonly sim: Simulation) {}

  /**
   * Lets plans name nodes by role ('@activeController') or group ('@brokers'); the model answers
   * when the action runs: one node, a list (a group, in any order), or null (nobody now).
   */
  defineRole(name: string, resolve: () => SimNode | readonly SimNode[] | null): void {
    this.roles.set(name, resolve);
  }

  /** Lets plans run a model operation on nodes: `{type: 'op', op: name, node}`. */
  defineOp(name: string, run: (node: SimNode) => void): void {
    this.ops.set(name, run);
  }

  /** Timed steps, scheduled actions and required triggers of the plan not yet run. */
  get stepsRemaining(): number {
    return this.stepsLeft;
  }

  /** Whether trace records must be shown to the injector (pending triggers or active watches). */
  get hasTriggers(): boolean {
    return this.pendingTriggers.length > 0 || this.nWatchers > 0;
  }

  /** The one node a reference names now; an error if it names none or several. */
  resolve(ref: NodeRef): SimNode {
    const all = this.resolveAll(ref);
    if (all.length > 1) throw new FaultPlanError(`${describe(ref)} names ${all.length} nodes (${all.map((n) => n.name).join(', ')}) where one is needed`);
    return all[0]!;
  }

  /** The nodes a reference names now, in id order; an error if it names none. */
  resolveAll(ref: NodeRef): readonly SimNode[] {
    const all = this.collect(ref, false);
    if (all.length === 0) {
      if (typeof ref === 'string' && ref.startsWith('@')) throw new FaultPlanError(`role ${ref} has no node at ${this.sim.nowUs / 1000} ms`);
      throw new FaultPlanError(`${describe(ref)} names no node at ${this.sim.nowUs / 1000} ms`);
    }
    return all;
  }

  /** `lenient`: an unbound $name or a role with no node is the empty set instead of an error. */
  private collect(ref: NodeRef, lenient: boolean): readonly SimNode[] {
    if (typeof ref === 'string') {
      if (ref.startsWith('@')) {
        const r = this.roles.get(ref.slice(1));
        if (r === undefined) {
          if (ref === '@all') return [...this.sim.nodes];
          throw new FaultPlanError(`unknown role ${ref}`);
        }
        const v = r();
        return v === null ? NONE : isNodeList(v) ? sortById(v) : [v];
      }
      if (ref.startsWith('$')) {
        const b = this.bound.get(ref.slice(1));
        if (b === undefined) {
          if (lenient) return NONE;
          throw new FaultPlanError(`${ref} is not bound by an earlier action`);
        }
        return b;
      }
      const n = this.sim.findNode(ref);
      if (n === undefined) throw new FaultPlanError(`no node named ${ref}`);
      return [n];
    }
    const union = (refs: NodeRef | readonly NodeRef[] | undefined, len: boolean): Set<SimNode> => {
      const s = new Set<SimNode>();
      for (const r of asList(refs)) for (const n of this.collect(r, len)) s.add(n);
      return s;
    };
    const except = union(ref.except, true);
    const avoid = union(ref.avoid, true);
    let c = sortById([...union(ref.of, lenient)].filter((n) => !except.has(n) && (ref.state === undefined || (ref.state === 'up') === n.up)));
    const preferred = c.filter((n) => !avoid.has(n));
    if (preferred.length > 0) c = preferred;
    if (c.length <= 1) return c;
    switch (ref.pick ?? 'all') {
      case 'all':
        return c;
      case 'lowest':
        return [c[0]!];
      case 'random':
        this.selectRng ??= this.sim.rng.fork('faults').fork('select');
        return [this.selectRng.pick(c)];
      default:
        return assertNever(ref.pick as never);
    }
  }

  install(plan: FaultPlan): void {
    const steps = [...plan.steps].sort((a, b) => a.atMs - b.atMs);
    this.stepsLeft += steps.length;
    for (const step of steps) {
      this.sim.at(Math.round(step.atMs * 1000), () => {
        this.stepsLeft--;
        this.apply(step.action, step.main === true);
      });
    }
    for (const t of plan.triggers ?? []) {
      if (t.required === true) this.stepsLeft++;
      this.pendingTriggers.push({ t, node: this.fixedId(t.when.node), peer: this.fixedId(t.when.peer) });
    }
    if (this.stepsLeft === 0) this.sim.props.armLiveness(0);
  }

  /**
   * Runs an action as its own event, `afterMs` from now (for scenarios that decide at run time,
   * e.g. from a watch). Until it has run it counts as a step remaining.
   */
  act(action: FaultAction, opts: { readonly afterMs?: number; readonly main?: boolean } = {}): void {
    this.stepsLeft++;
    this.sim.at(this.sim.nowUs + Math.round((opts.afterMs ?? 0) * 1000), () => {
      this.stepsLeft--;
      this.apply(action, opts.main === true);
    });
  }

  /**
   * Calls `fn` with every trace record that matches, in record order, from inside the event that
   * made it: `fn` may read state and call `act`, but must not change the simulation itself. Costs
   * nothing while no watch is active. Returns a function that ends the watch.
   */
  watch(match: TraceMatch, fn: (r: WatchedRecord) => void): () => void {
    const w: Watcher = { match, fn, node: this.fixedId(match.node), peer: this.fixedId(match.peer), active: true };
    let list = this.watchers.get(match.kind);
    if (list === undefined) this.watchers.set(match.kind, (list = []));
    list.push(w);
    this.nWatchers++;
    return () => {
      if (!w.active) return;
      w.active = false;
      this.nWatchers--;
      const l = this.watchers.get(match.kind)!;
      l.splice(l.indexOf(w), 1);
    };
  }

  /** A plain node name resolved up front; -1 for roles, bindings and selectors (matched per record). */
  private fixedId(ref: NodeRef | undefined): number {
    return typeof ref === 'string' && !ref.startsWith('@') && !ref.startsWith('$') ? this.resolve(ref).id : -1;
  }

  /** Checks pending triggers and watches against one trace record. */
  onRecord(kind: string, node: number, peer: number, label: string, value = 0): void {
    for (let i = 0; i < this.pendingTriggers.length; i++) {
      const p = this.pendingTriggers[i]!;
      if (!this.matches(p.t.when, p.node, p.peer, kind, node, peer, label, value)) continue;
      this.pendingTriggers.splice(i--, 1);
      const t = p.t;
      const fire = (): void => {
        if (t.required === true) this.stepsLeft--;
        this.apply(t.action, t.main === true);
      };
      // Never act inside the event that matched: the action runs as its own event.
      this.sim.at(this.sim.nowUs + Math.round((t.afterMs ?? 0) * 1000), fire);
    }
    if (this.nWatchers === 0) return;
    const list = this.watchers.get(kind);
    if (list === undefined || list.length === 0) return;
    for (const w of [...list]) {
      if (!w.active || !this.matches(w.match, w.node, w.peer, kind, node, peer, label, value)) continue;
      const nodes = this.sim.nodes;
      w.fn({ atUs: this.sim.nowUs, kind, label, node: nodes[node] ?? null, peer: nodes[peer] ?? null, value });
    }
  }

  private matches(w: TraceMatch, fixedNode: number, fixedPeer: number, kind: string, node: number, peer: number, label: string, value: number): boolean {
    if (w.kind !== kind) return false;
    if (w.fromMs !== undefined && this.sim.nowUs < w.fromMs * 1000) return false;
    if (w.label !== undefined && w.label !== label) return false;
    if (w.value !== undefined && w.value !== value) return false;
    return this.matchesNode(w.node, fixedNode, node) && this.matchesNode(w.peer, fixedPeer, peer);
  }

  private matchesNode(ref: NodeRef | undefined, resolved: number, actual: number): boolean {
    if (ref === undefined) return true;
    if (resolved >= 0) return resolved === actual;
    if (actual < 0) return false;
    try {
      return this.collect(ref, true).some((n) => n.id === actual);
    } catch {
      return false;
    }
  }

  apply(action: FaultAction, main = false): void {
    const sim = this.sim;
    const net = sim.net;
    const all = (ref: NodeRef): readonly SimNode[] => this.resolveAll(ref);
    let subjects: readonly SimNode[] = NONE;
    switch (action.type) {
      case 'partition': {
        const s = action.shape;
        const shape = this.resolveShape(s);
        subjects =
          s.type === 'isolate' ? all(s.node)
          : s.type === 'symmetric' ? this.list(s.a)
          : s.type === 'one-way' ? this.list(s.from)
          : s.type === 'bridge' ? all(s.bridge)
          : s.type === 'groups' ? this.list(s.groups[0] ?? [])
          : this.list(s.nodes);
        net.partition(shape);
        break;
      }
      case 'heal':
        net.heal();
        break;
      case 'crash':
        subjects = all(action.node);
        for (const n of subjects) sim.crash(n, action.keepUnsynced !== true);
        break;
      case 'restart':
        subjects = all(action.node);
        for (const n of subjects) sim.restart(n);
        break;
      case 'pause':
        subjects = all(action.node);
        for (const n of subjects) sim.pause(n);
        break;
      case 'resume':
        subjects = all(action.node);
        for (const n of subjects) sim.resume(n);
        break;
      case 'lose-unsynced':
        subjects = all(action.node);
        for (const n of subjects) n.store.loseUnsynced();
        break;
      case 'wipe':
        subjects = all(action.node);
        for (const n of subjects) n.store.wipe();
        break;
      case 'link-fault': {
        const fault: LinkFault = {
          ...(action.drop !== undefined ? { drop: action.drop } : {}),
          ...(action.delayMs !== undefined ? { delayUs: Math.round(action.delayMs * 1000) } : {}),
          ...(action.duplicate !== undefined ? { duplicate: action.duplicate } : {}),
          ...(action.reorder !== undefined ? { reorder: action.reorder } : {}),
        };
        const froms = action.from === '*' ? sim.nodes : all(action.from);
        const tos = action.to === '*' ? sim.nodes : all(action.to);
        for (const f of froms) for (const t of tos) if (f !== t) net.setLinkFault(f.id, t.id, fault);
        subjects = froms;
        break;
      }
      case 'clear-link-faults':
        net.clearLinkFaults();
        break;
      case 'clog':
      case 'unclog': {
        subjects = all(action.from);
        const tos = all(action.to);
        for (const f of subjects) for (const t of tos) if (f !== t) (action.type === 'clog' ? net.clog(f.id, t.id) : net.unclog(f.id, t.id));
        break;
      }
      case 'clock-rate':
        subjects = all(action.node);
        for (const n of subjects) n.setClockRate(action.rate);
        break;
      case 'clock-jump':
        subjects = all(action.node);
        for (const n of subjects) n.jumpWallClock(Math.round(action.deltaMs * 1000));
        break;
      case 'clock-offset':
        subjects = all(action.node);
        for (const n of subjects) n.setWallOffset(Math.round(action.offsetMs * 1000));
        break;
      case 'op': {
        const run = this.ops.get(action.op);
        if (run === undefined) throw new FaultPlanError(`unknown op ${action.op}${this.ops.size > 0 ? ` (known: ${[...this.ops.keys()].join(', ')})` : ''}`);
        subjects = all(action.node);
        for (const n of subjects) run(n);
        break;
      }
      case 'heal-all': {
        net.heal();
        net.clearLinkFaults();
        net.unclogAll();
        const touched: SimNode[] = [];
        for (const n of sim.nodes) {
          if (n.paused) {
            sim.resume(n);
            touched.push(n);
          }
          if (!n.up && action.restart !== false) {
            sim.restart(n);
            touched.push(n);
          }
        }
        subjects = touched;
        break;
      }
      default:
        assertNever(action);
    }
    if (action.bind !== undefined) this.bound.set(action.bind, subjects);
    // The record names the node acted on when there is exactly one (partitions: only 'isolate').
    const s = action.type === 'partition' ? (action.shape.type === 'isolate' ? subjects : NONE) : action.type === 'heal-all' ? NONE : subjects;
    const subject = s.length === 1 ? s[0]!.id : -1;
    this.actionsRun++;
    this.lastActionAtUs = sim.nowUs;
    if (main && this.mainFaultAtUs < 0) this.mainFaultAtUs = sim.nowUs;
    sim.trace.record(sim.nowUs, 'fault', subject, -1, action.type, main ? 1 : 0, JSON.stringify(action));
    if (this.stepsLeft === 0) sim.props.armLiveness(sim.nowUs);
  }

  /** The nodes of a list of references, each once, in the order given (a group in id order). */
  private list(refs: readonly NodeRef[]): readonly SimNode[] {
    const s = new Set<SimNode>();
    for (const r of refs) for (const n of this.resolveAll(r)) s.add(n);
    return [...s];
  }

  private resolveShape(s: PartitionSpec): PartitionShape {
    const ids = (refs: readonly NodeRef[]): number[] => this.list(refs).map((n) => n.id);
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

function isNodeList(v: SimNode | readonly SimNode[]): v is readonly SimNode[] {
  return Array.isArray(v);
}

function sortById(nodes: readonly SimNode[]): SimNode[] {
  return [...nodes].sort((a, b) => a.id - b.id);
}

function describe(ref: NodeRef): string {
  return typeof ref === 'string' ? ref : JSON.stringify(ref);
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
