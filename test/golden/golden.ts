import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDurationUs } from '../../core/time.ts';
import { parseSettings } from '../../sim/params.ts';
import type { Mode } from '../../sim/result.ts';
import { runOnce } from '../../sim/run.ts';
import { libraryScenario } from '../library.ts';

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

/** Runs one golden entry in this process and returns its trace hash. */
export async function goldenHash(e: Omit<GoldenEntry, 'traceHash'>, seed: number): Promise<string> {
  const scenario = await libraryScenario(e.file);
  const overrides = parseSettings(e.sets, scenario.params);
  const untilUs = parseDurationUs(scenario.until) ?? 600_000_000;
  return runOnce({ file: e.file, scenario, seed, mode: e.mode, overrides, untilUs }).traceHash;
}
