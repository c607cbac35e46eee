import type { z } from 'zod';
import { ScanmeshError } from '../errors.ts';
import { compileCheck } from './fast-check.ts';
import { cancel } from './messages/cancel.ts';
import { clBye } from './messages/cl-bye.ts';
import { clHello } from './messages/cl-hello.ts';
import { data } from './messages/data.ts';
import { dataAck } from './messages/data-ack.ts';
import { job } from './messages/job.ts';
import { sHello } from './messages/s-hello.ts';
import { status } from './messages/status.ts';

/** Largest payload either side accepts; the embedded broker refuses bigger packets outright. */
export const MAX_PAYLOAD_BYTES = 1024 * 1024;

const schemas = {
  S_HELLO: sHello,
  CL_HELLO: clHello,
  CL_BYE: clBye,
  JOB: job,
  CANCEL: cancel,
  DATA: data,
  DATA_ACK: dataAck,
  S_STATUS: status,
} as const;

/** The same schemas as yes/no checks: zod runs only to explain a refusal (fast-check.ts). */
const checks = Object.fromEntries(
  Object.entries(schemas).map(([kind, schema]) => [kind, compileCheck(schema)]),
) as Record<keyof typeof schemas, (value: unknown) => boolean>;

/**
 * Refusal reasons echo text the sender chose (a kind, an unknown key's name) and go to the log;
 * clipped, so a 1 MiB key name costs one short log line, not a 1 MiB one.
 */
const MAX_ECHO_CHARS = 200;
function clip(text: string): string {
  return text.length > MAX_ECHO_CHARS
    ? `${text.slice(0, MAX_ECHO_CHARS)}… (${text.length} chars)`
    : text;
}

/**
 * Names a refused kind without serialising it: a kind of 100,000 nested arrays would overflow
 * JSON.stringify's stack, and a RangeError is no ScanmeshError, so it would crash the receiver.
 */
function describeKind(kind: unknown): string {
  if (typeof kind === 'string') return clip(JSON.stringify(kind));
  if (kind === undefined) return '(missing)';
  return `of type ${kind === null ? 'null' : Array.isArray(kind) ? 'array' : typeof kind}`;
}

export type MessageKind = keyof typeof schemas;
export type MessageOf<K extends MessageKind> = z.infer<(typeof schemas)[K]>;

export function encode<K extends MessageKind>(message: MessageOf<K>): Buffer {
  return Buffer.from(JSON.stringify(message));
}

/**
 * Parse and validate a payload that must be one of `kinds`. Throws SCANMESH_BAD_MESSAGE with a
 * reason that names the offending field, so a log line says what to fix on the sending side.
 */
export function decode<K extends MessageKind>(
  payload: Buffer | string,
  kinds: readonly K[],
): MessageOf<K> {
  const size = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
  if (size > MAX_PAYLOAD_BYTES) {
    throw new ScanmeshError(
      'SCANMESH_BAD_MESSAGE',
      `payload of ${size} bytes exceeds ${MAX_PAYLOAD_BYTES}`,
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(payload.toString());
  } catch (err) {
    throw new ScanmeshError('SCANMESH_BAD_MESSAGE', 'payload is not JSON', { cause: err });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ScanmeshError('SCANMESH_BAD_MESSAGE', 'payload is not a JSON object');
  }
  const kind = (value as { kind?: unknown }).kind;
  if (typeof kind !== 'string' || !(kinds as readonly string[]).includes(kind)) {
    throw new ScanmeshError(
      'SCANMESH_BAD_MESSAGE',
      `kind ${describeKind(kind)} is not one of ${kinds.join(', ')}`,
    );
  }
  if (checks[kind as K](value)) return value as MessageOf<K>;
  const result = schemas[kind as K].safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue && issue.path.length > 0 ? issue.path.join('.') : '(root)';
    throw new ScanmeshError(
      'SCANMESH_BAD_MESSAGE',
      `${kind}: ${clip(`${where}: ${issue?.message ?? 'invalid'}`)}`,
    );
  }
  return result.data as MessageOf<K>;
}
