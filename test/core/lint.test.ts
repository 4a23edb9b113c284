import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const eslint = new ESLint({ cwd: ROOT });

async function lint(path: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: join(ROOT, path) });
  return result!.messages.filter((m) => m.severity === 2).map((m) => `${m.ruleId}: ${m.message}`);
}

describe('determinism lint rules (eslint.config.js)', () => {
  it('reject Math.random in core/', async () => {
    const errors = await lint('core/lint-probe.ts', 'export const x = Math.random();\n');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain('Math.random');
  });

  it('reject wall time, host timers, env, for..in, locale and seedrandom in simulated code', async () => {
    const code = [
      "import seedrandom from 'seedrandom';",
      "import { setTimeout as t } from 'node:timers';",
      'export const a = Date.now();',
      'export const b = performance.now();',
      'setTimeout(() => {}, 1);',
      'export const c = process.env.HOME;',
      'for (const k in {}) console.log(k);',
      "export const d = 'a'.localeCompare('b');",
      'export const e = Promise.race([]);',
      'export { seedrandom, t };',
    ].join('\n');
    const errors = await lint('scenarios/lint-probe.ts', code);
    expect(errors.length).toBeGreaterThanOrEqual(9);
    for (const needle of ['seedrandom', 'node:timers', 'Date', 'performance', 'setTimeout', 'process.env', 'for..in', 'localeCompare', 'Promise.race']) {
      expect(errors.some((e) => e.includes(needle))).toBe(true);
    }
  });

  it('scope the exceptions: driver code may read wall time, reports may format for locales, nothing else moves', async () => {
    expect(await lint('sim/run.ts', 'export const w = performance.now();\n')).toEqual([]);
    expect(await lint('sim/run.ts', 'export const r = Math.random();\n')).toHaveLength(1);
    expect(await lint('sim/params.ts', 'export const w = performance.now();\n')).not.toEqual([]);
    expect(await lint('reports/x.ts', 'export const s = (1234).toLocaleString();\n')).toEqual([]);
    expect(await lint('reports/x.ts', 'export const s = Date.now();\n')).not.toEqual([]);
    expect(await lint('core/rng.ts', "import seedrandom from 'seedrandom';\nexport { seedrandom };\n")).toEqual([]);
    expect(await lint('core/node.ts', "import seedrandom from 'seedrandom';\nexport { seedrandom };\n")).toHaveLength(1);
  });

  it('pass on a type annotation that names Date (only values are banned)', async () => {
    expect(await lint('core/lint-probe.ts', 'export type T = Date | null;\n')).toEqual([]);
  });
});
