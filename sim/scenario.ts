import type { FaultPlan, Simulation } from '../core/index.ts';
import type { Params, ParamSpecs } from './params.ts';
import type { Metrics, Mode } from './result.ts';

export interface ScenarioContext {
  readonly sim: Simulation;
  readonly params: Params;
  /** The Kafka mode of this run, or null for a scenario without modes. */
  readonly mode: Mode | null;
  readonly seed: number;
}

/** What a built scenario hands back to the runner. */
export interface BuiltScenario {
  readonly plan: FaultPlan;
  /** The run's figures, read once when it ends. */
  metrics?(): Metrics;
  /** Extra figures for the JSON's `extra` field. */
  extra?(): Record<string, number | string | null>;
}

export interface Scenario {
  readonly name: string;
  /** One line, shown by `sim list`. */
  readonly description: string;
  /** The modes it runs in; null when it is not about Kafka (a kernel demo). */
  readonly modes: readonly Mode[] | null;
  readonly params: ParamSpecs;
  /** Default `--until`, e.g. '2m'. */
  readonly until: string;
  build(ctx: ScenarioContext): BuiltScenario;
}

const SCENARIO = Symbol.for('kraftsim.scenario');

/** Declares a scenario file's default export. */
export function defineScenario(s: Scenario): Scenario {
  return Object.assign(Object.create(null) as object, s, { [SCENARIO]: true }) as Scenario;
}

export function isScenario(x: unknown): x is Scenario {
  return typeof x === 'object' && x !== null && (x as Record<symbol, unknown>)[SCENARIO] === true;
}
