import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDurationUs } from '../../core/time.ts';
import { pathToFileURL } from 'node:url';
import { loadScenario } from '../../sim/load.ts';
import { parseSettings } from '../../sim/params.ts';
import type { Mode } from '../../sim/result.ts';
import { runOnce } from '../../sim/run.ts';
import { isScenario, type Scenario } from '../../sim/scenario.ts';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BASELINE = join(ROOT, 'test', 'golden', 'trace-hashes.json');

/** One golden run: a library scenario at seed 42 in one mode, with its settings and its trace hash. */
export interface GoldenEntry {
  readonly file: string;
  readonly mode: Mode | null;
  readonly sets: readonly string[];
  readonly traceHash: string;
}

export interface Baseline {
  readonly seed: number;
  readonly note: string;
  readonly runs: readonly GoldenEntry[];
}

export function readBaseline(): Baseline {
  return JSON.parse(readFileSync(BASELINE, 'utf8')) as Baseline;
}

const loaded = new Map<string, Promise<Scenario>>();

/**
 * A library scenario, imported once per process with the modules of this one (as the CLI imports
 * a shipped scenario's built twin): the loader (sim/load.ts) compiles a file afresh with the whole
 * model graph on every call, which costs more than most golden runs. A file that does not import
 * as a scenario goes through the loader for its one-line error.
 */
function scenarioOf(file: string): Promise<Scenario> {
  let p = loaded.get(file);
  if (p === undefined) {
    const path = join(ROOT, file);
    p = import(pathToFileURL(path).href).then((m: Record<string, unknown>) => (isScenario(m['default']) ? m['default'] : loadScenario(path)));
    loaded.set(file, p);
  }
  return p;
}

/** Runs one golden entry in this process and returns its trace hash. */
export async function goldenHash(e: Omit<GoldenEntry, 'traceHash'>, seed: number): Promise<string> {
  const scenario = await scenarioOf(e.file);
  const overrides = parseSettings(e.sets, scenario.params);
  const untilUs = parseDurationUs(scenario.until) ?? 600_000_000;
  return runOnce({ file: e.file, scenario, seed, mode: e.mode, overrides, untilUs }).traceHash;
}
