import { InfluxDB, type IPoint, type IPoolOptions, type ISingleHostConfig } from 'influx';
import { Pool, RequestError, ServiceNotAvailableError } from 'influx/lib/src/pool.js';
import { ScanmeshError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { createLineSerializer, type LineSerializer } from './line-protocol.ts';
import { schemas } from './points.ts';

/**
 * The only place where bytes leave scanmesh for InfluxDB (1.x HTTP API; 2.x/3.x through their v1
 * compatibility endpoints). No retries in here: the caller keeps results in its durable outbox and
 * decides when to try again; this module only says whether trying again can help (`retryable`).
 */

export interface InfluxWriterOptions {
  /** `http(s)://[user:pass@]host[:port][/base-path]`; port defaults to 8086 (443 for https). */
  url: string;
  database: string;
  username?: string;
  password?: string;
  /**
   * InfluxDB 2.x/3.x API token, sent as `Authorization: Token …` on every request. Not with
   * username/password. With a token the database is not created here (see `ensureDatabase`).
   */
  token?: string;
  logger: Logger;
  /** Points per HTTP request. */
  batchSize?: number;
  /** Per-request timeout, in milliseconds. */
  timeoutMs?: number;
}

export interface InfluxWriter {
  /**
   * Create the database unless SHOW DATABASES already lists it. With a token, nothing: 2.x and 3.x
   * refuse InfluxQL database management, and their databases are made by other means.
   */
  ensureDatabase(): Promise<void>;
  /** Write with nanosecond precision, `batchSize` points per request, in order. */
  write(points: readonly IPoint[]): Promise<void>;
  /** True when the server answers `/ping` with 2xx. Never throws. */
  ping(): Promise<boolean>;
  /** Run InfluxQL against the database; rows as the influx package parses them (`time` is an INanoDate). */
  query<T = Record<string, unknown>>(influxql: string): Promise<T[]>;
}

const DEFAULTS = {
  batchSize: 5_000,
  timeoutMs: 30_000,
};

/**
 * HTTP statuses that mean "these points will never be accepted as sent": a parse error, a field
 * type conflict or a partial write (1.x: 400; 2.x: 422) and a body too large (413). Retrying them
 * would block the outbox forever. Every other failure (network, timeout, 5xx, 401/403 until an
 * operator fixes credentials, 404 until the database exists) can succeed later.
 */
const REJECTED_STATUSES = new Set([400, 413, 422]);

export class InfluxError extends ScanmeshError {
  /** Whether the same request can succeed later. False: the data or the query itself is refused. */
  readonly retryable: boolean;
  /** The HTTP status when the server answered 3xx/4xx, else null. */
  readonly status: number | null;

  constructor(message: string, cause: unknown) {
    super('SCANMESH_INFLUX_FAILED', message, { cause });
    this.name = 'InfluxError';
    this.status = cause instanceof RequestError ? (cause.res.statusCode ?? null) : null;
    this.retryable = isRetryableCause(cause, this.status);
  }
}

export function isRetryableInfluxError(err: unknown): boolean {
  return err instanceof InfluxError && err.retryable;
}

function isRetryableCause(cause: unknown, status: number | null): boolean {
  if (status !== null) return !REJECTED_STATUSES.has(status);
  // 5xx, request timeouts and "no host available" (the pool's own error type).
  if (cause instanceof ServiceNotAvailableError) return true;
  // Node system errors: ECONNREFUSED, ECONNRESET, ETIMEDOUT, ENOTFOUND, EPIPE, …
  if (cause instanceof Error && typeof (cause as NodeJS.ErrnoException).code === 'string') {
    return true;
  }
  // Schema coercion, InfluxQL errors, unparsable answers: the same input fails the same way.
  return false;
}

/**
 * The influx package fills a missing username with `root` and then sends `root:root` as Basic
 * auth on every request, which would also replace a token header. null switches that off.
 */
const NO_BASIC_AUTH = null as unknown as string;

/** The package's pool retries and takes a failing host out of rotation; the caller owns retries. */
const NEVER_BACK_OFF: NonNullable<IPoolOptions['backoff']> = {
  getDelay: () => 0,
  next: () => NEVER_BACK_OFF,
  reset: () => NEVER_BACK_OFF,
};

export function createInfluxWriter(options: InfluxWriterOptions): InfluxWriter {
  const batchSize = options.batchSize ?? DEFAULTS.batchSize;
  const timeoutMs = options.timeoutMs ?? DEFAULTS.timeoutMs;
  requirePositiveInteger('batchSize', batchSize);
  requirePositiveInteger('timeoutMs', timeoutMs);
  if (options.database === '') {
    throw new ScanmeshError('SCANMESH_BAD_CONFIG', 'influx database: expected a non-empty name');
  }
  const database = options.database;
  const logger = options.logger.child({ component: 'influx', database });
  const config = clientConfig(options, timeoutMs);
  const influx = new InfluxDB(config);
  const serialize = createLineSerializer(schemas, database);
  const post = writeRequest(config);

  const fail = (what: string, err: unknown): InfluxError => {
    const error = new InfluxError(`${what}: ${describe(err)}`, err);
    const record = { code: error.code, status: error.status, retryable: error.retryable };
    // Refused credentials stay retryable (the results wait in the outbox instead of going to
    // dead/), but only a person can fix them: say so at error level.
    if (error.status === 401 || error.status === 403) {
      logger.error(record, `${error.message} (InfluxDB refused the credentials; fix them)`);
    } else if (error.retryable) logger.warn(record, error.message);
    else logger.error(record, `${error.message} (will not succeed if retried as is)`);
    return error;
  };

  return {
    async ensureDatabase() {
      // 2.x maps `db` to a bucket through a DBRP mapping (the bucket's virtual mapping, or one made
      // with `influx v1 dbrp create`) and refuses CREATE DATABASE on its v1 /query; 3.x creates a
      // database on its first write. A missing mapping shows up as a retryable 404 on /write.
      if (options.token !== undefined) return;
      try {
        const names = await influx.getDatabaseNames();
        if (!names.includes(database)) await influx.createDatabase(database);
      } catch (err) {
        throw fail(`could not ensure database ${database}`, err);
      }
    },

    async write(points) {
      const batches: IPoint[][] = [];
      for (let start = 0; start < points.length; start += batchSize) {
        batches.push(points.slice(start, start + batchSize));
      }
      const what = (i: number) =>
        `writing points ${i * batchSize}-${i * batchSize + (batches[i]?.length ?? 0) - 1} of ` +
        `${points.length} failed`;
      let body = batches[0] ? buildBody(serialize, batches[0]) : null;
      for (let i = 0; body !== null; i++) {
        // A point that does not fit the schema: this batch and the ones after it are not sent.
        if ('error' in body) throw fail(`${what(i)} before sending`, body.error);
        const sending = post(body.bytes);
        const next = batches[i + 1];
        body = null;
        if (next) {
          // The next body is built while this one is on the wire, so that InfluxDB does not wait
          // for it between two requests. The request goes out once this turn of the event loop
          // ends; until it is awaited below, a failure must not count as unhandled.
          sending.catch(() => undefined);
          await new Promise(setImmediate);
          body = buildBody(serialize, next);
        }
        // Earlier batches are written; a retry rewrites them with the same timestamps, which
        // InfluxDB treats as an overwrite, so the caller can always retry the whole call.
        try {
          await sending;
        } catch (err) {
          throw fail(what(i), err);
        }
      }
    },

    async ping() {
      try {
        const hosts = await influx.ping(Math.min(timeoutMs, 5_000));
        return hosts.length > 0 && hosts.every((h) => h.online);
      } catch {
        return false;
      }
    },

    async query<T>(influxql: string) {
      try {
        return (await influx.query<T>(influxql)) as T[];
      } catch (err) {
        throw fail(`query failed`, err);
      }
    },
  };
}

type Body = { bytes: Buffer } | { error: unknown };

/** A batch's body, or why it cannot be built. */
function buildBody(serialize: LineSerializer, batch: readonly IPoint[]): Body {
  try {
    return { bytes: serialize(batch) };
  } catch (error) {
    return { error };
  }
}

/**
 * Sends one line-protocol body as `InfluxDB.writePoints` does (the package's Pool, same host, path,
 * query, headers and auth), minus the body building, which line-protocol.ts does faster. Its own
 * Pool instance: with the writer's pool options no pool ever takes a host out of rotation, so
 * there is no state worth sharing with the client's.
 */
function writeRequest(config: ISingleHostConfig): (body: Buffer) => Promise<void> {
  const pool = new Pool(config.pool ?? {});
  pool.addHost(`${config.protocol}://${config.host}:${config.port}${config.path}`, config.options);
  const auth =
    typeof config.username === 'string' ? `${config.username}:${config.password ?? ''}` : undefined;
  const query = { db: config.database, precision: 'n', rp: undefined };
  // The pool's type says string, but it only measures the body with Buffer.from() and hands it
  // to http's req.write(), which both take bytes as they are.
  return (body) =>
    pool.discard({ body: body as unknown as string, method: 'POST', path: '/write', query, auth });
}

/** The InfluxDB client configuration, validated: a bad URL fails here, not at the first write. */
function clientConfig(options: InfluxWriterOptions, timeoutMs: number): ISingleHostConfig {
  let url: URL;
  try {
    url = new URL(options.url);
  } catch {
    throw badConfig('url', `expected http(s)://host[:port], got ${JSON.stringify(options.url)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw badConfig('url', `expected an http or https URL, got ${url.protocol}`);
  }
  const username = options.username ?? (decodeURIComponent(url.username) || undefined);
  const password = options.password ?? decodeURIComponent(url.password);
  if (options.token === '') throw badConfig('token', 'expected a non-empty API token');
  if (options.token !== undefined && username !== undefined) {
    throw badConfig('token', 'give either a token or username/password, not both');
  }
  const https = url.protocol === 'https:';
  return {
    protocol: https ? 'https' : 'http',
    // Keeps IPv6 brackets: the package rebuilds a URL string from host and port.
    host: url.hostname,
    port: url.port === '' ? (https ? 443 : 8086) : Number(url.port),
    // A base path, for InfluxDB behind a reverse proxy; the database is its own option.
    path: url.pathname === '/' ? '' : url.pathname.replace(/\/$/, ''),
    database: options.database,
    username: username ?? NO_BASIC_AUTH,
    password,
    // Request headers from host options go out on every request, /ping included. `Token` is the
    // one scheme both accept on the v1 /write and /query endpoints with an API token:
    // - 2.x: https://docs.influxdata.com/influxdb/v2/api-guide/influxdb-1x/ ("Authenticate with
    //   the Token scheme"; Basic and u/p take a v1 authorization's password, which on OSS is the
    //   token only when that authorization has no password of its own);
    // - 3.x: https://docs.influxdata.com/influxdb3/core/write-data/http-api/compatibility-apis/
    //   ("Bearer and Token are equivalent"; the username is ignored).
    // A header also keeps the token out of URLs, which proxies and access logs record.
    ...(options.token !== undefined && {
      options: { headers: { Authorization: `Token ${options.token}` } },
    }),
    pool: { maxRetries: 0, backoff: NEVER_BACK_OFF, requestTimeout: timeoutMs },
    // Copies: the package writes the database into each schema object it is given.
    schema: schemas.map((s) => ({
      measurement: s.measurement,
      database: options.database,
      tags: [...s.tags],
      fields: { ...s.fields },
    })),
  };
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message || err.constructor.name : String(err);
}

function badConfig(option: string, expected: string): ScanmeshError {
  return new ScanmeshError('SCANMESH_BAD_CONFIG', `influx ${option}: ${expected}`);
}

function requirePositiveInteger(option: string, value: number): void {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw badConfig(option, `expected a positive integer, got ${value}`);
  }
}
