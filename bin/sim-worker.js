// A worker thread of the run pool (sim/pool.ts), started by code that runs from the TypeScript
// sources (tests, or `sim` before `npm run build`): runs the built dist/sim/pool-worker.js when dist/
// is up to date (the same code, already compiled), else registers tsx in this thread and imports
// sim/pool-worker.ts. The built CLI starts dist/sim/pool-worker.js directly.
import { builtUrl, staleness } from './dist.js';

if (staleness() === null) {
  await import(builtUrl('sim/pool-worker.js'));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../sim/pool-worker.ts');
}
