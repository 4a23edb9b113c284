const BRAND = Symbol.for('kraftsim.UsageError');

/**
 * An error the user caused (bad flag, missing file, bad value): one plain sentence, exit code 2.
 * Scenario files are loaded in a module graph of their own, so a UsageError thrown by their copy of
 * this module is recognised by a brand in the global symbol registry, not by class identity.
 */
export class UsageError extends Error {
  readonly [BRAND] = true;
  override readonly name = 'UsageError';

  static override [Symbol.hasInstance](x: unknown): boolean {
    return typeof x === 'object' && x !== null && (x as Record<symbol, unknown>)[BRAND] === true;
  }
}
