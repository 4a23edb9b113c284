#!/usr/bin/env node
// `npm run bench [-- <name>]`: registers tsx, as bin/sim.js does, then runs bench/<name>.ts.
import { existsSync } from 'node:fs';
import { register } from 'tsx/esm/api';

register();
const name = process.argv[2] ?? 'kernel';
const file = new URL(`../bench/${name}.ts`, import.meta.url);
if (!/^[a-z][a-z0-9-]*$/.test(name) || !existsSync(file)) {
  process.stderr.write(`bench: no benchmark named '${name}' in bench/\n`);
  process.exit(2);
}
await import(file.href);
