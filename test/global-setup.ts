import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Before any test file: brings dist/ up to date with the sources (bin/build.js --if-stale), so the
 * CLI that tests spawn (bin/sim.js) and the run pool's worker threads run the code under test,
 * already compiled, instead of compiling it through tsx in every process.
 */
export default function setup(): void {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..');
  execFileSync(process.execPath, [join(root, 'bin', 'build.js'), '--if-stale', '--quiet'], { cwd: root, stdio: 'inherit' });
}
