import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export interface Ran {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `node bin/sim.js …args` from the project root, without colours. */
export function sim(...args: string[]): Promise<Ran> {
  return simWith({}, ...args);
}

export interface Spawned {
  readonly child: ChildProcess;
  readonly result: Promise<Ran & { signal: NodeJS.Signals | null }>;
  /** What the child has written to stderr so far. */
  stderr(): string;
}

/** Starts `node bin/sim.js …args` with extra environment (replacing the no-colour defaults when given). */
export function spawnSim(env: Record<string, string | undefined>, ...args: string[]): Spawned {
  const child = spawn(process.execPath, [join(ROOT, 'bin/sim.js'), ...args], {
    cwd: ROOT,
    env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const result = new Promise<Ran & { signal: NodeJS.Signals | null }>((done, fail) => {
    child.on('error', fail);
    child.on('close', (code, signal) => done({ code, signal, stdout, stderr }));
  });
  return { child, result, stderr: () => stderr };
}

export function simWith(env: Record<string, string | undefined>, ...args: string[]): Promise<Ran> {
  return spawnSim(env, ...args).result;
}

/**
 * Runs many `sim` commands, at most `limit` at a time: each one compiles and loads the models, and
 * dozens at once on a small machine only make every one of them slow.
 */
export async function simAll(cases: readonly (readonly string[])[], limit = 4): Promise<Ran[]> {
  const out: Ran[] = new Array<Ran>(cases.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < cases.length) {
      const i = next++;
      out[i] = await sim(...cases[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, cases.length) }, worker));
  return out;
}

/** A scratch directory for scenario files and traces. */
export function scratch(opts: { esmPackage?: boolean } = {}): { dir: string; file: (name: string, text: string) => string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'kraftsim-cli-'));
  // By default an ESM package like the project's own; without it the file is compiled as CommonJS.
  if (opts.esmPackage !== false) writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
  return {
    dir,
    file(name, text) {
      const p = join(dir, name);
      writeFileSync(p, text);
      return p;
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Source of a scenario file outside the project that imports the project by absolute path. */
export function scenarioSource(build: string, name = 'scratch'): string {
  return [
    `import { defineScenario } from ${JSON.stringify(join(ROOT, 'sim/scenario.ts'))};`,
    'export default defineScenario({',
    `  name: ${JSON.stringify(name)},`,
    "  description: 'a test scenario',",
    '  modes: null,',
    "  until: '1s',",
    '  params: {},',
    `  build({ sim }) { ${build} },`,
    '});',
    '',
  ].join('\n');
}

/** Bad input: exit 2, a single line on stderr, no stack trace. */
export function expectUsageError(r: Ran): string {
  const lines = r.stderr.split('\n').filter((l) => l.trim() !== '');
  if (r.code !== 2 || lines.length !== 1 || /^\s+at /m.test(r.stderr)) {
    throw new Error(`expected exit 2 with one stderr line, got exit ${r.code}, stderr:\n${r.stderr}`);
  }
  return lines[0]!;
}

let hereQueue: Promise<unknown> = Promise.resolve();

/**
 * `sim …args` in this process: the CLI's main() on the sources, with its stdout and stderr captured
 * and colours off (NO_COLOR, as sim() sets it). For what the CLI says and the code it returns on
 * bad input, where a process of its own adds nothing but its start-up (loading every model): the
 * process itself (bin/sim.js, dist/, signals, exit) is what the sim() tests check. Calls run one at
 * a time, since the capture is of this process's streams.
 */
export function simHere(...args: string[]): Promise<Ran> {
  const run = hereQueue.then(async (): Promise<Ran> => {
    const [{ main }, { default: chalk }] = await Promise.all([import('../../sim/cli.ts'), import('chalk')]);
    let stdout = '';
    let stderr = '';
    const out = process.stdout.write;
    const err = process.stderr.write;
    const level = chalk.level;
    const noColor = process.env['NO_COLOR'];
    const capture =
      (append: (s: string) => void) =>
      (chunk: string | Uint8Array, ...rest: unknown[]): boolean => {
        append(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
        const cb = rest.find((x) => typeof x === 'function') as (() => void) | undefined;
        cb?.();
        return true;
      };
    process.stdout.write = capture((s) => (stdout += s)) as typeof process.stdout.write;
    process.stderr.write = capture((s) => (stderr += s)) as typeof process.stderr.write;
    process.env['NO_COLOR'] = '1';
    try {
      const code = await main(args);
      return { code, stdout, stderr };
    } finally {
      process.stdout.write = out;
      process.stderr.write = err;
      chalk.level = level;
      if (noColor === undefined) delete process.env['NO_COLOR'];
      else process.env['NO_COLOR'] = noColor;
    }
  });
  hereQueue = run.catch(() => undefined);
  return run;
}

/** simHere for each case in turn. */
export async function simHereAll(cases: readonly (readonly string[])[]): Promise<Ran[]> {
  const out: Ran[] = [];
  for (const c of cases) out.push(await simHere(...c));
  return out;
}
