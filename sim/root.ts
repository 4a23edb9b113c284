import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * True when the code running is the JavaScript built into dist/ (bin/build.js), false when it is the
 * TypeScript sources (through tsx or vitest). The built twin of this file is dist/sim/root.js.
 */
export const RUNNING_BUILT = import.meta.url.endsWith('.js');

/** The project's root directory (package.json, scenarios/, bin/), from the sources or from dist/. */
export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), RUNNING_BUILT ? '../..' : '..');
