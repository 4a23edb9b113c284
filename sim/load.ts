import { statSync } from 'node:fs';
import { dirname, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { tsImport } from 'tsx/esm/api';
import { DeterminismError, withImportGuardAsync } from '../core/guard.ts';
import { UsageError } from './errors.ts';
import { IMPORT_TIMEOUT_MS, watchImport } from './import-watchdog.ts';
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
    // tsImport loads the file as ESM wherever it lives (outside a "type": "module" package too).
    mod = (await withImportGuardAsync(() => tsImport(pathToFileURL(path).href, import.meta.url), LOADER_DIR)) as Record<string, unknown>;
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

/** True for a file inside the project's own scenarios/ directory (shipped, tested with its defaults). */
export function isShippedScenario(file: string): boolean {
  const shipped = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'scenarios') + sep;
  return resolve(file).startsWith(shipped);
}

/** The message on one line: esbuild puts the useful part ("file:1:17: ERROR: …") on the next line. */
function firstLine(s: string): string {
  const line = s.split('\n').map((l) => l.trim()).filter((l) => l !== '').slice(0, 2).join(' ');
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}
