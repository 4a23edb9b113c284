import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError, Option } from 'commander';
import { parseDurationUs } from '../core/time.ts';
import { renderTerminal } from '../reports/terminal.ts';
import { runCheck } from './check.ts';
import { UsageError } from './errors.ts';
import { loadScenario } from './load.ts';
import { parseSetting, type ParamValue } from './params.ts';
import type { Mode, RunResult } from './result.ts';
import { runOnce } from './run.ts';
import type { Scenario } from './scenario.ts';

const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export function parseSeed(text: string): number {
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(Number(text))) throw new UsageError(`--seed must be a non-negative integer, got '${text}'`);
  return Number(text);
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
  if (m === 'both') return [...s.modes];
  if (m !== 'zk' && m !== 'kraft') throw new UsageError(`--mode must be zk, kraft or both, got '${m}'`);
  if (!s.modes.includes(m)) throw new UsageError(`--mode ${m}: ${file} runs only in ${s.modes.join(', ')}`);
  return [m];
}

function traceFileFor(base: string, mode: Mode | null, many: boolean): string {
  if (!many || mode === null) return base;
  return base.endsWith('.jsonl') ? `${base.slice(0, -'.jsonl'.length)}.${mode}.jsonl` : `${base}.${mode}`;
}

interface RunOpts {
  seed: string;
  mode?: string;
  set: string[];
  json?: boolean;
  trace?: string;
  until?: string;
  debug?: boolean;
}

async function cmdRun(file: string, opts: RunOpts): Promise<number> {
  const scenario = await loadScenario(file);
  const seed = parseSeed(opts.seed);
  const modes = modesFor(scenario, file, opts.mode);
  const overrides: Record<string, ParamValue> = {};
  for (const s of opts.set) {
    const [k, v] = parseSetting(s, scenario.params);
    overrides[k] = v;
  }
  const untilText = opts.until ?? scenario.until;
  const untilUs = parseUntil(untilText);
  if (opts.trace !== undefined) {
    const dir = dirname(resolve(opts.trace));
    if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UsageError(`--trace: directory ${dir} does not exist`);
  }
  const showProgress = process.stderr.isTTY === true;
  const results: RunResult[] = [];
  for (const mode of modes) {
    results.push(
      runOnce({
        file,
        scenario,
        seed,
        mode,
        overrides,
        untilUs,
        ...(opts.until !== undefined ? { untilText: opts.until } : {}),
        ...(opts.trace !== undefined ? { traceFile: traceFileFor(opts.trace, mode, modes.length > 1) } : {}),
        onProgress: (m, nowUs, events) => {
          if (showProgress) process.stderr.write(`\r${m ?? 'run'}: ${(nowUs / 1e6).toFixed(1)} s simulated, ${(events / 1e6).toFixed(1)}M events`);
        },
      }),
    );
    if (showProgress) process.stderr.write('\r\x1b[K');
  }
  if (opts.json === true) process.stdout.write(`${JSON.stringify({ runs: results }, null, 2)}\n`);
  else process.stdout.write(`${renderTerminal(results)}\n`);
  return results.some((r) => r.violation !== null) ? 1 : 0;
}

async function cmdParams(file: string): Promise<number> {
  const s = await loadScenario(file);
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
  seeds?: string;
  from?: string;
  only?: string;
  set: string[];
  json?: boolean;
}

async function cmdCheck(opts: CheckOpts): Promise<number> {
  const seeds = opts.seeds === undefined ? undefined : parseSeed(opts.seeds);
  if (seeds === 0) throw new UsageError('--seeds must be at least 1');
  const firstSeed = opts.from === undefined ? 1 : parseSeed(opts.from);
  const showProgress = process.stderr.isTTY === true;
  const lines = await runCheck({
    ...(seeds !== undefined ? { seeds } : {}),
    firstSeed,
    ...(opts.only !== undefined ? { only: opts.only } : {}),
    sets: opts.set,
    onRun: (done, total, r) => {
      if (showProgress) process.stderr.write(`\rcheck: ${done}/${total} runs (${r.scenario}${r.mode === null ? '' : ` ${r.mode}`} seed ${r.seed})\x1b[K`);
    },
  });
  if (showProgress) process.stderr.write('\r\x1b[K');
  if (lines.length === 0) throw new UsageError('no corpus entry matches (see --only and --set)');
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
  return failed > 0 ? 1 : 0;
}

export function buildProgram(exit: (code: number) => void): Command {
  const program = new Command();
  program
    .name('sim')
    .description(
      "kraftsim: a deterministic simulator of Kafka's control planes (ZooKeeper mode and KRaft).\n" +
        'Every run replays bit for bit from its seed; the trace hash is its identity.',
    )
    .exitOverride()
    .showHelpAfterError(false)
    .configureOutput({ outputError: (str, write) => write(str.split('\n')[0] + '\n') });

  program
    .command('run')
    .description('run a scenario (both modes side by side unless --mode), print its figures; exit 1 if a property is violated')
    .argument('<scenario>', 'scenario file, e.g. scenarios/controller-failover.ts')
    .option('--seed <n>', 'random seed, a non-negative integer', '0')
    .addOption(new Option('--mode <mode>', 'zk, kraft or both (Kafka scenarios only)'))
    .option('--set <key=value>', 'override a parameter (repeatable); see `sim params <scenario>`', collect, [])
    .option('--json', 'print exactly one JSON object { "runs": [...] } on stdout')
    .option('--trace <file.jsonl>', 'stream every trace record to a JSONL file (one file per mode)')
    .option('--until <duration>', 'simulated-time limit: 500ms, 90s, 10m, 1h (a bare number is ms; default: the scenario\'s)')
    .option('--debug', 'print stack traces of errors')
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  sim run scenarios/controller-failover.ts --seed 42\n' +
        '  sim run scenarios/controller-failover.ts --mode kraft --set partitions=2000000 --json\n' +
        '  sim run scenarios/ping.ts --seed 7 --trace /tmp/ping.jsonl --until 30s\n' +
        '\nExit codes: 0 every property held; 1 a property was violated; 2 bad input.',
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
    .addHelpText('after', '\nExamples:\n  sim check\n  sim check --only swarm --seeds 100 --from 1000\n  sim check --only controller-failover --set bugs=KAFKA-15489')
    .action(async (opts: CheckOpts) => exit(await cmdCheck(opts)));

  program
    .command('params')
    .description('list a scenario\'s parameters with their defaults, units and sources (all settable with --set)')
    .argument('<scenario>', 'scenario file')
    .action(async (file: string) => exit(await cmdParams(file)));

  program
    .command('list')
    .description('list the scenarios in scenarios/ with their one-line descriptions')
    .action(async () => exit(await cmdList()));

  return program;
}

export async function main(argv: readonly string[]): Promise<number> {
  let code = 0;
  const program = buildProgram((c) => {
    code = c;
  });
  const debug = argv.includes('--debug');
  try {
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
    process.stderr.write(`sim: internal error: ${msg.split('\n')[0]}${debug ? '' : ' (rerun with --debug for the stack)'}\n`);
    if (debug && e instanceof Error) process.stderr.write(`${e.stack ?? ''}\n`);
    return 1;
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
