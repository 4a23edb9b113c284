/**
 * A worker thread of the run pool (sim/pool.ts): makes the runs it is sent, one at a time, and
 * sends each outcome back. Started through bin/sim-worker.js, which registers tsx in this thread.
 */
// eslint-disable-next-line no-restricted-imports -- the thread's own message port; each run stays on this thread
import { parentPort } from 'node:worker_threads';
import { executeJob, type RunJob } from './pool.ts';

const port = parentPort;
if (port === null) throw new Error('sim/pool-worker.ts runs only as a worker thread of sim/pool.ts');
let queue = Promise.resolve();
port.on('message', (job: RunJob) => {
  // One run at a time, in the order sent (the pool sends one per idle thread anyway).
  queue = queue.then(async () => port.postMessage(await executeJob(job, { inWorker: true })));
});
