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
  /** What goes before the value when the field is the first on the line: ` key=`, escaped. */
  first: string;
  /** What goes before the value after another field: `,key=`, escaped. */
  next: string;
  type: FieldType;
  /** `database.measurement.field`, as the package names it in its error messages. */
  ref: string;
}

interface Measurement {
  /** Sorted by name: the package writes fields in that order. */
  fields: Field[];
  byName: Map<string, Field>;
  /** Tag name → what goes before its value on the line: `,key=`, escaped. */
  tags: Map<string, string>;
  /** `database.measurement`, as the package names it in its error messages. */
  ref: string;
}

/** Our lines are under 200 bytes: most batches never grow their buffer. */
const BYTES_PER_POINT = 256;
/** UTF-8 bytes per UTF-16 code unit, at most. */
const MAX_BYTES_PER_UNIT = 3;
/**
 * Lines are gathered into a string of about this many characters before they are encoded: one
 * encoding call per line cost more than building the line, and one string for the whole batch
 * would keep all its pieces alive until the end, for the GC to copy.
 */
const CHUNK_CHARS = 16 * 1024;

/** `database` only names the schema in error messages, as the package does. */
export function createLineSerializer(
  schemas: readonly Readonly<ISchemaOptions>[],
  database: string,
): LineSerializer {
  const measurements = new Map<string, Measurement>();
  for (const schema of schemas) {
    const fields = Object.keys(schema.fields)
      .sort()
      .map((name) => {
        const key = escapeTag(name);
        const type = schema.fields[name] as FieldType;
        const ref = `${database}.${schema.measurement}.${name}`;
        return { name, first: ` ${key}=`, next: `,${key}=`, type, ref };
      });
    measurements.set(schema.measurement, {
      fields,
      byName: new Map(fields.map((f) => [f.name, f])),
      tags: new Map(schema.tags.map((name) => [name, `,${escapeTag(name)}=`])),
      ref: `${database}.${schema.measurement}`,
    });
  }

  return (points) => {
    let out = Buffer.allocUnsafe(Math.max(1, points.length) * BYTES_PER_POINT);
    let size = 0;
    let chunk = '';
    const flush = () => {
      if (out.length - size < chunk.length * MAX_BYTES_PER_UNIT) {
        const bigger = Buffer.allocUnsafe(
          Math.max(out.length * 2, size + chunk.length * MAX_BYTES_PER_UNIT),
        );
        out.copy(bigger, 0, 0, size);
        out = bigger;
      }
      size += out.write(chunk, size);
      chunk = '';
    };
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
      if (size > 0 || chunk.length > 0) chunk += '\n';
      chunk += String(measurement) + tagPart + fieldPart;
      if (casted !== undefined) chunk += ' ' + String(casted);
      if (chunk.length >= CHUNK_CHARS) flush();
    }
    flush();
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
    out += (out === '' ? field.first : field.next) + coerce(schema, field, value);
  }
  if (consumed !== ownKeyCount(fields)) {
    const extraneous = Object.keys(fields).filter((name) => !schema.byName.has(name));
    throw new Error(
      'Extraneous fields detected for writing InfluxDB point in ' +
        `${schema.ref}: \`${extraneous.join('`, `')}\`.`,
    );
  }
  return out;
}

/** Object.keys(value).length, without building the array for every point. */
function ownKeyCount(value: object): number {
  let count = 0;
  for (const key in value) if (Object.prototype.hasOwnProperty.call(value, key)) count += 1;
  return count;
}

function coerce(schema: Measurement, field: Field, value: unknown): string {
  const ref = field.ref;
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
  // for-in gives Object.keys' order without building its array for every point.
  for (const name in tags) {
    if (!Object.prototype.hasOwnProperty.call(tags, name)) continue;
    const key = schema.tags.get(name);
    if (key === undefined) {
      const extraneous = Object.keys(tags).filter((tag) => !schema.tags.has(tag));
      throw new Error(
        'Extraneous tags detected for writing InfluxDB point in ' +
          `${schema.ref}: \`${extraneous.join('`, `')}\`.`,
      );
    }
    out += key + escapeTag(String(tags[name]));
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
const TAG_SPECIAL = /[,= ]/g;
const QUOTED_SPECIAL = /["\\]/g;

/** Tag keys, tag values and field keys (the package's `escape.tag`). */
function escapeTag(key: string): string {
  if (!hasTagSpecial(key)) return key;
  return key.replace(FIRST_BACKSLASH_QUOTE, "\\\\'").replace(TAG_SPECIAL, '\\$&');
}

/** Whether `value` has `,`, `=`, space or `\`: a loop beats a regex on tag-sized strings. */
function hasTagSpecial(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0x2c || c === 0x3d || c === 0x20 || c === 0x5c) return true;
  }
  return false;
}

/** A string field value (the package's `escape.quoted`): `"` and `\` escaped, in double quotes. */
function quoteString(value: string): string {
  // Two searches for a character beat a regular expression on the short strings nmap gives.
  if (value.indexOf('"') === -1 && value.indexOf('\\') === -1) return '"' + value + '"';
  return '"' + value.replace(FIRST_BACKSLASH_QUOTE, "\\\\'").replace(QUOTED_SPECIAL, '\\$&') + '"';
}
