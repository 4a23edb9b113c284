import { describe, expect, it } from 'vitest';
import { DeterminismError, withDeterminismGuard, withImportGuardAsync } from '../../core/guard.ts';
import { loaderReadsClock } from './fixtures/loader-like.ts';

describe('withDeterminismGuard', () => {
  const banned: [string, () => unknown][] = [
    ['Math.random', () => Math.random()],
    ['Date.now', () => Date.now()],
    ['new Date()', () => new Date()],
    ['Date()', () => (Date as unknown as () => string)()],
    ['performance.now', () => performance.now()],
  ];

  for (const [name, fn] of banned) {
    it(`throws on ${name} inside and restores it after`, () => {
      expect(() => withDeterminismGuard(fn)).toThrow(DeterminismError);
      expect(() => fn()).not.toThrow();
    });
  }

  it('restores everything when the guarded function throws, and passes values through', () => {
    const before = [Math.random, Date, performance.now] as const;
    expect(() =>
      withDeterminismGuard(() => {
        throw new Error('model bug');
      }),
    ).toThrow('model bug');
    expect([Math.random, Date, performance.now]).toEqual([...before]);
    expect(withDeterminismGuard(() => 42)).toBe(42);
    expect(typeof Math.random()).toBe('number');
    expect(Date.now()).toBeGreaterThan(0);
  });

  it('allows what does not read the world: a Date from a given time, Date.UTC', () => {
    const out = withDeterminismGuard(() => [new Date(0).toISOString(), Date.UTC(2024, 0, 1)]);
    expect(out).toEqual(['1970-01-01T00:00:00.000Z', 1_704_067_200_000]);
  });
});

describe('withImportGuardAsync (a scenario file\'s top-level code)', () => {
  const banned: [string, () => unknown][] = [
    ['Math.random', () => Math.random()],
    ['Date.now', () => Date.now()],
    ['new Date()', () => new Date()],
    ['Date()', () => (Date as unknown as () => string)()],
    ['performance.now', () => performance.now()],
  ];
  for (const [name, fn] of banned) {
    it(`throws on ${name} at import, and restores it after`, async () => {
      await expect(withImportGuardAsync(async () => fn(), '/no/such/loader/')).rejects.toThrow(DeterminismError);
      await expect(withImportGuardAsync(async () => fn(), '/no/such/loader/')).rejects.toThrow(/at import/);
      expect(() => fn()).not.toThrow();
    });
  }

  it('lets the module loader read the clock (calls made by code in the trusted directory), and only it', async () => {
    const got = await withImportGuardAsync(async () => loaderReadsClock(), '/test/core/fixtures/');
    expect(got.every((t) => t > 0)).toBe(true);
    await expect(withImportGuardAsync(async () => loaderReadsClock(), '/node_modules/tsx/')).rejects.toThrow(DeterminismError);
  });
});
