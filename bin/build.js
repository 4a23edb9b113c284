#!/usr/bin/env node
// `npm run build` (and `prepare`, which `npm ci` runs; and the test setup, with --if-stale): compiles the TypeScript of core/, sim/,
// reports/, scenarios/ and bench/ into dist/, one JavaScript module per source file in the same
// layout, so that `sim` starts without a compiler. esbuild strips the types (the same transform tsx
// applies at run time); a relative import of `x.ts` becomes `x.js`, and a relative import of anything
// else (JSON, templates) points back at the source tree. Type checking stays with `tsc --noEmit`.
// Writes to a fresh directory and renames it into place, so a reader never sees half a build.
import { build } from 'esbuild';
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { DIST, ROOT, builtTwin, manifestText, sourceFiles, staleness } from './dist.js';

const quiet = process.argv.includes('--quiet');
// --if-stale: nothing to do when dist/ already matches the sources (the test setup calls it so).
if (process.argv.includes('--if-stale') && staleness() === null) process.exit(0);
const started = process.hrtime.bigint();
const files = sourceFiles();
const tmp = `${DIST}.tmp-${process.pid}`;
rmSync(tmp, { recursive: true, force: true });

/** Every import stays an import: a sibling source becomes its built twin, anything else keeps its target. */
const rewriteImports = {
  name: 'rewrite-imports',
  setup(b) {
    b.onResolve({ filter: /.*/ }, (args) => {
      if (args.kind === 'entry-point') return undefined;
      if (!args.path.startsWith('./') && !args.path.startsWith('../')) return { path: args.path, external: true };
      const target = resolve(args.resolveDir, args.path);
      const from = dirname(builtTwin(args.importer) ?? args.importer);
      const twin = builtTwin(target);
      if (args.path.endsWith('.ts')) {
        if (twin === null || !existsSync(target)) {
          return { errors: [{ text: `${relative(ROOT, args.importer)} imports ${args.path}, which is not a source file of the build` }] };
        }
        return { path: toSpecifier(relative(from, twin)), external: true };
      }
      return { path: toSpecifier(relative(from, target)), external: true };
    });
  },
};

function toSpecifier(rel) {
  const s = rel.split('\\').join('/');
  return s.startsWith('.') ? s : `./${s}`;
}

try {
  await build({
    entryPoints: files.map((f) => join(ROOT, f)),
    outdir: tmp,
    outbase: ROOT,
    bundle: true,
    plugins: [rewriteImports],
    format: 'esm',
    platform: 'node',
    target: 'node20',
    sourcemap: 'linked',
    logLevel: 'error',
    tsconfig: join(ROOT, 'tsconfig.json'),
  });
  mkdirSync(tmp, { recursive: true });
  writeFileSync(join(tmp, 'manifest.json'), manifestText(files));
  rmSync(DIST, { recursive: true, force: true });
  renameSync(tmp, DIST);
} catch (e) {
  rmSync(tmp, { recursive: true, force: true });
  process.stderr.write(`build: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}\n`);
  process.exit(1);
}
if (!quiet) {
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  process.stdout.write(`build: ${files.length} modules into dist/ in ${Math.round(ms)} ms\n`);
}
