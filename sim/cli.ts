import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import chalk from 'chalk';
import { Command, CommanderError, Option } from 'commander';
import { parseDurationUs } from '../core/time.ts';
import { renderTerminal } from '../reports/terminal.ts';
import { PerfettoTrace } from '../reports/perfetto.ts';
import { CORPUS, runCheck } from './check.ts';
import { UsageError } from './errors.ts';
import { IMPORT_TIMEOUT_MS, IMPORT_TIMEOUT_REASON } from './import-watchdog.ts';
import { isShippedScenario, loadScenario } from './load.ts';
import { checkOutputTarget, openOutput } from './output.ts';
import { renderRunReport } from '../reports/html/run-report.ts';
import { checkCompareMemory, compareExitCode, gridPoints, parseGrid, runCompare } from './compare.ts';
import { renderCompareMarkdown, renderCompareTable } from '../reports/compare-table.ts';
import { renderCompareHtml } from '../reports/html/compare-report.ts';
import { defaults, parseSettings } from './params.ts';
import type { Mode, RunResult } from './result.ts';
import { runMerge } from './merge.ts';
import { estimateRunBytes, formatBytes } from './memory.ts';
import { defaultWorkers } from './pool.ts';
import { renderSummary } from './results.ts';
import { checkMemory, memoryLimit, replayCommand, runOnceAsync, StallError } from './run.ts';
import { exitCodeOf, parseSeedRange, parseShard, parseWorkers, runSweep } from './sweep.ts';
import { DEFAULT_MAX_STALLED_EVENTS } from '../core/sim.ts';
import type { Scenario } from './scenario.ts';
import { capsuleScenarioPath, codeVersion, replayCapsuleCommand, writeCapsule, CAPSULE_FORMAT, type Capsule } from './capsule.ts';
import { DEFAULT_DIFF_CONTEXT, diffTraces } from './diff.ts';
import { replay } from './replay.ts';
import { reportFromTrace } from './report.ts';
import { DEFAULT_MAX_SHRINK_RUNS, formatPlan, shrink, type PlanSize } from './shrink.ts';
import { PROJECT_ROOT } from './root.ts';

/** Progress lines are padded and cleared with spaces: no terminal escape codes (NO_COLOR means none). */
const PROGRESS_WIDTH = 72;
const CLEAR_PROGRESS = `\r${' '.repeat(PROGRESS_WIDTH)}\r`;

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** A non-negative integer flag (--seed, --from, --seeds) that must stay an exact number: at most 2^53 − 1. */
export function parseSeed(text: string, flag = '--seed'): number {
  const t = text.trim();
  if (!/^\d+$/.test(t)) throw new UsageError(`${flag} must be a non-negative integer, got '${text}'`);
  if (!Number.isSafeInteger(Number(t))) throw new UsageError(`${flag} must be at most 2^53 − 1 (${Number.MAX_SAFE_INTEGER}), got ${t}`);
  return Number(t);
}

/** A positive integer limit such as --max-stalled-events. */
export function parseCount(text: string, flag: string): number {
  const t = text.trim().replace(/_/g, '');
  const n = /^\d+$/.test(t) || /^\d+(\.\d+)?e\d+$/i.test(t) ? Number(t) : NaN;
  if (!Number.isSafeInteger(n) || n < 1) throw new UsageError(`${flag} must be a whole number from 1 to 2^53 − 1, got '${text}'`);
  return n;
}

/** --import-timeout: a duration (30s, 500ms; a bare number is ms). */
export function parseImportTimeout(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const us = parseDurationUs(text);
  if (us === null || us <= 0) throw new UsageError(`--import-timeout: cannot parse '${text}' (examples: 30s, 500ms; a bare number is ms)`);
  return Math.max(1, Math.round(us / 1000));
}

export function parseUntil(text: string): number {
  const us = parseDurationUs(text);
  if (us === null) throw new UsageError(`--until: cannot parse '${text}' (examples: 90s, 10m, 1h, 500ms; a bare number is ms)`);
  if (us <= 0) throw new UsageError(`--until must be more than 0, got '${text}'`);
  return us;
}

function modesFor(s: Scenario, file: string, mode: string | undefined): (Mode | null)[] {
  if (s.modes === null) {
    if (mode !== undefined) throw new UsageError(`--mode: ${file} is not a Kafka scenario and has no modes`);
    return [null];
  }
  const m = mode ?? 'both';
  if (m === 'both') {
    if (s.modes.length === 1) process.stderr.write(`sim: note: ${file} runs only in ${s.modes[0] === 'zk' ? 'ZooKeeper mode (zk)' : 'KRaft mode (kraft)'}; running that mode alone, not both\n`);
    return [...s.modes];
  }
  if (m !== 'zk' && m !== 'kraft') throw new UsageError(`--mode must be zk, kraft or both, got '${m}'`);
  if (!s.modes.includes(m)) throw new UsageError(`--mode ${m}: ${file} runs only in ${s.modes.join(', ')}`);
  return [m];
}

function traceFileFor(base: string, mode: Mode | null, many: boolean): string {
  if (!many || mode === null || base === '-') return base;
  return base.endsWith('.jsonl') ? `${base.slice(0, -'.jsonl'.length)}.${mode}.jsonl` : `${base}.${mode}`;
}

/** The options every command that runs a scenario takes (run, compare). */
interface ScenarioRunOpts {
  seed: string;
  mode?: string;
  set: string[];
  json?: boolean;
  report?: string;
  until?: string;
  debug?: boolean;
  maxStalledEvents?: string;
  importTimeout?: string;
}

interface RunOpts extends ScenarioRunOpts {
  trace?: string;
  perfetto?: string;
  series?: boolean;
}

async function cmdRun(file: string, opts: RunOpts): Promise<number> {
  const seed = parseSeed(opts.seed);
  const maxStalledEvents = opts.maxStalledEvents === undefined ? undefined : parseCount(opts.maxStalledEvents, '--max-stalled-events');
  const importTimeoutMs = parseImportTimeout(opts.importTimeout);
  if (opts.until !== undefined) parseUntil(opts.until);
  if (opts.trace !== undefined) {
    if (opts.trace === '-' && opts.json === true) throw new UsageError('--trace - and --json both want stdout: write the trace to a file');
    checkOutputTarget('--trace', opts.trace, [file]);
  }
  if (opts.report !== undefined) {
    if (opts.report === '-') throw new UsageError('--report: give a file name (e.g. report.html), not -');
    checkOutputTarget('--report', opts.report, [file]);
  }
  if (opts.perfetto !== undefined) {
    if (opts.perfetto === '-' && (opts.json === true || opts.trace === '-')) throw new UsageError('--perfetto - : stdout is already taken (--json or --trace -); write the Perfetto trace to a file');
    checkOutputTarget('--perfetto', opts.perfetto, [file]);
  }
  const perfetto = opts.perfetto !== undefined ? new PerfettoTrace() : undefined;
  const scenario = await loadScenario(file, importTimeoutMs !== undefined ? { timeoutMs: importTimeoutMs } : {});
  const modes = modesFor(scenario, file, opts.mode);
  const overrides = parseSettings(opts.set, scenario.params);
  const untilText = opts.until ?? scenario.until;
  const untilUs = parseUntil(untilText);
  if (opts.trace === '-' && modes.length > 1) throw new UsageError(`--trace -: ${file} runs in ${modes.join(' and ')}, whose traces would mix on stdout; pick one with --mode or give a file`);
  // Every mode's memory is checked before the first one runs: no minute of KRaft, then a refusal.
  const params = { ...defaults(scenario.params), ...overrides };
  for (const mode of modes) checkMemory({ file, scenario, seed, mode, overrides, untilUs }, params);
  // With the trace on stdout, the table goes to stderr.
  const out = opts.trace === '-' ? process.stderr : process.stdout;
  const showProgress = process.stderr.isTTY === true && opts.trace !== '-';
  const results: RunResult[] = [];
  for (const mode of modes) {
    const req = {
      file,
      scenario,
      seed,
      mode,
      overrides,
      untilUs,
      ...(opts.until !== undefined ? { untilText: opts.until } : {}),
      ...(opts.trace !== undefined ? { traceFile: traceFileFor(opts.trace, mode, modes.length > 1) } : {}),
      ...(perfetto !== undefined ? { perfetto } : {}),
      ...(maxStalledEvents !== undefined ? { maxStalledEvents } : {}),
      ...(opts.series === true || opts.report !== undefined ? { series: true } : {}),
      onProgress: (m: Mode | null, nowUs: number, events: number) => {
        if (showProgress) process.stderr.write(`\r${`${m ?? 'run'}: ${(nowUs / 1e6).toFixed(1)} s simulated, ${(events / 1e6).toFixed(1)}M events`.padEnd(PROGRESS_WIDTH)}`);
      },
    };
    try {
      results.push(await runOnceAsync(req));
    } catch (e) {
      if (showProgress) process.stderr.write(CLEAR_PROGRESS);
      // A run that stopped advancing: the user's doing when the scenario file or a parameter is theirs.
      if (e instanceof StallError) throw stallError(e, isShippedScenario(file) && Object.keys(overrides).length === 0);
      throw e;
    }
    if (showProgress) process.stderr.write(CLEAR_PROGRESS);
  }
  if (opts.report !== undefined) {
    const command = replayCommand({ file, scenario, seed, mode: modes.length > 1 ? null : modes[0]!, overrides, untilUs, ...(opts.until !== undefined ? { untilText: opts.until } : {}), ...(maxStalledEvents !== undefined ? { maxStalledEvents } : {}) });
    const html = renderRunReport({ scenario: { name: scenario.name, description: scenario.description, file }, command, results });
    const sink = openOutput('--report', opts.report);
    sink.write(html);
    sink.commit();
  }
  if (perfetto !== undefined && opts.perfetto !== undefined) {
    const sink = openOutput('--perfetto', opts.perfetto);
    for (const line of perfetto.lines()) sink.write(line);
    sink.commit();
  }
  // --report alone records series for the report; only --series puts them in the JSON.
  const shown = opts.series === true ? results : results.map(({ series: _series, ...r }) => r);
  if (opts.json === true) out.write(`${JSON.stringify({ runs: shown }, null, 2)}\n`);
  else out.write(`${renderTerminal(results)}\n`);
  return results.some((r) => r.violation !== null) ? 1 : 0;
}

interface CompareOpts extends ScenarioRunOpts {
  grid: string[];
  workers?: string;
  jsonOut?: string;
  md?: boolean;
}

async function cmdCompare(file: string, opts: CompareOpts): Promise<number> {
  const seed = parseSeed(opts.seed);
  const workers = opts.workers === undefined ? defaultWorkers() : parseWorkers(opts.workers);
  const maxStalledEvents = opts.maxStalledEvents === undefined ? undefined : parseCount(opts.maxStalledEvents, '--max-stalled-events');
  const importTimeoutMs = parseImportTimeout(opts.importTimeout);
  if (opts.until !== undefined) parseUntil(opts.until);
  if (opts.json === true && opts.md === true) throw new UsageError('--json and --md are two formats of the same output: give one');
  const outputs: [string, string | undefined][] = [['--json-out', opts.jsonOut], ['--report', opts.report]];
  for (const [flag, target] of outputs) {
    if (target === undefined) continue;
    if (target === '-' && (opts.json === true || opts.md === true || outputs.some(([f, t]) => f !== flag && t === '-'))) throw new UsageError(`${flag} - : stdout is already taken by another output; write it to a file`);
    checkOutputTarget(flag, target, [file]);
  }
  const scenario = await loadScenario(file, importTimeoutMs !== undefined ? { timeoutMs: importTimeoutMs } : {});
  const modes = modesFor(scenario, file, opts.mode);
  parseSettings(opts.set, scenario.params);
  const grid = parseGrid(opts.grid, scenario.params, opts.set);
  const untilUs = parseUntil(opts.until ?? scenario.until);
  const base = { file, scenario, modes, seed, sets: opts.set, grid, workers, untilUs, stallIsUsers: !isShippedScenario(file) || opts.set.length > 0 || grid.some((a) => a.values.some((v) => v !== scenario.params[a.key]!.default)) };
  const run = { ...base, ...(opts.until !== undefined ? { untilText: opts.until } : {}), ...(maxStalledEvents !== undefined ? { maxStalledEvents } : {}) };
  checkCompareMemory(run);
  const showProgress = process.stderr.isTTY === true;
  if (showProgress) process.stderr.write(`\r${`compare [${'.'.repeat(20)}] 0/${gridPoints(grid).length * modes.length} runs`.padEnd(PROGRESS_WIDTH)}`);
  let doc;
  try {
    doc = await runCompare({
      ...run,
      onRun: (done, total, job) => {
        if (!showProgress) return;
        const width = 20;
        const bar = '#'.repeat(Math.round((done / total) * width)).padEnd(width, '.');
        const what = job.sets.slice(opts.set.length).join(' ');
        process.stderr.write(`\r${`compare [${bar}] ${done}/${total} runs (${what}${job.mode === null ? '' : ` ${job.mode}`} done)`.slice(0, PROGRESS_WIDTH).padEnd(PROGRESS_WIDTH)}`);
      },
    });
  } finally {
    if (showProgress) process.stderr.write(CLEAR_PROGRESS);
  }
  if (opts.jsonOut !== undefined) {
    const sink = openOutput('--json-out', opts.jsonOut);
    sink.write(JSON.stringify(doc, null, 2));
    sink.commit();
  }
  if (opts.report !== undefined) {
    const sink = openOutput('--report', opts.report);
    sink.write(renderCompareHtml(doc));
    sink.commit();
  }
  const toStdout = opts.jsonOut === '-' || opts.report === '-';
  const out = toStdout ? process.stderr : process.stdout;
  if (opts.json === true) out.write(`${JSON.stringify(doc, null, 2)}\n`);
  else if (opts.md === true) out.write(`${renderCompareMarkdown(doc)}\n`);
  else out.write(`${renderCompareTable(doc)}\n`);
  return compareExitCode(doc);
}

/** Exit 2 for a stall of the user's input; for a shipped scenario with its defaults it is our bug (70). */
function stallError(e: StallError, shippedDefaults: boolean): Error {
  if (!shippedDefaults) return new UsageError(`${e.message}; raise --max-stalled-events if that many events at one instant is intended`);
  return new InternalError(`${e.message} (a shipped scenario with its default parameters: a bug of the model)`);
}

/** A bug of kraftsim itself: exit 70. */
export class InternalError extends Error {}

async function cmdParams(file: string, opts: { importTimeout?: string }): Promise<number> {
  const timeoutMs = parseImportTimeout(opts.importTimeout);
  const s = await loadScenario(file, timeoutMs !== undefined ? { timeoutMs } : {});
  const rows = Object.entries(s.params).map(([k, p]) => {
    const def = typeof p.default === 'string' && p.default === '' ? '(none)' : String(p.default);
    const extra = p.choices !== undefined ? ` [${p.list === true ? 'any of' : 'one of'}: ${p.choices.join(', ')}]` : '';
    return { k, def, unit: p.unit, text: `${p.description}${extra}${p.source !== undefined ? ` — source: ${p.source}` : ''}` };
  });
  const kw = Math.max(3, ...rows.map((r) => r.k.length));
  const dw = Math.max(7, ...rows.map((r) => r.def.length));
  const uw = Math.max(4, ...rows.map((r) => r.unit.length));
  const out = [`${'key'.padEnd(kw)}  ${'default'.padEnd(dw)}  ${'unit'.padEnd(uw)}  meaning`];
  for (const r of rows) out.push(`${r.k.padEnd(kw)}  ${r.def.padEnd(dw)}  ${r.unit.padEnd(uw)}  ${r.text}`);
  process.stdout.write(`${out.join('\n')}\n`);
  return 0;
}

async function cmdList(): Promise<number> {
  const local = resolve('scenarios');
  const dir = existsSync(local) && statSync(local).isDirectory() ? local : join(PROJECT_ROOT, 'scenarios');
  const files = readdirSync(dir).filter((f) => f.endsWith('.ts')).sort();
  const lines: string[] = [];
  for (const f of files) {
    const path = join(dir, f);
    const shown = relative(process.cwd(), path) || path;
    try {
      const s = await loadScenario(path);
      lines.push(`${shown.padEnd(36)}  ${s.modes === null ? '(kernel)' : s.modes.join('+').padEnd(8)}  ${s.description}`);
    } catch (e) {
      lines.push(`${shown.padEnd(36)}  (cannot load: ${e instanceof Error ? e.message : String(e)})`);
    }
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}

interface CheckOpts {
  workers?: string;
  seeds?: string;
  from?: string;
  only?: string;
  set: string[];
  json?: boolean;
  maxStalledEvents?: string;
  debug?: boolean;
}

async function cmdCheck(opts: CheckOpts): Promise<number> {
  const seeds = opts.seeds === undefined ? undefined : parseSeed(opts.seeds, '--seeds');
  if (seeds === 0) throw new UsageError('--seeds must be at least 1');
  const firstSeed = opts.from === undefined ? 1 : parseSeed(opts.from, '--from');
  const maxStalledEvents = opts.maxStalledEvents === undefined ? undefined : parseCount(opts.maxStalledEvents, '--max-stalled-events');
  const workers = opts.workers === undefined ? defaultWorkers() : parseWorkers(opts.workers);
  const showProgress = process.stderr.isTTY === true;
  const lines = await runCheck({
    workers,
    ...(seeds !== undefined ? { seeds } : {}),
    firstSeed,
    ...(opts.only !== undefined ? { only: opts.only } : {}),
    sets: opts.set,
    ...(maxStalledEvents !== undefined ? { maxStalledEvents } : {}),
    onRun: (done, total, r) => {
      if (showProgress) process.stderr.write(`\r${`check: ${done}/${total} runs (${r.scenario}${r.mode === null ? '' : ` ${r.mode}`} seed ${r.seed})`.padEnd(PROGRESS_WIDTH)}`);
    },
  });
  if (showProgress) process.stderr.write(CLEAR_PROGRESS);
  if (lines.length === 0) throw new UsageError(`no corpus entry matches ${opts.set.length > 0 ? '--only and --set together' : `--only ${opts.only ?? ''}`} (corpus: ${CORPUS.map((e) => e.file).join(', ')})`);
  const failed = lines.reduce((n, l) => n + l.failed, 0);
  const runs = lines.reduce((n, l) => n + l.runs, 0);
  if (opts.json === true) {
    process.stdout.write(`${JSON.stringify({ runs, failed, lines }, null, 2)}\n`);
  } else {
    const w = Math.max(...lines.map((l) => l.file.length));
    const out = lines.map((l) => `${l.file.padEnd(w)}  ${(l.mode ?? '-').padEnd(5)}  ${String(l.runs).padStart(3)} runs  ${l.failed === 0 ? 'all properties held' : `${l.failed} violated`}`);
    for (const l of lines) for (const f of l.failures) out.push(`  seed ${f.seed}: ${f.invariant} at ${f.atMs} ms: ${f.detail}\n    replay: ${f.replay}`);
    out.push(`${runs} runs, ${runs - failed} passed, ${failed} failed`);
    process.stdout.write(`${out.join('\n')}\n`);
  }
  // A model that threw is our bug, not a property of the system: it outranks violations.
  const internal = lines.some((l) => l.failures.some((f) => f.invariant === 'internal-error'));
  if (internal) process.stderr.write('sim: some runs failed with an internal error (a bug of kraftsim); their replay commands are above\n');
  return internal ? 70 : failed > 0 ? 1 : 0;
}

interface SweepOpts {
  seeds: string;
  mode?: string;
  set: string[];
  workers?: string;
  shard?: string;
  out?: string;
  resume?: boolean;
  json?: boolean;
  until?: string;
  maxStalledEvents?: string;
  importTimeout?: string;
  debug?: boolean;
}

async function cmdSweep(file: string, opts: SweepOpts): Promise<number> {
  const seeds = parseSeedRange(opts.seeds);
  const shard = opts.shard === undefined ? null : parseShard(opts.shard);
  const workers = opts.workers === undefined ? defaultWorkers() : parseWorkers(opts.workers);
  const maxStalledEvents = opts.maxStalledEvents === undefined ? undefined : parseCount(opts.maxStalledEvents, '--max-stalled-events');
  const importTimeoutMs = parseImportTimeout(opts.importTimeout);
  if (opts.until !== undefined) parseUntil(opts.until);
  if (opts.resume === true && opts.out === undefined) throw new UsageError('--resume continues the results file of a sweep: give it with --out <file>');
  if (opts.out !== undefined) {
    if (opts.out === '-' && opts.json === true) throw new UsageError('--out - and --json both want stdout: write the results to a file');
    checkOutputTarget('--out', opts.out, [file]);
  }
  const scenario = await loadScenario(file, importTimeoutMs !== undefined ? { timeoutMs: importTimeoutMs } : {});
  const modes = modesFor(scenario, file, opts.mode);
  const overrides = parseSettings(opts.set, scenario.params);
  const untilUs = parseUntil(opts.until ?? scenario.until);
  // Every worker may hold a run at once: refuse up front what cannot fit, as `sim run` does for one.
  const params = { ...defaults(scenario.params), ...overrides };
  for (const mode of modes) {
    checkMemory({ file, scenario, seed: seeds.first, mode, overrides, untilUs }, params);
    const one = estimateRunBytes(params, mode);
    const lim = memoryLimit();
    if (one !== null && workers > 1 && one * workers > lim.bytes) {
      throw new UsageError(`${file}${mode !== null ? ` (${mode})` : ''}: ${workers} workers at about ${formatBytes(one)} each need more than ${formatBytes(lim.bytes)} (${lim.what}); use --workers ${Math.max(1, Math.floor(lim.bytes / one))}`);
    }
  }
  const showProgress = process.stderr.isTTY === true && opts.out !== '-';
  // Wall time of the sweep, for the progress bar and the throughput line only.
  const started = performance.now();
  const elapsedS = (): number => (performance.now() - started) / 1000;
  const outcome = await runSweep({
    file,
    scenario,
    modes,
    sets: opts.set,
    seeds,
    shard,
    workers,
    ...(opts.out !== undefined ? { out: opts.out } : {}),
    resume: opts.resume === true,
    ...(opts.until !== undefined ? { untilText: opts.until } : {}),
    ...(maxStalledEvents !== undefined ? { maxStalledEvents } : {}),
    stallIsUsers: !isShippedScenario(file) || opts.set.length > 0,
    onProgress: (done, total, violated) => {
      if (!showProgress) return;
      const width = 24;
      const filled = total === 0 ? width : Math.round((done / total) * width);
      const rate = done / Math.max(elapsedS(), 1e-3);
      const bar = `sweep [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} runs, ${violated} violated, ${rate.toFixed(1)} runs/s`;
      process.stderr.write(`\r${bar.padEnd(PROGRESS_WIDTH)}`);
    },
  });
  if (showProgress) process.stderr.write(CLEAR_PROGRESS);
  const wall = elapsedS();
  process.stderr.write(
    `sim: ${outcome.ran} runs made${outcome.skipped > 0 ? ` (${outcome.skipped} already in ${opts.out ?? ''})` : ''} in ${wall.toFixed(1)} s on ${workers} worker${workers === 1 ? '' : 's'}: ${(outcome.ran / Math.max(wall, 1e-3)).toFixed(1)} runs/s\n`,
  );
  const out = opts.out === '-' ? process.stderr : process.stdout;
  if (opts.json === true) out.write(`${JSON.stringify(outcome.summary, null, 2)}\n`);
  else out.write(`${renderSummary(outcome.summary)}\n`);
  const code = exitCodeOf(outcome.summary);
  if (code === 70) process.stderr.write('sim: some runs failed with an internal error (a bug of kraftsim); their replay commands are above\n');
  return code;
}

async function cmdMerge(files: string[], opts: { json?: boolean; out?: string }): Promise<number> {
  const { summary } = runMerge(files, opts.out !== undefined ? { out: opts.out } : {});
  const out = opts.out === '-' ? process.stderr : process.stdout;
  if (opts.json === true) out.write(`${JSON.stringify(summary, null, 2)}\n`);
  else out.write(`${renderSummary(summary)}\n`);
  return exitCodeOf(summary);
}

interface ShrinkOpts {
  seed: string;
  mode?: string;
  set: string[];
  out?: string;
  until?: string;
  maxRuns?: string;
  maxStalledEvents?: string;
  importTimeout?: string;
  debug?: boolean;
}

function sizeText(s: PlanSize): string {
  return `${s.faults} fault${s.faults === 1 ? '' : 's'} (${s.steps} steps${s.triggers > 0 ? `, ${s.triggers} triggers` : ''}, ${s.faultMs} ms of faults)`;
}

async function cmdShrink(file: string, opts: ShrinkOpts): Promise<number> {
  const seed = parseSeed(opts.seed);
  const maxRuns = opts.maxRuns === undefined ? DEFAULT_MAX_SHRINK_RUNS : parseCount(opts.maxRuns, '--max-runs');
  const maxStalledEvents = opts.maxStalledEvents === undefined ? undefined : parseCount(opts.maxStalledEvents, '--max-stalled-events');
  const importTimeoutMs = parseImportTimeout(opts.importTimeout);
  if (opts.until !== undefined) parseUntil(opts.until);
  const scenario = await loadScenario(file, importTimeoutMs !== undefined ? { timeoutMs: importTimeoutMs } : {});
  const modes = opts.mode === undefined && scenario.modes !== null ? [...scenario.modes] : modesFor(scenario, file, opts.mode);
  const overrides = parseSettings(opts.set, scenario.params);
  const out = opts.out ?? `${scenario.name}-seed${seed}${modes.length === 1 && modes[0] !== null ? `-${modes[0]}` : ''}.capsule.json`;
  checkOutputTarget('--out', out, [file]);
  const untilUs = parseUntil(opts.until ?? scenario.until);
  const tty = process.stderr.isTTY === true;
  for (const mode of modes) {
    const base = {
      file,
      scenario,
      seed,
      mode,
      overrides,
      untilUs,
      ...(opts.until !== undefined ? { untilText: opts.until } : {}),
      ...(maxStalledEvents !== undefined ? { maxStalledEvents } : {}),
    };
    const tag = `shrink ${scenario.name} seed ${seed}${mode !== null ? ` ${mode}` : ''}`;
    let outcome;
    try {
      outcome = shrink(base, {
        maxRuns,
        onProgress: (p) => {
          const where = `${tag}: run ${p.runs}/${p.maxRuns}: ${sizeText(p.size)}`;
          if (p.accepted !== null) process.stderr.write(`${tty ? CLEAR_PROGRESS : ''}${where} — ${p.accepted}\n`);
          else if (tty) process.stderr.write(`\r${where.slice(0, PROGRESS_WIDTH).padEnd(PROGRESS_WIDTH)}`);
        },
      });
    } catch (e) {
      if (tty) process.stderr.write(CLEAR_PROGRESS);
      // Without --mode every mode is tried: one that holds is no error while another one fails.
      if (e instanceof UsageError && /violates no property/.test(e.message) && modes.length > 1) {
        if (mode !== modes[modes.length - 1]) continue;
        throw new UsageError(`${file} seed ${seed} violates no property in ${modes.join(' or ')}: nothing to shrink`);
      }
      if (e instanceof StallError) throw stallError(e, false);
      throw e;
    }
    if (tty) process.stderr.write(CLEAR_PROGRESS);
    const { before, after } = outcome;
    const v = after.result.violation!;
    const changed = Object.entries(after.candidate.overrides).filter(([k, x]) => before.candidate.overrides[k] !== x);
    const capsule: Capsule = {
      format: CAPSULE_FORMAT,
      scenario: { file: capsuleScenarioPath(file), name: scenario.name },
      seed,
      mode,
      overrides: after.candidate.overrides,
      until: opts.until ?? null,
      plan: after.candidate.plan,
      invariant: outcome.invariant,
      violation: { atMs: v.atMs, detail: v.detail },
      traceHash: after.result.traceHash,
      events: after.result.events,
      code: codeVersion(),
      shrink: { runs: outcome.runs, before: before.size, after: after.size, budgetSpent: outcome.budgetSpent },
    };
    writeCapsule(out, capsule);
    const lines = [
      `${tag}: ${outcome.invariant} still fails after ${outcome.runs} runs${outcome.budgetSpent ? ` (the --max-runs budget of ${maxRuns} ran out; more might go)` : ''}`,
      `  faults: ${sizeText(before.size)} → ${sizeText(after.size)}`,
      ...(changed.length > 0 ? [`  parameters: ${changed.map(([k, x]) => `${k} ${String(before.candidate.overrides[k] ?? scenario.params[k]!.default)} → ${String(x)}`).join(', ')}`] : []),
      `  violation: ${outcome.invariant} at ${v.atMs} ms (was ${before.result.violation!.atMs} ms): ${v.detail}`,
      '  minimal fault plan:',
      ...formatPlan(after.candidate.plan).map((l) => `  ${l}`),
      `  trace ${after.result.traceHash}; capsule written to ${out}`,
      `replay: ${replayCapsuleCommand(out)}`,
    ];
    // With the capsule on stdout (--out -), the summary goes to stderr.
    (out === '-' ? process.stderr : process.stdout).write(`${lines.join('\n')}\n`);
    return 1;
  }
  return 0;
}

async function cmdReplay(path: string, opts: { trace?: string; json?: boolean; debug?: boolean }): Promise<number> {
  if (opts.trace !== undefined) {
    if (opts.trace === '-' && opts.json === true) throw new UsageError('--trace - and --json both want stdout: write the trace to a file');
    checkOutputTarget('--trace', opts.trace, [path]);
  }
  const r = await replay(path, opts.trace !== undefined ? { traceFile: opts.trace } : {});
  const out = opts.trace === '-' ? process.stderr : process.stdout;
  if (opts.json === true) out.write(`${JSON.stringify({ verdict: r.verdict, line: r.line, recorded: { invariant: r.capsule.invariant, traceHash: r.capsule.traceHash }, runs: [r.result] }, null, 2)}\n`);
  else out.write(`${r.line}\n`);
  return r.exitCode;
}

function cmdReport(path: string, opts: { json?: boolean }): number {
  const r = reportFromTrace(path);
  if (opts.json === true) process.stdout.write(`${JSON.stringify({ runs: [r] }, null, 2)}\n`);
  else process.stdout.write(`${renderTerminal([r as unknown as RunResult])}\n`);
  return 0;
}

function cmdDiff(a: string, b: string, opts: { context: string }): number {
  const context = /^\d+$/.test(opts.context.trim()) ? Number(opts.context.trim()) : NaN;
  if (!Number.isSafeInteger(context) || context > 1000) throw new UsageError(`--context must be a whole number from 0 to 1000, got '${opts.context}'`);
  const r = diffTraces(a, b, context);
  process.stdout.write(`${r.lines.join('\n')}\n`);
  return r.identical ? 0 : 1;
}

const EXIT_CODES =
  '\nExit codes:\n' +
  '  0    ran, and every property held\n' +
  '  1    a property was violated (for check: some run violated one), and nothing else\n' +
  '  2    bad input, one line on stderr: a flag or parameter, a scenario file that cannot load, loops\n' +
  '       at import, reads the clock or Math.random, throws in build() or builds an impossible fault\n' +
  '       plan; an output that cannot be written; a run too large for this machine\'s memory; a run\n' +
  '       whose simulated time stops advancing (--max-stalled-events) with your scenario file or --set\n' +
  '  70   internal error, a bug of kraftsim: a model threw, or a shipped scenario with its default\n' +
  '       parameters stopped advancing; --debug prints the stack\n' +
  '  130  interrupted (SIGINT; 143 for SIGTERM): output files are left as they were, no partial file\n';

const STALL_HELP = `stop a run after this many events in a row at one simulated instant (default ${DEFAULT_MAX_STALLED_EVENTS}: thousands of times the largest real burst)`;
const IMPORT_HELP = `bound on loading the scenario file, e.g. 30s (default ${IMPORT_TIMEOUT_MS / 1000}s: ${IMPORT_TIMEOUT_REASON})`;

function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version?: string };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

export function buildProgram(exit: (code: number) => void): Command {
  const program = new Command();
  program
    .name('sim')
    .description(
      "kraftsim: a deterministic simulator of Kafka's control planes (ZooKeeper mode and KRaft).\n" +
        'Every run replays bit for bit from its seed; the trace hash is its identity.',
    )
    .version(version(), '-V, --version', 'print the version')
    .option('--no-color', 'no colours in the output (also: the NO_COLOR environment variable)')
    .exitOverride()
    .showHelpAfterError(false)
    .configureOutput({ outputError: (str, write) => write(str.split('\n')[0] + '\n') })
    .addHelpText('after', EXIT_CODES);

  program
    .command('run')
    .description('run a scenario (both modes side by side unless --mode), print its figures; exit 1 if a property is violated')
    .argument('<scenario>', 'scenario file, e.g. scenarios/controller-failover.ts')
    .option('--seed <n>', 'random seed, an integer from 0 to 2^53 − 1', '0')
    .addOption(new Option('--mode <mode>', 'zk, kraft or both (Kafka scenarios only)'))
    .option('--set <key=value>', 'override a parameter (repeatable); see `sim params <scenario>`', collect, [])
    .option('--json', 'print exactly one JSON object { "runs": [...] } on stdout')
    .option('--trace <file.jsonl>', 'write every trace record as JSONL to a regular file (one per mode; - for stdout, then the table goes to stderr)')
    .option('--series', 'record time series (change points) and put them in --json under "series"')
    .option('--report <file.html>', 'write a self-contained HTML report: both modes on shared time axes, figures, verdicts')
    .option('--perfetto <file.json>', 'write a Chrome trace-event file for ui.perfetto.dev: executors as slices, messages as flows, faults, unavailability and divergence (both modes in one file)')
    .option('--until <duration>', 'simulated-time limit: 500ms, 90s, 10m, 1h (a bare number is ms; default: the scenario\'s)')
    .option('--max-stalled-events <n>', STALL_HELP)
    .option('--import-timeout <duration>', IMPORT_HELP)
    .option('--debug', 'print stack traces of errors')
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  sim run scenarios/controller-failover.ts --seed 42\n' +
        '  sim run scenarios/controller-failover.ts --mode kraft --set partitions=2000000 --json\n' +
        '  sim run scenarios/ping.ts --seed 7 --trace /tmp/ping.jsonl --until 30s\n' +
        EXIT_CODES,
    )
    .action(async (file: string, opts: RunOpts) => exit(await cmdRun(file, opts)));

  program
    .command('check')
    .description('run the safety corpus (every scenario, both modes, seeds 1…N, swarm fault mixes); exit 1 if any property is violated')
    .option('--seeds <n>', "seeds per scenario (default: the corpus's own counts)")
    .option('--from <seed>', 'first seed', '1')
    .option('--only <text>', 'only scenarios whose file contains this text, e.g. swarm')
    .option('--set <key=value>', 'apply to every run that has the parameter, e.g. bugs=KAFKA-15489 (repeatable)', collect, [])
    .option('--json', 'print { runs, failed, lines } as JSON')
    .option('--workers <k>', 'worker threads (default: one per core)')
    .option('--max-stalled-events <n>', STALL_HELP)
    .option('--debug', 'print stack traces of errors')
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  sim check\n' +
        '  sim check --only swarm --seeds 100 --from 1000\n' +
        '  sim check --only swarm --set bugs=KAFKA-15489      # exit 1: the check-quorum bug is found\n' +
        EXIT_CODES,
    )
    .action(async (opts: CheckOpts) => exit(await cmdCheck(opts)));

  program
    .command('sweep')
    .description('run a scenario over a range of seeds on worker threads, one JSON line per finished run; summary at the end; exit 1 if any run violated a property')
    .argument('<scenario>', 'scenario file, e.g. scenarios/swarm.ts')
    .requiredOption('--seeds <A..B>', 'the seeds, inclusive (N alone: 1..N)')
    .addOption(new Option('--mode <mode>', 'zk, kraft or both (Kafka scenarios only; default both)'))
    .option('--set <key=value>', 'override a parameter for every run (repeatable)', collect, [])
    .option('--workers <k>', 'worker threads (default: one per core)')
    .option('--shard <i/n>', 'only every n-th seed of the range, starting at the i-th (i from 0): shard i of n machines')
    .option('--out <file.jsonl>', 'append each finished run to this file as one JSON line (- for stdout; then the summary goes to stderr)')
    .option('--resume', 'continue the sweep whose results are in --out: skip the runs it holds (a torn last line is cut off)')
    .option('--json', 'print the summary as JSON')
    .option('--until <duration>', "simulated-time limit of every run (default: the scenario's)")
    .option('--max-stalled-events <n>', STALL_HELP)
    .option('--import-timeout <duration>', IMPORT_HELP)
    .option('--debug', 'print stack traces of errors')
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  sim sweep scenarios/swarm.ts --seeds 1..1000 --out swarm.jsonl\n' +
        '  sim sweep scenarios/swarm.ts --seeds 1..1000 --out swarm.jsonl --resume      # after a kill\n' +
        '  sim sweep scenarios/swarm.ts --seeds 1..100000 --shard 3/8 --out shard-3.jsonl # machine 3 of 8\n' +
        '  sim sweep scenarios/swarm.ts --seeds 1..200 --mode kraft --set bugs=KAFKA-15489\n' +
        EXIT_CODES,
    )
    .action(async (file: string, opts: SweepOpts) => exit(await cmdSweep(file, opts)));

  program
    .command('compare')
    .description('run a scenario over a grid of parameter values in both modes on worker threads; a table of recovery, phases, unavailability and divergence per point, with the ZK/KRaft ratio')
    .argument('<scenario>', 'scenario file, e.g. scenarios/controller-failover.ts')
    .option('--grid <key=v1,v2,...>', 'a parameter and the values to run it at (repeatable: every combination runs); keys as for --set', collect, [])
    .option('--seed <n>', 'random seed of every run', '0')
    .addOption(new Option('--mode <mode>', 'zk, kraft or both (default both)'))
    .option('--set <key=value>', 'fix a parameter for every run (repeatable)', collect, [])
    .option('--workers <k>', 'worker threads (default: one per core)')
    .option('--json', 'print the comparison as one JSON document (format kraftsim-compare/1) instead of the table')
    .option('--json-out <file.json>', 'also write that JSON document to a file')
    .option('--md', 'print the table as Markdown')
    .option('--report <file.html>', 'also write a self-contained HTML report: recovery and divergence against the first grid parameter, both modes')
    .option('--until <duration>', "simulated-time limit of every run (default: the scenario's)")
    .option('--max-stalled-events <n>', STALL_HELP)
    .option('--import-timeout <duration>', IMPORT_HELP)
    .option('--debug', 'print stack traces of errors')
    .addHelpText(
      'after',
      '\nEach grid point runs in each mode exactly as `sim run <scenario> --seed N --mode M --set key=value`\n' +
        'would (same trace hash); the table has one row per point: each mode\'s recovery and its phases\n' +
        '(detect / elect / load / propagate), max unavailable partitions, max divergence, and the\n' +
        'ZooKeeper/KRaft recovery ratio. "!" marks a run that violated a property (its replay is printed).\n' +
        'Grid values that grow by a steady factor are drawn on a log axis in the report.\n' +
        '\nExamples:\n' +
        '  sim compare scenarios/controller-failover.ts --seed 42 --grid partitions=200000,500000,1000000,2000000\n' +
        '  sim compare scenarios/broker-crash.ts --grid partitions=20000,200000 --grid brokers=6,12 --report compare.html\n' +
        '  sim compare scenarios/controller-failover.ts --grid zookeeper.session.timeout.ms=6000,18000 --mode zk --json\n' +
        EXIT_CODES,
    )
    .action(async (file: string, opts: CompareOpts) => exit(await cmdCompare(file, opts)));

  program
    .command('merge')
    .description('summarise the results files of the shards of one sweep as one sweep over their union; exit 1 if any run violated a property')
    .argument('<results...>', 'results files written by sim sweep --out')
    .option('--out <file.jsonl>', 'also write the union, each run once, one per line')
    .option('--json', 'print the summary as JSON')
    .option('--debug', 'print stack traces of errors')
    .addHelpText('after', '\nExamples:\n  sim merge shard-*.jsonl\n' + EXIT_CODES)
    .action(async (files: string[], opts: { json?: boolean; out?: string }) => exit(await cmdMerge(files, opts)));

  program
    .command('params')
    .description('list a scenario\'s parameters with their defaults, units and sources (all settable with --set)')
    .argument('<scenario>', 'scenario file')
    .option('--import-timeout <duration>', IMPORT_HELP)
    .action(async (file: string, opts: { importTimeout?: string }) => exit(await cmdParams(file, opts)));

  program
    .command('list')
    .description('list the scenarios in scenarios/ with their one-line descriptions')
    .action(async () => exit(await cmdList()));

  program
    .command('shrink')
    .description('cut a violating run down to the fewest, shortest faults (and smallest cluster) that still break the same invariant; write a capsule; exit 1')
    .argument('<scenario>', 'scenario file, e.g. scenarios/swarm.ts')
    .option('--seed <n>', 'the violating seed', '0')
    .addOption(new Option('--mode <mode>', 'zk or kraft (default: the first mode that violates)'))
    .option('--set <key=value>', 'parameter of the violating run (repeatable), e.g. bugs=KAFKA-15489', collect, [])
    .option('--out <capsule.json>', 'where to write the failure capsule (default: <scenario>-seed<N>-<mode>.capsule.json)')
    .option('--until <duration>', "simulated-time limit of every run (default: the scenario's)")
    .option('--max-runs <n>', `bound on the runs the shrink may spend (default ${DEFAULT_MAX_SHRINK_RUNS})`)
    .option('--max-stalled-events <n>', STALL_HELP)
    .option('--import-timeout <duration>', IMPORT_HELP)
    .option('--debug', 'print stack traces of errors')
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  sim shrink scenarios/swarm.ts --seed 19 --mode kraft --set bugs=KAFKA-15489 --out cap.json\n' +
        '  sim replay cap.json\n' +
        EXIT_CODES,
    )
    .action(async (file: string, opts: ShrinkOpts) => exit(await cmdShrink(file, opts)));

  program
    .command('replay')
    .description('rerun a failure capsule: "reproduced, hash matches" (exit 1: it is a violation), a differing hash, or not reproduced (exit 0)')
    .argument('<capsule>', 'a capsule written by sim shrink')
    .option('--trace <file.jsonl>', 'write the replayed trace as JSONL (for sim diff)')
    .option('--json', 'print the verdict and the run as JSON')
    .option('--debug', 'print stack traces of errors')
    .action(async (path: string, opts: { trace?: string; json?: boolean }) => exit(await cmdReplay(path, opts)));

  program
    .command('report')
    .description("a Kafka run's metrics recomputed from its trace alone (written by sim run --trace), as the run printed them")
    .argument('<trace.jsonl>', 'a trace written by sim run --trace (one mode)')
    .option('--json', "print the run as JSON (its metrics and the tracker's extra figures)")
    .option('--debug', 'print stack traces of errors')
    .action((path: string, opts: { json?: boolean }) => exit(cmdReport(path, opts)));

  program
    .command('diff')
    .description('the first differing record of two traces (written by --trace), with context; exit 0 identical, 1 different')
    .argument('<a.jsonl>', 'first trace')
    .argument('<b.jsonl>', 'second trace')
    .option('--context <n>', 'records of context on each side', String(DEFAULT_DIFF_CONTEXT))
    .option('--debug', 'print stack traces of errors')
    .action((a: string, b: string, opts: { context: string }) => exit(cmdDiff(a, b, opts)));

  return program;
}

/** NO_COLOR (https://no-color.org: any non-empty value) and --no-color turn colours off. */
function colourOff(argv: readonly string[]): boolean {
  // eslint-disable-next-line no-restricted-properties -- the user's choice of output, not part of a run
  const env = process.env;
  return argv.includes('--no-color') || (env['NO_COLOR'] !== undefined && env['NO_COLOR'] !== '');
}

export async function main(argv: readonly string[]): Promise<number> {
  let code = 0;
  const program = buildProgram((c) => {
    code = c;
  });
  const debug = argv.includes('--debug');
  if (colourOff(argv)) chalk.level = 0;
  try {
    // A bare `sim` is a request for help: print it to stdout and succeed.
    if (argv.length === 0) {
      process.stdout.write(program.helpInformation());
      return 0;
    }
    await program.parseAsync([...argv], { from: 'user' });
    return code;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 0;
      return 2; // commander already printed its one-line error
    }
    if (e instanceof UsageError) {
      process.stderr.write(`sim: ${e.message}\n`);
      if (debug) process.stderr.write(`${e.stack ?? ''}\n`);
      return 2;
    }
    const msg = e instanceof Error ? e.message : String(e);
    process.stderr.write(`sim: internal error: ${msg.split('\n')[0]}${debug ? '' : ' (a bug of kraftsim; rerun with --debug for the stack)'}\n`);
    if (debug && e instanceof Error) process.stderr.write(`${e.stack ?? ''}\n`);
    return 70;
  }
}

const isEntry = process.argv[1] !== undefined && /bin[\\/]sim(\.js)?$/.test(process.argv[1]);
if (isEntry) {
  // `sim run … --json | head -1`: a reader that closes the pipe early is not an error of ours.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
  process.exitCode = await main(process.argv.slice(2));
}
