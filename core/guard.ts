/**
 * Run-time determinism guard: while a simulation runs, the wall clock and unseeded randomness
 * throw. Lint bans them in core/, sim/ and scenarios/; this catches what lint cannot see
 * (a dependency, a computed property access). Installed after imports, since importing
 * seedrandom itself calls Math.random once.
 */
export class DeterminismError extends Error {}

/**
 * The guard held across an async step: importing a scenario file, whose top-level code runs before
 * any simulation. Math.random, Date.now, new Date(), Date() and performance.now throw there as in a
 * run, except when called directly by the module loader itself (tsx's transform cache reads the
 * clock on this thread when it compiles a file as CommonJS): a call whose immediate caller is a file
 * under `allowCallersIn` passes through.
 */
export async function withImportGuardAsync<T>(fn: () => Promise<T>, allowCallersIn: string): Promise<T> {
  const restore = installTraps(true, allowCallersIn);
  try {
    return await fn();
  } finally {
    restore();
  }
}

export function withDeterminismGuard<T>(fn: () => T): T {
  const restore = installTraps();
  try {
    return fn();
  } finally {
    restore();
  }
}

const SELF = new URL(import.meta.url).pathname;

/** True when the nearest caller outside this file lives under `dir`. */
function calledFrom(dir: string): boolean {
  const holder: { stack?: string } = {};
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 8;
  Error.captureStackTrace(holder);
  Error.stackTraceLimit = limit;
  const frames = (holder.stack ?? '').split('\n').slice(1);
  const caller = frames.find((f) => !f.includes(SELF)) ?? '';
  return caller.includes(dir);
}

function installTraps(clocks = true, allowCallersIn?: string): () => void {
  const g = globalThis as { Date: DateConstructor; performance?: { now: () => number } };
  const savedRandom = Math.random;
  const savedDate = g.Date;
  const savedPerfNow = g.performance?.now;
  const where = allowCallersIn === undefined ? 'inside a simulation run' : 'at import (top-level code of a scenario file)';
  const trap = (what: string) => (): never => {
    throw new DeterminismError(`${what} called ${where}: use the node's clock or the seeded Rng`);
  };
  const allowed = (): boolean => allowCallersIn !== undefined && calledFrom(allowCallersIn);
  Math.random = trap('Math.random');
  const restore = (): void => {
    Math.random = savedRandom;
    g.Date = savedDate;
    if (g.performance !== undefined && savedPerfNow !== undefined) {
      try {
        g.performance.now = savedPerfNow;
      } catch {
        /* read-only */
      }
    }
  };
  if (!clocks) return restore;
  const realNow = savedDate.now.bind(savedDate);
  const guardedNow = (): number => (allowed() ? realNow() : trap('Date.now')());
  const GuardedDate = new Proxy(savedDate, {
    construct(target, args: unknown[]) {
      if (args.length === 0 && !allowed()) trap('new Date()')();
      return Reflect.construct(target, args) as object;
    },
    apply(target, thisArg, args: unknown[]) {
      if (allowed()) return Reflect.apply(target, thisArg, args) as unknown;
      return trap('Date()')();
    },
    get(target, prop, receiver) {
      if (prop === 'now') return allowCallersIn === undefined ? trap('Date.now') : guardedNow;
      return Reflect.get(target, prop, receiver) as unknown;
    },
  });
  g.Date = GuardedDate;
  if (g.performance !== undefined) {
    try {
      const perfNow = savedPerfNow;
      g.performance.now =
        allowCallersIn === undefined || perfNow === undefined
          ? trap('performance.now')
          : function (this: unknown): number {
              if (allowed()) return perfNow.call(g.performance);
              return trap('performance.now')();
            };
    } catch {
      /* read-only in some hosts */
    }
  }
  return restore;
}
