import type { KeyObject } from 'node:crypto';
import type { MqttClient } from 'mqtt';
import type { Clock } from '../clock.ts';
import { isScanmeshError, ScanmeshError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { createMqttClient, type BrokerTarget, type ClientOptions } from '../mqtt/client.ts';
import { superviseConnection } from '../mqtt/reconnect.ts';
import { resolveCommand, type Policy } from '../nmap/policy.ts';
import type { Resolve } from '../nmap/scope.ts';
import { runNmap } from '../nmap/runner.ts';
import { nmapVersion } from '../nmap/version.ts';
import { decode, encode } from '../protocol/codec.ts';
import type { Data } from '../protocol/messages/data.ts';
import type { Job } from '../protocol/messages/job.ts';
import { createTopics } from '../protocol/topics.ts';
import { assertSigned } from '../security/job-signature.ts';
import { fingerprint } from '../security/master-key.ts';
import { WorkerCore } from './core/worker-core.ts';
import type { WorkerEffect } from './core/types.ts';
import { openSpool } from './spool.ts';

export interface WorkerOptions {
  id: string;
  topicRoot: string;
  broker: BrokerTarget;
  username?: string;
  password?: string;
  /** For an mqtts:// broker: CA to trust, client certificate and key. */
  tls?: Pick<ClientOptions, 'tlsCa' | 'tlsCert' | 'tlsKey'>;
  slots: number;
  stateDir: string;
  nmapPath: string;
  policy: Policy;
  resolve: Resolve;
  resendAfterMs: number;
  clock: Clock;
  logger: Logger;
  onFatal(err: unknown): void;
  /**
   * The master's pinned Ed25519 public key: JOB and CANCEL must carry its signature for this
   * worker and topic root. null accepts unsigned jobs (explicitly insecure); left out, the worker
   * refuses to start, so forgetting the key can never silently switch verification off.
   */
  masterKey?: KeyObject | null;
}

export interface RunningWorker {
  readonly core: WorkerCore;
  /** Resolves once connected and subscribed for the first time. */
  readonly ready: Promise<void>;
  stop(): Promise<void>;
}

/**
 * The worker's shell: broker, spool, nmap and the policy check around the pure core. Every DATA
 * goes to the spool before it goes on the wire, and leaves the spool only on the master's DATA_ACK.
 */
export async function startWorker(o: WorkerOptions): Promise<RunningWorker> {
  const log = o.logger;
  const topics = createTopics(o.topicRoot);
  // security: job signatures (begin)
  if (o.masterKey === undefined) {
    throw new ScanmeshError(
      'SCANMESH_BAD_CONFIG',
      "startWorker needs masterKey: the master's public key, or null to accept unsigned jobs",
    );
  }
  const masterKey = o.masterKey;
  if (masterKey === null)
    log.warn('job signatures are NOT checked: anyone who can publish runs nmap');
  else
    log.info({ masterKey: fingerprint(masterKey) }, 'jobs must be signed by the pinned master key');
  // security: job signatures (end)
  const master = masterKey ? fingerprint(masterKey) : 'unsigned';
  const spool = await openSpool(o.stateDir, { log, master });
  const version = await nmapVersion(o.nmapPath).catch(() => 'unknown');
  const core = new WorkerCore(
    {
      id: o.id,
      nmapVersion: version,
      slots: o.slots,
      resendAfterMs: o.resendAfterMs,
      acceptedStamp: spool.acceptedStamp,
    },
    spool.pending(),
  );
  log.info({ nmap: version, slots: o.slots, spooled: spool.size }, 'worker starting');
  const runs = new Map<string, AbortController>();
  /** Each run until its end part is spooled: `stop` waits for them before closing the spool. */
  const runEnds = new Set<Promise<void>>();
  let client: MqttClient | null = null;

  const publish = (topic: string, message: unknown, qos: 0 | 1) =>
    client?.publish(topic, encode(message as never), { qos });

  const abortRuns = (why: string) => {
    for (const c of runs.values()) c.abort(new Error(why));
  };
  let failed = false;
  const fail = (err: unknown) => {
    if (failed) return;
    failed = true;
    log.fatal({ err, code: 'SCANMESH_STORE_FAILED' }, 'spool failed; stopping');
    abortRuns('worker failed'); // the process may exit now: no nmap may outlive it
    o.onFatal(err);
  };

  // Sends leave one by one in the order the core asked for them (an attempt's end part last),
  // each only once its put is durable. A part the core no longer holds is read back from disk
  // only when its turn comes, so its bytes live from the read to the broker's PUBACK, not while
  // other reads complete: what outlives a young-generation GC cycle piles up until a full one.
  let stopping = false;
  let sending: Promise<void> = Promise.resolve();
  const send = (job: string, attempt: number, seq: number, held?: Data) => {
    sending = sending
      .then(async () => {
        if (stopping) return;
        const payload = held
          ? (await spool.written(job, attempt, seq)) && encode(held)
          : await spool.read(job, attempt, seq);
        // Nothing: acknowledged or cancelled while it waited; nothing left to send.
        if (payload && !stopping) client?.publish(topics.worker(o.id, 'data'), payload, { qos: 1 });
      })
      .catch(fail);
  };

  // Puts and acks of one turn share one fdatasync and one promise: watch each promise once.
  let watched: Promise<void> | null = null;
  const write = (written: Promise<void>, writes: Promise<void>[]) => {
    writes.push(written);
    if (written === watched) return;
    watched = written;
    written.catch(fail);
  };

  const apply = (effects: WorkerEffect[]): void => {
    const writes: Promise<void>[] = [];
    for (const e of effects) {
      switch (e.type) {
        case 'hello':
          publish(topics.worker(o.id, 'hello'), e.message, 1);
          break;
        case 'spool':
          write(spool.put(e.message), writes);
          break;
        case 'send':
          send(e.message.job, e.message.attempt, e.message.seq, e.message);
          break;
        case 'sendSpooled':
          send(e.job, e.attempt, e.seq);
          break;
        case 'forget':
          write(spool.ack(e.job, e.attempt, e.seq), writes);
          break;
        case 'stamp':
          write(spool.keepStamp(e.stamp), writes);
          break;
        case 'run':
          run(e.job);
          break;
        case 'abort':
          runs.get(`${e.job}#${e.attempt}`)?.abort(new Error(e.reason));
          break;
        case 'log': {
          // After the writes before it: "job ended" in the log means the results are spooled.
          const { level, data, msg } = e;
          Promise.all(writes).then(() => log[level](data, msg), noop);
          break;
        }
      }
    }
  };

  const run = (job: Job) => {
    const key = `${job.job}#${job.attempt}`;
    const controller = new AbortController();
    runs.set(key, controller);
    const startedAt = o.clock.now();
    const failedWith = (err: ScanmeshError) => ({
      status: 'failed' as const,
      exitCode: null,
      error: err.message,
      code: err.code,
      meta: null,
      stats: null,
      startedAt,
      finishedAt: o.clock.now(),
      hostCount: 0,
    });
    // Whatever goes wrong, the attempt ends with a reason: an attempt left running would hold its
    // slot, and the master would wait for it until its deadline.
    const ran = resolveCommand(job.args, o.policy, o.resolve)
      .then(
        (checked) =>
          runNmap({
            args: checked.args,
            timeoutMs: job.timeoutS * 1000,
            nmapPath: o.nmapPath,
            signal: controller.signal,
            onHost: (host) => apply(core.hostFound(job.job, job.attempt, host)),
          }).catch((err: unknown) =>
            failedWith(
              new ScanmeshError('SCANMESH_NMAP_FAILED', `nmap run failed: ${String(err)}`),
            ),
          ),
        (err: unknown) => {
          const why = isScanmeshError(err)
            ? err
            : new ScanmeshError('SCANMESH_BAD_COMMAND', `job not checked: ${String(err)}`);
          log.warn(
            { code: why.code, job: job.job, reason: why.message },
            'job refused by the worker policy',
          );
          return failedWith(why);
        },
      )
      .then((outcome) => apply(core.runEnded(job.job, job.attempt, outcome)))
      .catch((err: unknown) => log.error({ err, job: job.job }, 'job run failed unexpectedly'))
      .finally(() => {
        runs.delete(key);
        runEnds.delete(ran);
      });
    runEnds.add(ran);
  };

  let resolveReady: () => void = () => undefined;
  const ready = new Promise<void>((r) => (resolveReady = r));
  client = createMqttClient(o.broker, {
    clientId: `scanmesh-worker-${o.id}`,
    persistentSession: true,
    reconnectPeriodMs: 2000,
    keepaliveS: 15,
    will: {
      topic: topics.worker(o.id, 'bye'),
      payload: encode({ kind: 'CL_BYE', worker: o.id }),
      qos: 1,
      retain: false,
    },
    ...o.tls,
    ...(o.username !== undefined ? { username: o.username } : {}),
    ...(o.password !== undefined ? { password: o.password } : {}),
  });
  let connectedOnce = false;
  client.on('connect', () => {
    client?.subscribe(
      {
        [topics.sHello()]: { qos: 0 },
        [topics.worker(o.id, 'jobs')]: { qos: 1 },
        [topics.worker(o.id, 'ack')]: { qos: 1 },
      },
      (err) => {
        if (err) return log.error({ err }, 'subscribe failed');
        log.info(
          { worker: o.id, resend: core.pending },
          connectedOnce ? 'reconnected to broker' : 'connected to broker',
        );
        connectedOnce = true;
        apply(core.connected(o.clock.now()));
        resolveReady();
      },
    );
  });
  superviseConnection(client, log); // retry forever with backoff; log why, once per reason
  client.on('message', (topic, payload) => {
    try {
      onMessage(topic, payload);
    } catch (err) {
      if (!isScanmeshError(err)) throw err;
      log.warn({ code: err.code, topic, reason: err.message }, 'message dropped');
    }
  });

  const onMessage = (topic: string, payload: Buffer) => {
    const now = o.clock.now();
    if (topic === topics.sHello()) {
      decode(payload, ['S_HELLO']); // security: validated like every payload, though unused
      return void apply(core.sHello(now));
    }
    if (topic === topics.worker(o.id, 'jobs')) {
      const msg = decode(payload, ['JOB', 'CANCEL']);
      // Stopping: a JOB started now would be neither awaited nor aborted. Not taken, it is not
      // in our next CL_HELLO, and the master hands it out again.
      if (stopping && msg.kind === 'JOB') {
        return void log.info({ job: msg.job, attempt: msg.attempt }, 'job not taken: stopping');
      }
      // security: only the pinned master may start or stop scans here (SCANMESH_BAD_SIGNATURE)
      if (masterKey) assertSigned(msg, masterKey, { topicRoot: topics.root, worker: o.id });
      return void apply(msg.kind === 'JOB' ? core.job(msg, now) : core.cancel(msg));
    }
    if (topic === topics.worker(o.id, 'ack'))
      return void apply(core.ack(decode(payload, ['DATA_ACK'])));
    throw new ScanmeshError('SCANMESH_BAD_TOPIC', `the worker does not listen on ${topic}`);
  };

  return {
    core,
    ready,
    async stop() {
      stopping = true;
      abortRuns('worker stopping');
      await Promise.all(runEnds);
      await new Promise<void>((r) => client?.end(false, {}, () => r()));
      await sending;
      await spool.close();
    },
  };
}

function noop(): void {}
