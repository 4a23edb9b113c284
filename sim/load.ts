import { existsSync, statSync } from 'node:fs';
import { register } from 'node:module';
import { join, relative, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DeterminismError, withImportGuardAsync } from '../core/guard.ts';
import { UsageError } from './errors.ts';
import { IMPORT_TIMEOUT_MS, watchImport } from './import-watchdog.ts';
import { PROJECT_ROOT, RUNNING_BUILT } from './root.ts';
import { isScenario, type Scenario } from './scenario.ts';

/** The module loader's own files: its transform cache reads the clock while it compiles. */
const LOADER_DIR = `${sep}node_modules${sep}tsx${sep}`;

export interface LoadOptions {
  /** Bound on the import (compile + top-level code), ms; default IMPORT_TIMEOUT_MS. */
  readonly timeoutMs?: number;
  /**
   * False in a worker thread of the run pool: the watchdog can only stop the main thread, and the
   * main thread has already imported the same file within the bound before any worker starts.
   */
  readonly watch?: boolean;
}

/** Imports a scenario file; every way it can be wrong becomes a one-line UsageError. */
export async function loadScenario(file: string, opts: LoadOptions = {}): Promise<Scenario> {
  const path = resolve(file);
  let st;
  try {
    st = statSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UsageError(code === 'ENOENT' || code === 'ENOTDIR' ? `scenario file not found: ${file}` : `cannot read scenario ${file}: ${code ?? String(e)}`);
  }
  if (st.isDirectory()) throw new UsageError(`${file} is a directory, not a scenario file (try 'sim list' for the scenarios in scenarios/)`);
  if (!st.isFile()) throw new UsageError(`${file} is not a regular file`);
  let mod: Record<string, unknown>;
  const ms = opts.timeoutMs ?? IMPORT_TIMEOUT_MS;
  const watch = opts.watch === false ? { done() {} } : watchImport(ms, `sim: ${file}: its top-level code was still running after ${ms / 1000} s (an endless loop at import?); see --import-timeout`);
  try {
    const importer = await scenarioImporter(path);
    mod = await withImportGuardAsync(importer, LOADER_DIR);
  } catch (e) {
    if (e instanceof DeterminismError) throw new UsageError(`${file} is not deterministic: ${e.message}`);
    if (e instanceof UsageError) throw new UsageError(`${file}: ${e.message}`);
    const msg = e instanceof Error ? e.message : String(e);
    throw new UsageError(`cannot load scenario ${file}: ${firstLine(msg)}`);
  } finally {
    watch.done();
  }
  // Outside a "type": "module" package the file is compiled as CommonJS: its exports sit one level down.
  const d = mod['default'];
  const s = isScenario(d) ? d : typeof d === 'object' && d !== null ? (d as Record<string, unknown>)['default'] : undefined;
  if (!isScenario(s)) throw new UsageError(`${file} has no default-exported scenario (export default defineScenario({...}))`);
  return s;
}

/**
 * How to import a scenario file; anything the loader needs is loaded here, before the import guard.
 * Run from the sources (through tsx or vitest), tsx compiles it (tsImport loads it as ESM wherever it
 * lives, outside a "type": "module" package too). Run from the built JavaScript (dist/), a shipped
 * scenario is its built twin, and any other file is compiled by tsx, registered on first use, with
 * its imports of the project's sources resolved to dist/ (the CLI's own module instances:
 * sim/built-hooks.ts).
 */
async function scenarioImporter(path: string): Promise<() => Promise<Record<string, unknown>>> {
  const url = pathToFileURL(path).href;
  if (!RUNNING_BUILT) {
    const { tsImport } = await import('tsx/esm/api');
    return async () => (await tsImport(url, import.meta.url)) as Record<string, unknown>;
  }
  const twin = builtScenario(path);
  if (twin === null) await typeScriptLoader();
  const target = twin === null ? url : pathToFileURL(twin).href;
  return async () => (await import(target)) as Record<string, unknown>;
}

/** dist/scenarios/x.js for scenarios/x.ts, when it was built. */
function builtScenario(path: string): string | null {
  if (!isShippedScenario(path) || !path.endsWith('.ts')) return null;
  const twin = join(PROJECT_ROOT, 'dist', `${relative(PROJECT_ROOT, path).slice(0, -3)}.js`);
  return existsSync(twin) ? twin : null;
}

let loaderReady: Promise<void> | null = null;

/** Registers tsx, then the hook that resolves the project's sources to dist/ (it runs first, so it has the last word). */
function typeScriptLoader(): Promise<void> {
  loaderReady ??= (async () => {
    const tsx = await import('tsx/esm/api');
    tsx.register();
    register(new URL('./built-hooks.js', import.meta.url), {
      data: { rootUrl: pathToFileURL(PROJECT_ROOT).href, distUrl: pathToFileURL(join(PROJECT_ROOT, 'dist')).href },
    });
  })();
  return loaderReady;
}

/** True for a file inside the project's own scenarios/ directory (shipped, tested with its defaults). */
export function isShippedScenario(file: string): boolean {
  return resolve(file).startsWith(join(PROJECT_ROOT, 'scenarios') + sep);
}

/** The message on one line: esbuild puts the useful part ("file:1:17: ERROR: …") on the next line. */
function firstLine(s: string): string {
  const line = s.split('\n').map((l) => l.trim()).filter((l) => l !== '').slice(0, 2).join(' ');
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}
