// A worker thread of the run pool (sim/pool.ts): registers tsx in this thread, as bin/sim.js does in
// the main one, so scenario files (.ts) can be imported here too; then serves runs.
import { register } from 'tsx/esm/api';
register();
await import('../sim/pool-worker.ts');
