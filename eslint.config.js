// Determinism rules for simulated code (core/, sim/, scenarios/, reports/): a run must depend on its
// seed and nothing else, so wall time, unseeded randomness, the host's timers and threads, locale-
// dependent text and iteration orders the engine does not fix are banned. The run-time guard
// (core/guard.ts) backs this up for what lint cannot see. Driver code — the CLI that reports wall
// time and progress, and reports that format numbers for display — gets only the exceptions it needs.
import tseslint from 'typescript-eslint';

const WALL_TIME_GLOBALS = [
  { name: 'Date', message: 'Wall time breaks replay: use the node clock (node.monoNowUs / wallNowUs) or sim.nowUs.' },
  { name: 'performance', message: 'Wall time breaks replay: use sim.nowUs.' },
];
const LOCALE_GLOBALS = [{ name: 'Intl', message: 'Locale-dependent output differs between hosts.' }];
const OTHER_GLOBALS = [
  ...['setTimeout', 'setInterval', 'setImmediate', 'queueMicrotask'].map((name) => ({
    name,
    message: 'Host timers run outside virtual time: use node.setTimer or sim.at.',
  })),
  { name: 'crypto', message: 'Unseeded randomness: use node.rng or sim.rng.fork(label).' },
  { name: 'WeakRef', message: 'Garbage collection timing is not deterministic.' },
  { name: 'FinalizationRegistry', message: 'Garbage collection timing is not deterministic.' },
];

const WALL_TIME_PROPERTIES = [
  { object: 'Date', property: 'now', message: 'Wall time breaks replay: use sim.nowUs.' },
  { object: 'performance', property: 'now', message: 'Wall time breaks replay: use sim.nowUs.' },
];
const LOCALE_PROPERTIES = [
  { property: 'toLocaleString', message: 'Locale-dependent output differs between hosts.' },
  { property: 'localeCompare', message: 'Locale-dependent order differs between hosts: compare with < or >.' },
];
const OTHER_PROPERTIES = [
  { object: 'Math', property: 'random', message: 'Unseeded randomness: use node.rng or sim.rng.fork(label).' },
  { object: 'process', property: 'hrtime', message: 'Wall time breaks replay: use sim.nowUs.' },
  { object: 'process', property: 'env', message: 'The environment is not part of a run: make it a scenario parameter.' },
  { object: 'Promise', property: 'race', message: 'Settlement order is host-dependent.' },
  { object: 'Promise', property: 'any', message: 'Settlement order is host-dependent.' },
  ...['Date', 'performance', 'setTimeout', 'setInterval', 'setImmediate', 'queueMicrotask', 'crypto'].map((property) => ({
    object: 'globalThis',
    property,
    message: 'Banned in simulated code (wall time, host timers or unseeded randomness).',
  })),
];

const banned = (names, message) => names.map((name) => ({ name, message }));
const IMPORTS_EXCEPT_SEEDRANDOM = [
  ...banned(['crypto', 'node:crypto'], 'Unseeded randomness: use node.rng or sim.rng.fork(label).'),
  ...banned(['timers', 'node:timers', 'timers/promises', 'node:timers/promises'], 'Host timers run outside virtual time: use node.setTimer.'),
  ...banned(['worker_threads', 'node:worker_threads'], 'Threads make event order host-dependent.'),
  ...banned(['perf_hooks', 'node:perf_hooks'], 'Wall time breaks replay: use sim.nowUs.'),
];
const SEEDRANDOM = banned(['seedrandom'], 'Only core/rng.ts draws from seedrandom: use node.rng or sim.rng.fork(label).');

const FOR_IN = {
  selector: 'ForInStatement',
  message: 'for..in walks inherited keys in an engine-defined order: iterate a Map, Object.keys or an array.',
};

/** The rule set with some groups left out, for the files that are allowed them. */
function determinism({ wallTime = true, locale = true, seedrandom = true, randomAndTime = true } = {}) {
  return {
    'no-restricted-globals': [
      'error',
      ...(wallTime ? WALL_TIME_GLOBALS : []),
      ...(locale ? LOCALE_GLOBALS : []),
      ...(randomAndTime ? OTHER_GLOBALS : []),
    ],
    'no-restricted-properties': [
      'error',
      ...(wallTime ? WALL_TIME_PROPERTIES : []),
      ...(locale ? LOCALE_PROPERTIES : []),
      ...(randomAndTime ? OTHER_PROPERTIES : []),
    ],
    'no-restricted-imports': ['error', { paths: [...IMPORTS_EXCEPT_SEEDRANDOM, ...(seedrandom ? SEEDRANDOM : [])] }],
    'no-restricted-syntax': ['error', FOR_IN],
  };
}

export default [
  { ignores: ['node_modules/**', 'dist/**', 'out/**', 'traces/**', 'reports/out/**'] },
  {
    files: ['core/**/*.ts', 'sim/**/*.ts', 'scenarios/**/*.ts', 'reports/**/*.ts'],
    languageOptions: {
      parser: tseslint.parser,
      ecmaVersion: 2023,
      sourceType: 'module',
    },
    plugins: { '@typescript-eslint': tseslint.plugin },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: determinism(),
  },
  // The one module that owns the seeded generator.
  { files: ['core/rng.ts'], rules: determinism({ seedrandom: false }) },
  // The run-time guard traps exactly the things this config bans, so it has to name them.
  { files: ['core/guard.ts'], rules: determinism({ wallTime: false, randomAndTime: false }) },
  // Driver code around a run: wallMs and progress output read wall time; nothing else is allowed.
  { files: ['sim/cli.ts', 'sim/run.ts'], rules: determinism({ wallTime: false }) },
  // Reports format numbers for people (thousands separators).
  { files: ['reports/**/*.ts'], rules: determinism({ locale: false }) },
];
