import { UsageError } from './errors.ts';

export type ParamValue = number | string | boolean;

/** One parameter: a name with its unit, a default and where the default comes from. */
export interface ParamSpec {
  readonly default: ParamValue;
  /** 'ms', 'bytes', 'µs/record', 'count', … ; '' for dimensionless. */
  readonly unit: string;
  readonly description: string;
  /** One line: where the default comes from (a Kafka config, a KIP, a measurement). */
  readonly source?: string;
  /** For string parameters: the allowed values. With `list`, a comma-separated subset. */
  readonly choices?: readonly string[];
  readonly list?: boolean;
  /** Lower bound for numbers. */
  readonly min?: number;
  readonly integer?: boolean;
}

export type ParamSpecs = Readonly<Record<string, ParamSpec>>;
export type Params = Readonly<Record<string, ParamValue>>;

export function defaults(specs: ParamSpecs): Record<string, ParamValue> {
  const out: Record<string, ParamValue> = {};
  for (const [k, s] of Object.entries(specs)) out[k] = s.default;
  return out;
}

/** Durations: µs per unit. */
const US_PER_UNIT: Readonly<Record<string, number>> = { µs: 1, ms: 1000, s: 1_000_000 };

/** Parses one `key=value` against the specs; throws a UsageError naming what is wrong. */
/** Every `--set key=value` of a command line, validated against the scenario's parameters. */
export function parseSettings(texts: readonly string[], specs: ParamSpecs): Record<string, ParamValue> {
  const out: Record<string, ParamValue> = {};
  for (const t of texts) {
    const [k, v] = parseSetting(t, specs);
    out[k] = v;
  }
  return out;
}

export function parseSetting(text: string, specs: ParamSpecs): [string, ParamValue] {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new UsageError(`--set expects key=value, got '${text}'`);
  const key = text.slice(0, eq).trim();
  const raw = text.slice(eq + 1).trim();
  const spec = specs[key];
  if (spec === undefined) throw new UsageError(`--set: unknown parameter '${key}' (see 'sim params <scenario>')`);
  return [key, parseValue(key, raw, spec)];
}

export function parseValue(key: string, raw: string, spec: ParamSpec): ParamValue {
  switch (typeof spec.default) {
    case 'number': {
      const n = raw.replace(/_/g, '') === '' ? NaN : Number(raw.replace(/_/g, ''));
      if (!Number.isFinite(n)) throw new UsageError(`--set ${key}: expected a number${spec.unit ? ` (${spec.unit})` : ''}, got '${raw}'`);
      if (spec.integer === true && !Number.isInteger(n)) throw new UsageError(`--set ${key}: expected a whole number, got '${raw}'`);
      if (spec.min !== undefined && n < spec.min) throw new UsageError(`--set ${key}: must be at least ${spec.min}, got ${n}`);
      // Virtual time is an integer number of µs below 2^53: a duration past it cannot be scheduled.
      const perUs = US_PER_UNIT[spec.unit];
      if (perUs !== undefined && Math.abs(n) * perUs > Number.MAX_SAFE_INTEGER) {
        throw new UsageError(`--set ${key}: at most ${Math.floor(Number.MAX_SAFE_INTEGER / perUs)} ${spec.unit} (2^53 µs, the limit of the simulated clock), got ${raw}`);
      }
      return n;
    }
    case 'boolean':
      if (raw === 'true' || raw === '1') return true;
      if (raw === 'false' || raw === '0') return false;
      throw new UsageError(`--set ${key}: expected true or false, got '${raw}'`);
    case 'string': {
      if (spec.choices !== undefined) {
        const items = spec.list === true ? raw.split(',').map((s) => s.trim()).filter((s) => s !== '') : [raw];
        for (const item of items) {
          if (!spec.choices.includes(item)) throw new UsageError(`--set ${key}: '${item}' is not one of ${spec.choices.join(', ')}`);
        }
        return items.join(',');
      }
      return raw;
    }
    default:
      throw new UsageError(`--set ${key}: unsupported parameter type`);
  }
}

/** The list-valued parameter as a set (e.g. bugs=KAFKA-6082,KAFKA-7235). */
export function listParam(params: Params, key: string): ReadonlySet<string> {
  const v = params[key];
  if (typeof v !== 'string' || v === '') return new Set();
  return new Set(v.split(','));
}

export function num(params: Params, key: string): number {
  const v = params[key];
  if (typeof v !== 'number') throw new Error(`parameter ${key} is not a number (${String(v)})`);
  return v;
}

export function bool(params: Params, key: string): boolean {
  const v = params[key];
  if (typeof v !== 'boolean') throw new Error(`parameter ${key} is not a boolean (${String(v)})`);
  return v;
}

export function str(params: Params, key: string): string {
  const v = params[key];
  if (typeof v !== 'string') throw new Error(`parameter ${key} is not a string (${String(v)})`);
  return v;
}
