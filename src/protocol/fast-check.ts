import type { z } from 'zod';

/** Whether a value, fresh from JSON.parse, passes a schema; never throws, never copies. */
export type Check = (value: unknown) => boolean;

interface Def {
  type: string;
  checks?: { _zod: { def: CheckDef } }[];
  coerce?: boolean;
  shape?: Record<string, Schema>;
  catchall?: Schema;
  element?: Schema;
  innerType?: Schema;
  options?: Schema[];
  values?: unknown[];
  entries?: Record<string, unknown>;
}
interface CheckDef {
  check: string;
  format?: string;
  pattern?: RegExp;
  value?: number;
  inclusive?: boolean;
  minimum?: number;
  maximum?: number;
}
interface Schema {
  _zod: { def: Def };
}

/**
 * The yes/no part of a zod schema, as plain closures. zod builds a new object for every object
 * it parses and walks every check through its generic machinery: for the master, which checks
 * two DATA parts per job, about 6 % of its time. The codec asks this first and zod only on a
 * "no", so every refusal and its reason still come from zod, and an accepted message is the very
 * value JSON.parse made (its keys in the sender's order, where zod's copy has the schema's).
 *
 * Only what the protocol's schemas use is understood: strict objects, strings with lengths and
 * patterns, finite numbers with safe-integer and inclusive or exclusive bounds, arrays with
 * lengths, literals, enums, nullable, optional and unions. Anything else throws when the codec is
 * loaded, so a new kind of check cannot slip through unchecked here. A non-strict object would
 * make zod strip unknown keys, which a yes/no answer cannot do, so it is refused too. A check's
 * `when` is ignored: it can only make zod skip the check, so running it anyway is never more
 * lenient than zod (zod's own `when` on lengths skips only values that have no length).
 */
export function compileCheck(schema: z.ZodType): Check {
  return compile(schema as unknown as Schema, '(root)');
}

function compile(schema: Schema, at: string): Check {
  const def = schema._zod.def;
  if (def.coerce) unsupported(at, 'coercion');
  const checks = def.checks ?? [];
  switch (def.type) {
    case 'string':
      return all(
        isString,
        checks.map((c) => stringCheck(c._zod.def, at)),
      );
    case 'number':
      return all(
        isFiniteNumber,
        checks.map((c) => numberCheck(c._zod.def, at)),
      );
    case 'array': {
      const element = compile(def.element!, `${at}[]`);
      const length = checks.map((c) => lengthCheck(c._zod.def, at));
      const sized = all(Array.isArray, length);
      return (v) => sized(v) && (v as unknown[]).every(element);
    }
    case 'object':
      noChecks(checks, at);
      return objectCheck(def, at);
    case 'literal': {
      noChecks(checks, at);
      const values = def.values!;
      return (v) => values.includes(v);
    }
    case 'enum': {
      noChecks(checks, at);
      const values = new Set(Object.values(def.entries!));
      return (v) => values.has(v);
    }
    case 'nullable': {
      noChecks(checks, at);
      const inner = compile(def.innerType!, at);
      return (v) => v === null || inner(v);
    }
    case 'optional': {
      noChecks(checks, at);
      const inner = compile(def.innerType!, at);
      return (v) => v === undefined || inner(v);
    }
    case 'union': {
      noChecks(checks, at);
      const options = def.options!.map((o, i) => compile(o, `${at}|${i}`));
      return (v) => options.some((ok) => ok(v));
    }
    default:
      return unsupported(at, `type ${def.type}`);
  }
}

function objectCheck(def: Def, at: string): Check {
  if (def.catchall?._zod.def.type !== 'never') unsupported(at, 'a non-strict object');
  const fields = Object.entries(def.shape!).map(
    ([key, schema]) => [key, compile(schema, `${at}.${key}`)] as const,
  );
  const known = new Set(fields.map(([key]) => key));
  return (v) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
    const o = v as Record<string, unknown>;
    // for...in, as zod's strict check: own keys and inherited enumerable ones alike.
    for (const key in o) if (!known.has(key)) return false;
    for (const [key, ok] of fields) if (!ok(o[key])) return false;
    return true;
  };
}

function stringCheck(c: CheckDef, at: string): Check {
  if (c.check === 'string_format' && c.format === 'regex' && c.pattern) {
    const pattern = c.pattern;
    return (v) => {
      pattern.lastIndex = 0;
      return pattern.test(v as string);
    };
  }
  return lengthCheck(c, at);
}

function lengthCheck(c: CheckDef, at: string): Check {
  if (c.check === 'min_length') {
    const min = c.minimum!;
    return (v) => (v as { length: number }).length >= min;
  }
  if (c.check === 'max_length') {
    const max = c.maximum!;
    return (v) => (v as { length: number }).length <= max;
  }
  return unsupported(at, `check ${c.check}${c.format ? ` (${c.format})` : ''}`);
}

function numberCheck(c: CheckDef, at: string): Check {
  if (c.check === 'number_format' && c.format === 'safeint') {
    return (v) => Number.isSafeInteger(v);
  }
  const bound = c.value!;
  if (c.check === 'greater_than') {
    return c.inclusive ? (v) => (v as number) >= bound : (v) => (v as number) > bound;
  }
  if (c.check === 'less_than') {
    return c.inclusive ? (v) => (v as number) <= bound : (v) => (v as number) < bound;
  }
  return unsupported(at, `check ${c.check}${c.format ? ` (${c.format})` : ''}`);
}

function all(type: Check, checks: Check[]): Check {
  return (v) => {
    if (!type(v)) return false;
    for (const ok of checks) if (!ok(v)) return false;
    return true;
  };
}

const isString: Check = (v) => typeof v === 'string';
const isFiniteNumber: Check = (v) => typeof v === 'number' && Number.isFinite(v);

function noChecks(checks: unknown[], at: string): void {
  if (checks.length > 0) unsupported(at, 'checks on this type');
}

function unsupported(at: string, what: string): never {
  throw new Error(`fast-check: ${what} at ${at} is not supported; extend fast-check.ts`);
}
