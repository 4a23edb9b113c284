/**
 * Failure capsules: everything needed to reproduce one violation — scenario file, parameters, seed,
 * mode, the (shrunk) fault plan, the code version — and what it produced (invariant, trace hash).
 * Written by `sim shrink` through sim/output.ts, read by `sim replay`.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { FaultPlan } from '../core/index.ts';
import { UsageError } from './errors.ts';
import { checkOutputTarget, openOutput } from './output.ts';
import type { ParamValue } from './params.ts';
import { planProblem } from './plan-check.ts';
import type { Mode } from './result.ts';
import type { PlanSize } from './shrink.ts';
import { PROJECT_ROOT } from './root.ts';

export const CAPSULE_FORMAT = 'kraftsim-capsule/1';

export interface CodeVersion {
  /** package.json's version. */
  readonly version: string;
  /** The git commit of the project, when it is a git checkout with git on the PATH. */
  readonly commit: string | null;
}

export interface Capsule {
  readonly format: typeof CAPSULE_FORMAT;
  readonly scenario: {
    /** Relative to the project root when the file is inside it, else absolute. */
    readonly file: string;
    readonly name: string;
  };
  readonly seed: number;
  readonly mode: Mode | null;
  /** The --set values of the run (after shrinking: the smaller cluster too). */
  readonly overrides: Readonly<Record<string, ParamValue>>;
  /** The --until of the run, or null for the scenario's own. */
  readonly until: string | null;
  readonly plan: FaultPlan;
  readonly invariant: string;
  readonly violation: { readonly atMs: number; readonly detail: string };
  readonly traceHash: string;
  readonly events: number;
  readonly code: CodeVersion;
  readonly shrink?: { readonly runs: number; readonly before: PlanSize; readonly after: PlanSize; readonly budgetSpent: boolean };
}

/** package.json's version and, when available, the git commit (with "-dirty" for local changes). */
export function codeVersion(): CodeVersion {
  let version = 'unknown';
  try {
    version = (JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version?: string }).version ?? 'unknown';
  } catch {
    /* keep unknown */
  }
  let commit: string | null = null;
  try {
    const git = (...args: string[]): string => execFileSync('git', args, { cwd: PROJECT_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 }).trim();
    commit = git('rev-parse', 'HEAD');
    if (git('status', '--porcelain', '--untracked-files=no') !== '') commit += '-dirty';
  } catch {
    /* not a git checkout, or no git */
  }
  return { version, commit };
}

/** How the capsule names its scenario file: project-relative when it lives in the project. */
export function capsuleScenarioPath(file: string): string {
  const abs = resolve(file);
  const rel = relative(PROJECT_ROOT, abs);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel.split(sep).join('/') : abs;
}

/** Where a capsule's scenario file is on this machine: as written if it exists from here, else under the project root. */
export function capsuleScenarioFile(c: Capsule): string {
  const f = c.scenario.file;
  if (isAbsolute(f)) return f;
  return existsSync(resolve(f)) ? f : join(PROJECT_ROOT, f);
}

export function replayCapsuleCommand(path: string): string {
  return `npx sim replay ${path}`;
}

export function writeCapsule(target: string, c: Capsule): void {
  checkOutputTarget('--out', target);
  const sink = openOutput('--out', target);
  try {
    sink.write(JSON.stringify(c, null, 2));
    sink.commit();
  } catch (e) {
    sink.discard();
    throw e;
  }
}

/** Reads and checks a capsule; every way it can be wrong is one UsageError sentence. */
export function readCapsule(path: string): Capsule {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UsageError(`capsule ${path}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (code ?? String(e))}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`capsule ${path}: not JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  const problem = capsuleProblem(data);
  if (problem !== null) throw new UsageError(`capsule ${path}: ${problem}`);
  return data as Capsule;
}

/** The first thing wrong with a parsed capsule, or null. */
export function capsuleProblem(data: unknown): string | null {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return 'expected a JSON object as written by sim shrink';
  const c = data as Record<string, unknown>;
  if (c['format'] !== CAPSULE_FORMAT) return `format must be "${CAPSULE_FORMAT}", got ${JSON.stringify(c['format'])}`;
  const field = (name: string, ok: (v: unknown) => boolean, want: string): string | null => {
    const path = name.split('.');
    let v: unknown = c;
    for (const p of path) v = typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[p] : undefined;
    if (v === undefined) return `missing field ${name}`;
    return ok(v) ? null : `field ${name} must be ${want}, got ${JSON.stringify(v)}`;
  };
  const str = (v: unknown): boolean => typeof v === 'string' && v !== '';
  const obj = (v: unknown): boolean => typeof v === 'object' && v !== null && !Array.isArray(v);
  const bad =
    field('scenario', obj, 'an object { file, name }') ??
    field('scenario.file', str, 'a file name') ??
    field('scenario.name', str, 'a scenario name') ??
    field('seed', (v) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0, 'an integer from 0 to 2^53 − 1') ??
    field('mode', (v) => v === null || v === 'zk' || v === 'kraft', 'zk, kraft or null') ??
    field('overrides', (v) => obj(v) && Object.values(v as object).every((x) => ['number', 'string', 'boolean'].includes(typeof x)), 'an object of parameter values') ??
    field('until', (v) => v === null || str(v), 'a duration or null') ??
    field('plan', obj, 'a fault plan { steps, triggers? }') ??
    field('invariant', str, 'an invariant name') ??
    field('violation', obj, 'an object { atMs, detail }') ??
    field('violation.atMs', (v) => typeof v === 'number' && Number.isFinite(v), 'a number of ms') ??
    field('traceHash', (v) => typeof v === 'string' && /^[0-9a-f]{16}$/.test(v), '16 hex digits') ??
    field('code', obj, 'an object { version, commit }');
  if (bad !== null) return bad;
  const plan = planProblem(c['plan']);
  return plan === null ? null : `plan: ${plan}`;
}
