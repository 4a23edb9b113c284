import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { loadScenario } from '../sim/load.ts';
import { isScenario, type Scenario } from '../sim/scenario.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const loaded = new Map<string, Promise<Scenario>>();

/**
 * A library scenario (a path from the project root, e.g. scenarios/ping.ts), imported once per
 * process with the modules of this one, as the CLI imports a shipped scenario's built twin. For
 * tests that run library scenarios in this process: the loader (sim/load.ts), when it runs from the
 * sources, compiles the file afresh with the whole model graph on every call, which costs more than
 * most of those runs. A file that does not import as a scenario goes through the loader for its
 * one-line error.
 */
export function libraryScenario(file: string): Promise<Scenario> {
  let p = loaded.get(file);
  if (p === undefined) {
    const path = join(ROOT, file);
    p = import(pathToFileURL(path).href).then((m: Record<string, unknown>) => (isScenario(m['default']) ? m['default'] : loadScenario(path)));
    loaded.set(file, p);
  }
  return p;
}
