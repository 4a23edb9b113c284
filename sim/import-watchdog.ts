/**
 * A bound on the time a scenario file's top-level code may run. A synchronous endless loop at
 * import cannot be interrupted from its own thread, so a watchdog thread waits beside the import;
 * if the import has not finished in time it sets a shared flag and asks V8, through the inspector
 * session a worker may open on the main thread, to terminate the running script. The main thread's
 * stack unwinds, nothing else runs, and the process's exit handler prints one line and sets exit 2.
 * If the inspector cannot reach the main thread, the watchdog writes that line itself and kills
 * the process. The normal path pays for starting one small thread, in parallel with the import.
 */
// eslint-disable-next-line no-restricted-imports -- the watchdog thread never touches a run
import { Worker } from 'node:worker_threads';

/** Default bound on a scenario file's import (compile + top-level code), in ms. */
export const IMPORT_TIMEOUT_MS = 30_000;
/**
 * Why 30 s: a cold import of the Kafka scenarios (tsx compiling the ~17k lines of the models) takes
 * about 2 s on a loaded 2-core machine; 15 times that is no false alarm and still a short wait.
 */
export const IMPORT_TIMEOUT_REASON = 'about 15 times a cold import of the Kafka models on a loaded 2-core machine';

const WATCHDOG_SOURCE = `
const { workerData } = require('node:worker_threads');
const { Session } = require('node:inspector');
const { writeSync } = require('node:fs');
setTimeout(() => {
  // 0 waiting, 1 fired, 2 the import finished: whichever side moves the flag from 0 first wins.
  if (Atomics.compareExchange(workerData.flag, 0, 0, 1) !== 0) return;
  let s = null;
  try {
    s = new Session();
    s.connectToMainThread();
  } catch {
    s = null;
  }
  // A terminate request that lands while the main thread is between scripts (a slow compile on a
  // loaded machine) can be lost, so it is repeated until the process exits.
  const terminate = () => {
    try { s.post('Runtime.terminateExecution'); } catch {}
  };
  if (s !== null) {
    terminate();
    setInterval(terminate, 250);
  }
  // Last resort: the main thread did not stop (or there is no inspector in this build of node).
  // Not unref'd: this thread must live until it fires (the worker itself does not hold the
  // process open; the main thread unref'd it).
  setTimeout(() => {
    writeSync(2, workerData.message + '\\n');
    process.kill(process.pid, 'SIGKILL');
  }, s === null ? 0 : 5000);
}, workerData.ms);
`;

export interface ImportWatch {
  /** Call when the import finished (or failed) in time. */
  done(): void;
}

/**
 * Starts the watchdog for one import. `message` is the line printed when it fires; the process then
 * exits with code 2.
 */
export function watchImport(ms: number, message: string): ImportWatch {
  const flag = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(WATCHDOG_SOURCE, { eval: true, workerData: { ms, flag, message } });
  worker.unref();
  const onExit = (): void => {
    if (Atomics.load(flag, 0) !== 1) return;
    process.stderr.write(`${message}\n`);
    process.exitCode = 2;
  };
  process.on('exit', onExit);
  return {
    done() {
      if (Atomics.compareExchange(flag, 0, 0, 2) !== 0) return; // too late: the watchdog fired
      process.off('exit', onExit);
      void worker.terminate();
    },
  };
}
