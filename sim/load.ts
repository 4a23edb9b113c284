import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { tsImport } from 'tsx/esm/api';
import { DeterminismError, withRandomGuardAsync } from '../core/guard.ts';
import { UsageError } from './errors.ts';
import { isScenario, type Scenario } from './scenario.ts';

/** Imports a scenario file; every way it can be wrong becomes a one-line UsageError. */
export async function loadScenario(file: string): Promise<Scenario> {
  const path = resolve(file);
  if (!existsSync(path) || !statSync(path).isFile()) throw new UsageError(`scenario file not found: ${file}`);
  let mod: Record<string, unknown>;
  try {
    // tsImport loads the file as ESM wherever it lives (outside a "type": "module" package too).
    mod = (await withRandomGuardAsync(() => tsImport(pathToFileURL(path).href, import.meta.url))) as Record<string, unknown>;
  } catch (e) {
    if (e instanceof DeterminismError) throw new UsageError(`${file} is not deterministic: ${e.message} (at import)`);
    const msg = e instanceof Error ? e.message : String(e);
    throw new UsageError(`cannot load scenario ${file}: ${firstLine(msg)}`);
  }
  // Outside a "type": "module" package the file is compiled as CommonJS: its exports sit one level down.
  const d = mod['default'];
  const s = isScenario(d) ? d : typeof d === 'object' && d !== null ? (d as Record<string, unknown>)['default'] : undefined;
  if (!isScenario(s)) throw new UsageError(`${file} has no default-exported scenario (export default defineScenario({...}))`);
  return s;
}

/** The message on one line: esbuild puts the useful part ("file:1:17: ERROR: …") on the next line. */
function firstLine(s: string): string {
  const line = s.split('\n').map((l) => l.trim()).filter((l) => l !== '').slice(0, 2).join(' ');
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}
