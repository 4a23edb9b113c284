#!/usr/bin/env node
// The `sim` command. Runs the JavaScript built into dist/ at install (`npm ci` runs `prepare`, which
// runs bin/build.js): no compiler on the start path. When dist/ is missing or older than the sources
// (after an edit, before `npm run build`), runs the TypeScript sources through tsx, with a warning.
// Scenario files stay TypeScript either way: sim/load.ts compiles them when they are imported.
import { builtUrl, fallbackWarning, staleness } from './dist.js';

if (process.argv.includes('--debug')) process.setSourceMapsEnabled(true);
const stale = staleness();
if (stale === null) {
  await import(builtUrl('sim/cli.js'));
} else {
  process.stderr.write(fallbackWarning(stale));
  const { register } = await import('tsx/esm/api');
  register();
  await import('../sim/cli.ts');
}
