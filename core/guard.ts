/**
 * Run-time determinism guard: while a simulation runs, the wall clock and unseeded randomness
 * throw. Lint bans them in core/, sim/ and scenarios/; this catches what lint cannot see
 * (a dependency, a computed property access). Installed after imports, since importing
 * seedrandom itself calls Math.random once.
 */
export class DeterminismError extends Error {}

/**
 * A guard on Math.random only, held across an async step: importing a scenario file, whose
 * top-level code runs before any simulation. The clock stays readable there because the module
 * loader itself reads it (tsx's CommonJS path calls Date.now on this thread).
 */
export async function withRandomGuardAsync<T>(fn: () => Promise<T>): Promise<T> {
  const restore = installTraps(false);
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

function installTraps(clocks = true): () => void {
  const g = globalThis as { Date: DateConstructor; performance?: { now: () => number } };
  const savedRandom = Math.random;
  const savedDate = g.Date;
  const savedPerfNow = g.performance?.now;
  const trap = (what: string) => (): never => {
    throw new DeterminismError(`${what} called inside a simulation run: use the node's clock or the seeded Rng`);
  };
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
  const GuardedDate = new Proxy(savedDate, {
    construct(target, args: unknown[]) {
      if (args.length === 0) trap('new Date()')();
      return Reflect.construct(target, args) as object;
    },
    apply() {
      return trap('Date()')();
    },
    get(target, prop, receiver) {
      if (prop === 'now') return trap('Date.now');
      return Reflect.get(target, prop, receiver) as unknown;
    },
  });
  g.Date = GuardedDate;
  if (g.performance !== undefined) {
    try {
      g.performance.now = trap('performance.now');
    } catch {
      /* read-only in some hosts */
    }
  }
  return restore;
}
