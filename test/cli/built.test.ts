import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, scratch, sim } from './spawn.ts';

/**
 * `sim` runs the JavaScript built into dist/ (the test setup brings it up to date); a scenario file
 * of the user's is still TypeScript, compiled when imported, and its imports of the project resolve
 * to the built modules the CLI runs: one Simulation class, not a second copy compiled from the sources.
 */
const source = (): string =>
  [
    `import { Simulation } from ${JSON.stringify(join(ROOT, 'core/index.ts'))};`,
    `import { defineScenario } from ${JSON.stringify(join(ROOT, 'sim/scenario.ts'))};`,
    'const typed: number = 1;',
    'export default defineScenario({',
    "  name: 'same-modules', description: 'x', modes: null, until: '1s', params: {},",
    '  build({ sim }) {',
    "    if (!(sim instanceof Simulation)) throw new Error('a second copy of core/sim.ts');",
    "    sim.addNode('a', () => ({ onMessage() {} }));",
    '    return { plan: { steps: [] } };',
    '  },',
    '});',
    'void typed;',
    '',
  ].join('\n');

const esm = scratch();
const cjs = scratch({ esmPackage: false });
afterAll(() => {
  esm.remove();
  cjs.remove();
});

describe('the built CLI and TypeScript scenario files', () => {
  it('a user scenario (inside an ESM package or not) shares the CLI\'s modules; a shipped one loads from dist/', async () => {
    const [a, b, shipped] = await Promise.all([
      sim('run', esm.file('same.ts', source()), '--json'),
      sim('run', cjs.file('same.ts', source()), '--json'),
      sim('run', 'scenarios/ping.ts', '--seed', '1', '--until', '1s'),
    ]);
    for (const r of [a, b]) {
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toBe('');
      expect(JSON.parse(r.stdout).runs[0].scenario).toBe('same-modules');
    }
    expect(shipped.code, shipped.stderr).toBe(0);
    expect(shipped.stderr).toBe('');
  });
});
