import type { FaultAction, FaultPlan, Simulation, TraceMatch, WatchedRecord } from '../core/index.ts';
import type { Params, ParamSpecs } from './params.ts';
import type { Metrics, Mode } from './result.ts';

/** What the runner hands a scenario's build. */
export interface ScenarioContext {
  readonly sim: Simulation;
  readonly params: Params;
  /** The Kafka mode of this run, or null for a scenario without modes. */
  readonly mode: Mode | null;
  readonly seed: number;
}

/** What a scenario's build sees: the runner's context and tools over the run's fault injector. */
export interface ScenarioTools {
  /**
   * Calls `fn` with each trace record that matches (kind, and optionally label, node, peer, value,
   * fromMs), in record order, inside the event that made it; `fn` reads state and may call `act`.
   * Returns a function that ends the watch. Costs nothing while no watch is active.
   */
  watch(match: TraceMatch, fn: (r: WatchedRecord) => void): () => void;
  /** Runs a fault action as its own event `afterMs` from now; until then the plan is not over. */
  act(action: FaultAction, opts?: { readonly afterMs?: number; readonly main?: boolean }): void;
}

export type ScenarioBuildContext = ScenarioContext & ScenarioTools;

/** What a built scenario hands back to the runner. */
export interface BuiltScenario {
  readonly plan: FaultPlan;
  /** The run's figures, read once when it ends. */
  metrics?(): Metrics;
  /** Extra figures for the JSON's `extra` field. */
  extra?(): Record<string, number | string | null>;
}

interface ScenarioBase {
  readonly name: string;
  /** One line, shown by `sim list`. */
  readonly description: string;
  /** The modes it runs in; null when it is not about Kafka (a kernel demo). */
  readonly modes: readonly Mode[] | null;
  readonly params: ParamSpecs;
  /** Default `--until`, e.g. '2m'. */
  readonly until: string;
}

export interface Scenario extends ScenarioBase {
  build(ctx: ScenarioContext): BuiltScenario;
}

/** What a scenario file declares; its build gets the tools as well. */
export interface ScenarioDefinition extends ScenarioBase {
  build(ctx: ScenarioBuildContext): BuiltScenario;
}

const SCENARIO = Symbol.for('kraftsim.scenario');

/** The runner's context with the tools added. */
export function withTools(ctx: ScenarioContext): ScenarioBuildContext {
  const faults = ctx.sim.faults;
  return {
    sim: ctx.sim,
    params: ctx.params,
    mode: ctx.mode,
    seed: ctx.seed,
    watch: (match, fn) => faults.watch(match, fn),
    act: (action, opts) => faults.act(action, opts),
  };
}

/** Declares a scenario file's default export. */
export function defineScenario(s: ScenarioDefinition): Scenario {
  const build = (ctx: ScenarioContext): BuiltScenario => s.build(withTools(ctx));
  return Object.assign(Object.create(null) as object, s, { build, [SCENARIO]: true }) as Scenario;
}

export function isScenario(x: unknown): x is Scenario {
  return typeof x === 'object' && x !== null && (x as Record<symbol, unknown>)[SCENARIO] === true;
}
