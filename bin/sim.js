#!/usr/bin/env node
// The `sim` command: registers tsx so scenario files (.ts) can be imported, then runs the CLI.
import { register } from 'tsx/esm/api';
register();
await import('../sim/cli.ts');
