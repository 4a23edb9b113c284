import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { UsageError } from './errors.ts';
import { isScenario, type Scenario } from './scenario.ts';

/** Imports a scenario file; every way it can be wrong becomes a one-line UsageError. */
export async function loadScenario(file: string): Promise<Scenario> {
  const path = resolve(file);
  if (!existsSync(path) || !statSync(path).isFile()) throw new UsageError(`scenario file not found: ${file}`);
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    throw new UsageError(`cannot load scenario ${file}: ${firstLine(msg)}`);
  }
  const s = mod['default'];
  if (!isScenario(s)) throw new UsageError(`${file} has no default-exported scenario (export default defineScenario({...}))`);
  return s;
}

function firstLine(s: string): string {
  const line = s.split('\n').find((l) => l.trim() !== '') ?? s;
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}
