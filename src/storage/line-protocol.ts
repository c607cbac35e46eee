import { FieldType, type IPoint, type ISchemaOptions } from 'influx';
import { castTimestamp } from 'influx/lib/src/grammar/times.js';

/**
 * Points → InfluxDB line protocol (pure), byte for byte what the influx package's `writePoints`
 * sends with a schema and precision `n` (influx 5.12, lib/src/index.js `writePoints`,
 * lib/src/schema.js, lib/src/grammar/escape.js), including its quirks, so that series keys and
 * stored strings stay what they were before this module existed. line-protocol.test.ts holds the
 * two outputs side by side. The package builds each point through several intermediate objects
 * and regex passes, and the body as one string of thousands of pieces; that was most of the
 * writer's own cost, paid while InfluxDB waits for the body.
 */

/**
 * One batch's request body, UTF-8 encoded as the package's request would encode it. Throws, as the
 * package does, when a point does not fit its schema.
 */
export type LineSerializer = (points: readonly IPoint[]) => Buffer;

interface Field {
  name: string;
  /** The key as it goes on the line, escaped. */
  key: string;
  type: FieldType;
}

interface Measurement {
  /** Sorted by name: the package writes fields in that order. */
  fields: Field[];
  byName: Map<string, Field>;
  /** Tag name → the key as it goes on the line, escaped. */
  tags: Map<string, string>;
  /** `database.measurement`, as the package names it in its error messages. */
  ref: string;
}

/** Our lines are under 200 bytes: most batches never grow their buffer. */
const BYTES_PER_POINT = 256;
/** UTF-8 bytes per UTF-16 code unit, at most. */
const MAX_BYTES_PER_UNIT = 3;

/** `database` only names the schema in error messages, as the package does. */
export function createLineSerializer(
  schemas: readonly Readonly<ISchemaOptions>[],
  database: string,
): LineSerializer {
  const measurements = new Map<string, Measurement>();
  for (const schema of schemas) {
    const fields = Object.keys(schema.fields)
      .sort()
      .map((name) => ({ name, key: escapeTag(name), type: schema.fields[name] as FieldType }));
    measurements.set(schema.measurement, {
      fields,
      byName: new Map(fields.map((f) => [f.name, f])),
      tags: new Map(schema.tags.map((name) => [name, escapeTag(name)])),
      ref: `${database}.${schema.measurement}`,
    });
  }

  return (points) => {
    // Each line is encoded as soon as it is built: one long string built piece by piece would
    // keep every piece alive until the end of the batch, and the GC would copy them all.
    let out = Buffer.allocUnsafe(Math.max(1, points.length) * BYTES_PER_POINT);
    let size = 0;
    // Every point of an attempt has the same timestamp: check it once.
    let checkedTimestamp: string | undefined;
    for (const point of points) {
      const { fields = {}, tags = {}, measurement, timestamp } = point;
      const schema = measurement === undefined ? undefined : measurements.get(measurement);
      const fieldPart = schema ? schemaFields(schema, fields) : looseFields(fields);
      const tagPart = schema ? schemaTags(schema, tags) : looseTags(tags);
      // The package tests truthiness: a timestamp of 0 or '' is written as is, not cast.
      let casted = timestamp;
      if (timestamp && timestamp !== checkedTimestamp) {
        casted = castTimestamp(timestamp, 'n');
        if (typeof timestamp === 'string') checkedTimestamp = timestamp;
      }
      // The package separates lines by the payload's length so far, which an empty first
      // measurement leaves at zero.
      let line = (size > 0 ? '\n' : '') + String(measurement) + tagPart + fieldPart;
      if (casted !== undefined) line += ' ' + String(casted);
      if (out.length - size < line.length * MAX_BYTES_PER_UNIT) {
        const bigger = Buffer.allocUnsafe(
          Math.max(out.length * 2, size + line.length * MAX_BYTES_PER_UNIT),
        );
        out.copy(bigger, 0, 0, size);
        out = bigger;
      }
      size += out.write(line, size);
    }
    return out.subarray(0, size);
  };
}

/** ` key=value,key=value` in schema order; absent, null and undefined fields are left out. */
function schemaFields(schema: Measurement, fields: Readonly<Record<string, unknown>>): string {
  let out = '';
  let consumed = 0;
  for (const field of schema.fields) {
    if (!Object.prototype.hasOwnProperty.call(fields, field.name)) continue;
    consumed += 1;
    const value = fields[field.name];
    if (value === null || value === undefined) continue;
    out += (out === '' ? ' ' : ',') + field.key + '=' + coerce(schema, field, value);
  }
  const names = Object.keys(fields);
  if (consumed !== names.length) {
    const extraneous = names.filter((name) => !schema.byName.has(name));
    throw new Error(
      'Extraneous fields detected for writing InfluxDB point in ' +
        `${schema.ref}: \`${extraneous.join('`, `')}\`.`,
    );
  }
  return out;
}

function coerce(schema: Measurement, field: Field, value: unknown): string {
  const ref = `${schema.ref}.${field.name}`;
  switch (field.type) {
    case FieldType.STRING:
      return quoteString(String(value));
    case FieldType.INTEGER:
      requireNumeric(ref, value);
      return String(Math.floor(value as number)) + 'i';
    case FieldType.FLOAT:
      requireNumeric(ref, value);
      return String(value);
    case FieldType.BOOLEAN:
      if (typeof value !== 'boolean') {
        throw new Error(`Expected boolean value for ${ref}, but got a ${typeof value}!`);
      }
      return value ? 'T' : 'F';
    default:
      throw new Error(
        `Unknown field type ${String(field.type)} for ${field.name} in ${schema.ref}. ` +
          'Please ensure that your configuration is correct.',
      );
  }
}

function requireNumeric(ref: string, value: unknown): void {
  if (typeof value !== 'number' && Number.isNaN(Number(String(value)))) {
    throw new Error(`Expected numeric value for ${ref}, but got '${String(value)}'!`);
  }
}

/** A measurement without a schema: fields by name, strings quoted, everything else as String(). */
function looseFields(fields: Readonly<Record<string, unknown>>): string {
  let out = '';
  for (const name of Object.keys(fields).sort()) {
    const value = fields[name];
    const coerced = typeof value === 'string' ? quoteString(value) : String(value);
    out += (out === '' ? ' ' : ',') + escapeTag(name) + '=' + coerced;
  }
  return out;
}

/** `,key=value` per tag, in the point's order; a tag the schema does not name is refused. */
function schemaTags(schema: Measurement, tags: Readonly<Record<string, string>>): string {
  let out = '';
  for (const name of Object.keys(tags)) {
    const key = schema.tags.get(name);
    if (key === undefined) {
      const extraneous = Object.keys(tags).filter((tag) => !schema.tags.has(tag));
      throw new Error(
        'Extraneous tags detected for writing InfluxDB point in ' +
          `${schema.ref}: \`${extraneous.join('`, `')}\`.`,
      );
    }
    out += ',' + key + '=' + escapeTag(String(tags[name]));
  }
  return out;
}

function looseTags(tags: Readonly<Record<string, string>>): string {
  let out = '';
  for (const name of Object.keys(tags)) {
    out += ',' + escapeTag(name) + '=' + escapeTag(String(tags[name]));
  }
  return out;
}

/**
 * The package's escapers first double the backslash of the first `\'` in a string (a leftover of
 * its InfluxQL string-literal escaping) and only then escape their special characters.
 */
const FIRST_BACKSLASH_QUOTE = /\\'/;
const HAS_TAG_SPECIAL = /[,= \\]/;
const TAG_SPECIAL = /[,= ]/g;
const HAS_QUOTED_SPECIAL = /["\\]/;
const QUOTED_SPECIAL = /["\\]/g;

/** Tag keys, tag values and field keys (the package's `escape.tag`). */
function escapeTag(key: string): string {
  if (!HAS_TAG_SPECIAL.test(key)) return key;
  return key.replace(FIRST_BACKSLASH_QUOTE, "\\\\'").replace(TAG_SPECIAL, '\\$&');
}

/** A string field value (the package's `escape.quoted`): `"` and `\` escaped, in double quotes. */
function quoteString(value: string): string {
  if (!HAS_QUOTED_SPECIAL.test(value)) return '"' + value + '"';
  return '"' + value.replace(FIRST_BACKSLASH_QUOTE, "\\\\'").replace(QUOTED_SPECIAL, '\\$&') + '"';
}
