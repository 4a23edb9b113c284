/**
 * Module resolve hook for the built JavaScript (registered by sim/load.ts, only when it runs from
 * dist/ and a scenario file that is not a shipped one is imported): an import of one of the project's
 * TypeScript sources (core/, sim/, reports/, scenarios/) resolves to its built twin in dist/. A user's
 * scenario file that imports `../sim/scenario.ts` or `/path/to/kraftsim/core/index.ts` thus gets the
 * very module instances the CLI runs, not a second copy compiled from the sources.
 */
import type { InitializeHook, ResolveHook } from 'node:module';

/** Directories compiled into dist/ (bin/dist.js SOURCE_DIRS). */
const BUILT_DIRS = ['core/', 'sim/', 'reports/', 'scenarios/', 'bench/'];

let rootUrl = '';
let distUrl = '';

export const initialize: InitializeHook<{ rootUrl: string; distUrl: string }> = (data) => {
  rootUrl = data.rootUrl.endsWith('/') ? data.rootUrl : `${data.rootUrl}/`;
  distUrl = data.distUrl.endsWith('/') ? data.distUrl : `${data.distUrl}/`;
};

export const resolve: ResolveHook = async (specifier, context, nextResolve) => {
  const r = await nextResolve(specifier, context);
  const url = r.url;
  if (!url.startsWith('file:') || !url.endsWith('.ts')) return r;
  if (url.startsWith(rootUrl) && !url.startsWith(distUrl)) {
    const rel = url.slice(rootUrl.length);
    if (BUILT_DIRS.some((d) => rel.startsWith(d))) return { url: `${distUrl}${rel.slice(0, -3)}.js`, format: 'module', shortCircuit: true };
    return r;
  }
  // A scenario file outside an ESM package (no "type": "module" above it) is still an ES module
  // (`export default defineScenario(...)`): loaded as one, its imports come through this hook too.
  if (r.format === 'commonjs' && !url.includes('/node_modules/')) return { ...r, format: 'module' };
  return r;
};
