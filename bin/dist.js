// The JavaScript build in dist/: which sources it is made of, and whether it is up to date with them.
// Shared by bin/build.js (which writes it) and the entry points (bin/sim.js, bin/sim-worker.js,
// bin/bench.js, the test setup), which run it when it matches the sources and TypeScript otherwise.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const DIST = join(ROOT, 'dist');
/** The directories compiled into dist/, each to dist/<dir>/ with the same layout. */
export const SOURCE_DIRS = ['core', 'sim', 'reports', 'scenarios', 'bench'];
/** Files outside SOURCE_DIRS whose change makes the build stale: how it is built and with what. */
const BUILD_INPUTS = ['bin/build.js', 'bin/dist.js', 'tsconfig.json'];
const MANIFEST = join(DIST, 'manifest.json');

/** Every TypeScript source compiled into dist/, as paths relative to the root with '/' separators, sorted. */
export function sourceFiles() {
  const out = [];
  for (const dir of SOURCE_DIRS) {
    const abs = join(ROOT, dir);
    if (!existsSync(abs)) continue;
    for (const f of readdirSync(abs, { recursive: true })) {
      const name = String(f);
      if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(`${dir}/${name.split(sep).join('/')}`);
    }
  }
  return out.sort();
}

/** One line per input: path, size and modification time; any edit, added or removed file changes it. */
export function fingerprint(files = sourceFiles()) {
  const lines = [];
  for (const f of [...files, ...BUILD_INPUTS]) {
    try {
      const st = statSync(join(ROOT, f));
      lines.push(`${f} ${st.size} ${st.mtimeMs}`);
    } catch {
      lines.push(`${f} missing`);
    }
  }
  return lines.join('\n');
}

/** Writes the manifest of a build just made (bin/build.js). */
export function manifestText(files) {
  return JSON.stringify({ inputs: fingerprint(files) }, null, 1) + '\n';
}

/** Null when dist/ holds an up-to-date build of the sources, else why not (one short phrase). */
export function staleness() {
  let manifest;
  try {
    manifest = JSON.parse(readFileSync(MANIFEST, 'utf8'));
  } catch {
    return 'dist/ has not been built';
  }
  if (manifest.inputs !== fingerprint()) return 'dist/ is older than the sources';
  return null;
}

/** The file URL of a built module (`sim/cli.js` → dist/sim/cli.js). */
export function builtUrl(rel) {
  return pathToFileURL(join(DIST, rel)).href;
}

/** Where a source file's built twin is (`/root/sim/kafka.ts` → `/root/dist/sim/kafka.js`), or null. */
export function builtTwin(absPath) {
  const rel = relative(ROOT, absPath);
  if (rel.startsWith('..') || !rel.endsWith('.ts')) return null;
  const top = rel.split(sep)[0];
  if (!SOURCE_DIRS.includes(top)) return null;
  return join(DIST, `${rel.slice(0, -3)}.js`);
}

/** The warning printed when the sources are run through tsx instead (one line on stderr). */
export function fallbackWarning(why) {
  return `sim: ${why}: running the TypeScript sources through tsx (slower start; 'npm run build' makes it)\n`;
}
