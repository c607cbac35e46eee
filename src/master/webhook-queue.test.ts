import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { systemClock } from '../clock.ts';
import { createLogger } from '../log.ts';
import { WebhookQueue, type WebhookQueueOptions } from './webhook-queue.ts';

/** What a receiver saw, one entry per request, in arrival order. */
interface Seen {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  delivery: string;
}

/** `answer` decides each request: a status (maybe later), or 'hang' to never answer. */
type Reply = number | { status: number; headers: object };
type Answer = (seen: Seen, index: number) => Reply | Promise<Reply> | 'hang';

interface Receiver {
  url: string;
  port: number;
  seen: Seen[];
  /** Deliveries answered 2xx. */
  delivered: Seen[];
  maxInFlight: number;
  answer: Answer;
  close(): Promise<void>;
}

const servers: Server[] = [];

async function receiver(answer: Answer = () => 200, port = 0): Promise<Receiver> {
  let inFlight = 0;
  const r: Receiver = {
    url: '',
    port: 0,
    seen: [],
    delivered: [],
    maxInFlight: 0,
    answer,
    close: () => closeServer(server),
  };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    inFlight++;
    r.maxInFlight = Math.max(r.maxInFlight, inFlight);
    req.on('close', () => inFlight--);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const seen: Seen = {
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        delivery: String(req.headers['x-scanmesh-delivery']),
      };
      r.seen.push(seen);
      const a = r.answer(seen, r.seen.length - 1);
      if (a === 'hang') return;
      // Answer on a later turn so that overlapping requests, were there any, would overlap.
      void Promise.resolve(a).then((reply) =>
        setImmediate(() => {
          const { status, headers } =
            typeof reply === 'number' ? { status: reply, headers: {} } : reply;
          if (status >= 200 && status < 300) r.delivered.push(seen);
          res.writeHead(status, { ...headers }).end();
        }),
      );
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  r.port = (server.address() as AddressInfo).port;
  r.url = `http://127.0.0.1:${r.port}/hook`;
  return r;
}

async function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/** Log records parsed from the queue's logger: codes and fields are the behaviour under test. */
function logSink() {
  const records: Array<Record<string, unknown>> = [];
  const logger = createLogger({
    level: 'debug',
    destination: { write: (line: string) => void records.push(JSON.parse(line)) },
  });
  return { logger, records };
}

const until = (check: () => void) => vi.waitFor(check, { timeout: 20_000, interval: 5 });

let stateDir: string;
let dir: string;
let log: ReturnType<typeof logSink>;
const queues: WebhookQueue[] = [];

function open(urls: string[], over: Partial<WebhookQueueOptions> = {}): Promise<WebhookQueue> {
  return WebhookQueue.open({
    dir,
    urls,
    clock: systemClock,
    logger: log.logger,
    retryMinMs: 5,
    retryMaxMs: 20,
    timeoutMs: 5_000,
    ...over,
  }).then((q) => {
    queues.push(q);
    return q;
  });
}

const withCode = (code: string) => log.records.filter((r) => r.code === code);

async function pendingFiles(): Promise<Array<{ id: string; urls: string[]; body: unknown }>> {
  const names = (await readdir(dir)).sort();
  return Promise.all(names.map(async (n) => JSON.parse(await readFile(join(dir, n), 'utf8'))));
}

beforeEach(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'scanmesh-webhooks-'));
  dir = join(stateDir, 'webhooks');
  log = logSink();
});

afterEach(async () => {
  await Promise.all(queues.splice(0).map((q) => q.stop()));
  await Promise.all(servers.splice(0).map((s) => (s.listening ? closeServer(s) : undefined)));
  await rm(stateDir, { recursive: true, force: true });
});

describe('WebhookQueue', () => {
  it('POSTs the JSON body once with its delivery id, then removes the file', async () => {
    const r = await receiver();
    const q = await open([r.url]);
    const body = { job: 'j1', attempt: 1, hosts: [{ host: '10.0.0.1', change: 'port opened' }] };
    await q.enqueue('j1~1', body);
    await q.drained();
    expect(r.seen).toHaveLength(1);
    const [seen] = r.seen;
    expect(JSON.parse(seen!.body)).toEqual(body);
    expect(seen!.path).toBe('/hook');
    expect(seen!.headers['content-type']).toBe('application/json');
    expect(seen!.headers['x-scanmesh-delivery']).toBe('j1~1');
    expect(q.pending).toBe(0);
    expect(await readdir(dir)).toEqual([]);
  });

  it('retries 5xx with growing backoff and logs one warning per failure', async () => {
    const r = await receiver((_s, i) => (i < 2 ? 500 : 200));
    const q = await open([r.url]);
    await q.enqueue('j1~1', { n: 1 });
    await q.drained();
    expect(r.seen.map((s) => s.delivery)).toEqual(['j1~1', 'j1~1', 'j1~1']);
    expect(r.delivered).toHaveLength(1);
    const warnings = withCode('SCANMESH_WEBHOOK_FAILED');
    expect(warnings.map((w) => [w.status, w.retry_ms, w.backlog, w.delivery])).toEqual([
      [500, 5, 1, 'j1~1'],
      [500, 10, 1, 'j1~1'],
    ]);
    expect(warnings[0]).toMatchObject({ level: 40, url: `http://127.0.0.1:${r.port}` });
  });

  it('keeps retrying while the receiver is down and delivers once it listens', async () => {
    const down = await receiver();
    const port = down.port;
    await down.close(); // the port is now closed: connections are refused
    const q = await open([down.url]);
    await q.enqueue('j1~1', { n: 1 });
    await until(() => expect(withCode('SCANMESH_WEBHOOK_FAILED').length).toBeGreaterThan(2));
    expect(withCode('SCANMESH_WEBHOOK_FAILED')[0]).toMatchObject({ status: null });
    expect(String(withCode('SCANMESH_WEBHOOK_FAILED')[0]!.err)).toContain('ECONNREFUSED');
    const up = await receiver(() => 200, port);
    await q.drained();
    expect(up.delivered.map((s) => JSON.parse(s.body))).toEqual([{ n: 1 }]);
  });

  it('delivers after a restart what a stopped queue had not', async () => {
    const r = await receiver(() => 'hang');
    const first = await open([r.url]);
    await first.enqueue('j1~1', { n: 1 });
    await until(() => expect(r.seen).toHaveLength(1)); // in flight when stopped
    await first.stop();
    expect(await pendingFiles()).toEqual([
      expect.objectContaining({ id: 'j1~1', urls: [r.url], body: { n: 1 } }),
    ]);

    r.answer = () => 200;
    const second = await open([r.url]);
    expect(second.pending).toBe(1);
    await second.drained();
    expect(r.delivered.map((s) => [s.delivery, JSON.parse(s.body)])).toEqual([['j1~1', { n: 1 }]]);
    expect(await readdir(dir)).toEqual([]);
  });

  it('still delivers a pending file to a URL that is no longer configured', async () => {
    const old = await receiver(() => 503);
    const first = await open([old.url]);
    await first.enqueue('j1~1', { n: 1 });
    await until(() => expect(old.seen.length).toBeGreaterThan(0));
    await first.stop();

    old.answer = () => 200;
    const now = await receiver();
    const second = await open([now.url]);
    await second.drained();
    expect(old.delivered.map((s) => s.delivery)).toEqual(['j1~1']);
    expect(now.seen).toEqual([]);
    expect(log.records.some((l) => String(l.msg).includes('no longer configured'))).toBe(true);
  });

  it('serves each URL on its own: a failing one holds back nothing, order is kept', async () => {
    const good = await receiver();
    const bad = await receiver(() => 500);
    const q = await open([good.url, bad.url]);
    const ids = ['j1~1', 'j2~1', 'j3~1', 'j4~1', 'j5~1'];
    for (const id of ids) await q.enqueue(id, { id });
    // Logged once the answer is in, so stop() below waits for the file update that follows.
    const deliveredLog = () => log.records.filter((l) => l.msg === 'webhook delivered');
    await until(() => expect(deliveredLog()).toHaveLength(5));
    await until(() => expect(bad.seen.length).toBeGreaterThan(2));
    expect(good.delivered.map((s) => s.delivery)).toEqual(ids);
    expect(good.delivered.map((s) => JSON.parse(s.body))).toEqual(ids.map((id) => ({ id })));
    // The failing URL keeps retrying its oldest; the rest wait behind it.
    expect(new Set(bad.seen.map((s) => s.delivery))).toEqual(new Set(['j1~1']));
    expect(good.maxInFlight).toBe(1);
    expect(bad.maxInFlight).toBe(1);
    await q.stop();
    expect(q.pending).toBe(5);
    const files = await pendingFiles();
    expect(files.map((f) => [f.id, f.urls])).toEqual(ids.map((id) => [id, [bad.url]]));
  });

  it.each([404, 302])(
    'sets a notification aside for a URL that answers %i, without retry',
    async (status) => {
      const r = await receiver(() =>
        status === 302 ? { status, headers: { location: '/x' } } : status,
      );
      const q = await open([r.url]);
      await q.enqueue('j1~1', { n: 1 });
      await q.drained();
      expect(r.seen).toHaveLength(1);
      expect(withCode('SCANMESH_WEBHOOK_FAILED')).toEqual([]);
      const [refused, ...more] = withCode('SCANMESH_WEBHOOK_REFUSED');
      expect(more).toEqual([]);
      expect(refused).toMatchObject({ level: 50, status, delivery: 'j1~1' });
      const deadDir = join(stateDir, 'dead', 'webhooks');
      const [name] = await readdir(deadDir);
      expect(join(deadDir, name!)).toBe(refused!.file);
      expect(JSON.parse(await readFile(join(deadDir, name!), 'utf8'))).toMatchObject({
        id: 'j1~1',
        url: r.url,
        status,
        body: { n: 1 },
      });
      expect(await readdir(dir)).toEqual([]);
    },
  );

  it('delivers an id enqueued twice while in flight once', async () => {
    let release = (): void => undefined;
    const held = new Promise<number>((resolve) => (release = () => resolve(200)));
    // The first request is answered only once the second enqueue is durable.
    const r = await receiver(() => held);
    const q = await open([r.url]);
    await q.enqueue('j1~1', { n: 1 });
    await until(() => expect(r.seen).toHaveLength(1));
    await q.enqueue('j1~1', { n: 1 });
    release();
    await q.drained();
    expect(r.seen.map((s) => s.delivery)).toEqual(['j1~1']);
  });

  it('re-enqueueing a pending id replaces its body: one file, one delivery', async () => {
    // Only the replaced body is ever accepted: were it not replaced, this would never drain.
    const r = await receiver((seen) =>
      (JSON.parse(seen.body) as { n: number }).n === 2 ? 200 : 503,
    );
    const q = await open([r.url]);
    await q.enqueue('j1~1', { n: 1 });
    await q.enqueue('j1~1', { n: 2 });
    expect(q.pending).toBeLessThanOrEqual(1);
    await q.drained();
    expect(r.delivered.map((s) => JSON.parse(s.body))).toEqual([{ n: 2 }]);
    expect(await readdir(dir)).toEqual([]);
  });

  it('enqueue resolves while the receiver never answers; the timeout is retried', async () => {
    const r = await receiver(() => 'hang');
    const q = await open([r.url], { timeoutMs: 30 });
    await q.enqueue('j1~1', { n: 1 });
    await until(() => expect(r.seen).toHaveLength(1));
    await q.enqueue('j2~1', { n: 2 }); // resolves although j1~1 is stuck in flight
    expect(q.pending).toBe(2);
    // Later timeouts of j1~1 see j2~1 waiting behind it.
    await until(() =>
      expect(withCode('SCANMESH_WEBHOOK_FAILED').some((w) => w.backlog === 2)).toBe(true),
    );
    expect(withCode('SCANMESH_WEBHOOK_FAILED')[0]).toMatchObject({
      status: null,
      err: 'no answer within 30 ms',
      delivery: 'j1~1',
    });
    await until(() => expect(r.seen.length).toBeGreaterThan(1));
    // Oldest first: j2~1 is not sent while j1~1 is still owed.
    expect(new Set(r.seen.map((s) => s.delivery))).toEqual(new Set(['j1~1']));
  });

  it('honours Retry-After up to retryMaxMs', async () => {
    const r = await receiver((_s, i) =>
      i === 0 ? { status: 429, headers: { 'retry-after': '3600' } } : 200,
    );
    const q = await open([r.url], { retryMinMs: 5, retryMaxMs: 25 });
    await q.enqueue('j1~1', { n: 1 });
    await q.drained();
    expect(withCode('SCANMESH_WEBHOOK_FAILED').map((w) => [w.status, w.retry_ms])).toEqual([
      [429, 25],
    ]);
    expect(r.delivered).toHaveLength(1);
  });

  it('sends URL credentials as Basic auth and never logs them, the path or the query', async () => {
    const r = await receiver((_s, i) => (i === 0 ? 500 : 200));
    const url = `http://scan:s3cret@127.0.0.1:${r.port}/hook/T0KEN?token=abc`;
    const q = await open([url]);
    await q.enqueue('j1~1', { n: 1 });
    await q.drained();
    expect(r.seen[0]!.headers.authorization).toBe(
      `Basic ${Buffer.from('scan:s3cret').toString('base64')}`,
    );
    expect(r.seen[0]!.path).toBe('/hook/T0KEN?token=abc');
    expect(withCode('SCANMESH_WEBHOOK_FAILED')[0]).toMatchObject({
      url: `http://127.0.0.1:${r.port}`,
    });
    const text = JSON.stringify(log.records);
    for (const secret of ['s3cret', 'T0KEN', 'token=abc']) expect(text).not.toContain(secret);
  });

  it('retries a fetch that throws oddly', async () => {
    const r = await receiver();
    let calls = 0;
    const odd: typeof fetch = (input, init) => {
      calls++;
      if (calls === 1) throw 'not even an Error';
      return fetch(input, init);
    };
    const q = await open([r.url], { fetch: odd });
    await q.enqueue('j1~1', { n: 1 });
    await q.drained();
    expect(withCode('SCANMESH_WEBHOOK_FAILED')).toMatchObject([{ err: 'not even an Error' }]);
    expect(r.delivered).toHaveLength(1);
  });

  it('does nothing when no URL is configured', async () => {
    const q = await open([]);
    await q.enqueue('j1~1', { n: 1 });
    expect(q.pending).toBe(0);
    await q.drained();
    expect(await readdir(dir)).toEqual([]);
  });

  it('refuses an unusable URL at open without quoting it', async () => {
    const err = await open(['ftp://user:pw@example.org/x']).then(
      () => null,
      (e: unknown) => e as Error & { code: string },
    );
    expect(err).toMatchObject({ code: 'SCANMESH_BAD_CONFIG' });
    expect(err!.message).toContain('urls[0]');
    expect(err!.message).not.toContain('pw');
  });
});
