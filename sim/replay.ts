/**
 * `sim replay <capsule>`: runs a capsule's scenario, seed, mode, parameters and fault plan again and
 * says whether the violation reproduces and whether the trace hash is the recorded one.
 *
 * Exit codes keep the CLI's meaning: 1 when the run violates a property (the recorded violation, with
 * or without the same hash, or another one), 0 when every property held (the violation no longer
 * reproduces: fixed, or the code changed), 2 for a capsule that cannot be read or run.
 */
import { capsuleScenarioFile, readCapsule, type Capsule } from './capsule.ts';
import { UsageError } from './errors.ts';
import { loadScenario } from './load.ts';
import { parseSetting, type ParamValue } from './params.ts';
import type { RunResult } from './result.ts';
import { runOnceAsync } from './run.ts';
import { parseDurationUs } from '../core/time.ts';

export type ReplayVerdict = 'reproduced' | 'hash-differs' | 'other-violation' | 'not-reproduced';

export interface ReplayOutcome {
  readonly capsule: Capsule;
  readonly result: RunResult;
  readonly verdict: ReplayVerdict;
  /** The line that says what happened. */
  readonly line: string;
  readonly exitCode: 0 | 1;
}

export interface ReplayOptions {
  readonly traceFile?: string;
}

function codeText(c: Capsule): string {
  return `${c.code.version}${c.code.commit !== null ? ` ${c.code.commit.slice(0, 12)}` : ''}`;
}

/** The verdict of a replayed run against its capsule. */
export function judge(c: Capsule, r: RunResult): Pick<ReplayOutcome, 'verdict' | 'line' | 'exitCode'> {
  const v = r.violation;
  if (v === null) {
    return {
      verdict: 'not-reproduced',
      exitCode: 0,
      line: `not reproduced: every property held (recorded: ${c.invariant} at ${c.violation.atMs} ms, trace ${c.traceHash} with code ${codeText(c)}; now trace ${r.traceHash})`,
    };
  }
  if (v.invariant !== c.invariant) {
    return {
      verdict: 'other-violation',
      exitCode: 1,
      line: `a different violation: ${v.invariant} at ${v.atMs} ms: ${v.detail} (recorded: ${c.invariant} at ${c.violation.atMs} ms; trace ${r.traceHash}, recorded ${c.traceHash})`,
    };
  }
  if (r.traceHash !== c.traceHash) {
    return {
      verdict: 'hash-differs',
      exitCode: 1,
      line: `reproduced, but the trace hash differs: ${v.invariant} at ${v.atMs} ms (recorded at ${c.violation.atMs} ms); trace ${r.traceHash}, recorded ${c.traceHash} with code ${codeText(c)}: the run took another path to the same violation`,
    };
  }
  return { verdict: 'reproduced', exitCode: 1, line: `reproduced, hash matches: ${v.invariant} at ${v.atMs} ms (trace ${r.traceHash})` };
}

export async function replay(path: string, opts: ReplayOptions = {}): Promise<ReplayOutcome> {
  const c = readCapsule(path);
  const file = capsuleScenarioFile(c);
  const scenario = await loadScenario(file);
  if (scenario.name !== c.scenario.name) throw new UsageError(`capsule ${path}: ${file} defines scenario '${scenario.name}', the capsule was written for '${c.scenario.name}'`);
  if (c.mode === null ? scenario.modes !== null : scenario.modes === null || !scenario.modes.includes(c.mode)) {
    throw new UsageError(`capsule ${path}: mode ${String(c.mode)} does not fit ${file} (modes: ${scenario.modes === null ? 'none' : scenario.modes.join(', ')})`);
  }
  const overrides: Record<string, ParamValue> = {};
  for (const [k, v] of Object.entries(c.overrides)) {
    try {
      const [key, value] = parseSetting(`${k}=${String(v)}`, scenario.params);
      overrides[key] = value;
    } catch (e) {
      throw new UsageError(`capsule ${path}: overrides: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  const untilText = c.until ?? scenario.until;
  const untilUs = parseDurationUs(untilText);
  if (untilUs === null || untilUs <= 0) throw new UsageError(`capsule ${path}: until: cannot parse '${untilText}'`);
  const result = await runOnceAsync({
    file,
    scenario,
    seed: c.seed,
    mode: c.mode,
    overrides,
    untilUs,
    ...(c.until !== null ? { untilText: c.until } : {}),
    planOverride: c.plan,
    ...(opts.traceFile !== undefined ? { traceFile: opts.traceFile } : {}),
  });
  return { capsule: c, result, ...judge(c, result) };
}
