#!/usr/bin/env node
// `npm run bench [-- <name>]`: runs bench/<name>: its build in dist/ when that is up to date (as
// bin/sim.js does), else the TypeScript source through tsx, with a warning.
import { existsSync } from 'node:fs';
import { builtUrl, fallbackWarning, staleness } from './dist.js';

const name = process.argv[2] ?? 'kernel';
const file = new URL(`../bench/${name}.ts`, import.meta.url);
if (!/^[a-z][a-z0-9-]*$/.test(name) || !existsSync(file)) {
  process.stderr.write(`bench: no benchmark named '${name}' in bench/\n`);
  process.exit(2);
}
const stale = staleness();
if (stale === null) {
  await import(builtUrl(`bench/${name}.js`));
} else {
  process.stderr.write(fallbackWarning(stale).replace(/^sim:/, 'bench:'));
  const { register } = await import('tsx/esm/api');
  register();
  await import(file.href);
}
