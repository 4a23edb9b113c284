import type { FaultAction, FaultPlan } from '../core/index.ts';

/** Every fault action type the injector knows; the Record makes the compiler list a new one here. */
const ACTION_TYPES: Readonly<Record<FaultAction['type'], true>> = {
  partition: true,
  heal: true,
  crash: true,
  restart: true,
  pause: true,
  resume: true,
  'lose-unsynced': true,
  wipe: true,
  'link-fault': true,
  'clear-link-faults': true,
  clog: true,
  unclog: true,
  'clock-rate': true,
  'clock-jump': true,
  'clock-offset': true,
  'heal-all': true,
  op: true,
};

const MAX_MS = Number.MAX_SAFE_INTEGER / 1000;

/**
 * Checks the shape of a fault plan a scenario's build() returned, before it is installed: a step
 * that cannot run (unknown action type, a time that is negative, not a number or past 2^53 µs) is
 * the scenario's error, named here in one sentence, not a crash inside the run.
 */
export function planProblem(plan: unknown): string | null {
  if (typeof plan !== 'object' || plan === null) return `build() returned no fault plan (expected { plan: { steps: [...] } })`;
  const p = plan as Partial<FaultPlan>;
  if (!Array.isArray(p.steps)) return 'the fault plan has no steps array';
  const action = (where: string, a: unknown): string | null => {
    if (typeof a !== 'object' || a === null) return `${where} has no action`;
    const type = (a as { type?: unknown }).type;
    if (typeof type !== 'string' || !Object.hasOwn(ACTION_TYPES, type)) {
      return `${where}: unknown action type ${JSON.stringify(type)} (known: ${Object.keys(ACTION_TYPES).join(', ')})`;
    }
    return null;
  };
  const time = (where: string, field: string, v: unknown): string | null => {
    if (typeof v !== 'number' || !Number.isFinite(v)) return `${where}: ${field} must be a number of ms, got ${JSON.stringify(v)}`;
    if (v < 0) return `${where}: ${field} must not be negative, got ${v}`;
    if (v > MAX_MS) return `${where}: ${field} ${v} is past 2^53 µs`;
    return null;
  };
  for (let i = 0; i < p.steps.length; i++) {
    const s = p.steps[i] as { atMs?: unknown; action?: unknown } | undefined;
    const where = `fault plan step ${i}`;
    if (typeof s !== 'object' || s === null) return `${where} is not an object`;
    const bad = time(where, 'atMs', s.atMs) ?? action(where, s.action);
    if (bad !== null) return bad;
  }
  const triggers: unknown = p.triggers ?? [];
  if (!Array.isArray(triggers)) return 'the fault plan triggers are not an array';
  for (let i = 0; i < triggers.length; i++) {
    const t = triggers[i] as { when?: { kind?: unknown; fromMs?: unknown }; afterMs?: unknown; action?: unknown } | undefined;
    const where = `fault plan trigger ${i}`;
    if (typeof t !== 'object' || t === null || typeof t.when !== 'object' || t.when === null || typeof t.when.kind !== 'string') return `${where} needs when: { kind, ... }`;
    const bad = (t.afterMs !== undefined ? time(where, 'afterMs', t.afterMs) : null) ?? (t.when.fromMs !== undefined ? time(where, 'when.fromMs', t.when.fromMs) : null) ?? action(where, t.action);
    if (bad !== null) return bad;
  }
  return null;
}
