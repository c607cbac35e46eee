import type { KeyObject } from 'node:crypto';
import { join } from 'node:path';
import type { Clock, TimerHandle } from '../clock.ts';
import { isScanmeshError, ScanmeshError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { ClientOptions } from '../mqtt/client.ts';
import { openLink, type Link, type LinkTarget } from '../mqtt/link.ts';
import type { Policy } from '../nmap/policy.ts';
import type { HostResult } from '../nmap/result.ts';
import type { AttemptRecord } from '../storage/attempt.ts';
import { decode, encode } from '../protocol/codec.ts';
import { createTopics } from '../protocol/topics.ts';
import { sign } from '../security/job-signature.ts';
import type { InfluxWriter } from '../storage/influx-writer.ts';
import { parseCommandsFile } from './commands-file.ts';
import { watchCommandsFile } from './commands-watcher.ts';
import { MasterCore } from './core/master-core.ts';
import { DeltaStage } from './deltas/delta-stage.ts';
import { HostIndex } from './deltas/host-index.ts';
import { notificationOf } from './deltas/notification.ts';
import { WebhookQueue } from './webhook-queue.ts';
import type { Effect, Outgoing } from './core/types.ts';
import { journalOrder, runEffects } from './effects-runner.ts';
import { InfluxOutbox } from './influx-outbox.ts';
import { MasterStore } from './store.ts';
import { StatusReporter } from './status-report.ts';
import { TaskSlots } from './task-slots.ts';
import { Telemetry } from './telemetry.ts';

export interface MasterOptions {
  masterId: string;
  topicRoot: string;
  /** A broker URL, or the embedded broker in this process (`{ local: broker }`). */
  broker: LinkTarget;
  username?: string;
  password?: string;
  /** For an mqtts:// broker: CA to trust, client certificate and key. */
  tls?: Pick<ClientOptions, 'tlsCa' | 'tlsCert' | 'tlsKey'>;
  commandsPath: string;
  commandsPollMs: number;
  stateDir: string;
  helloIntervalMs: number;
  jobTimeoutS: number;
  maxAttempts: number;
  policy: Policy;
  influx: InfluxWriter | null;
  clock: Clock;
  logger: Logger;
  /** Called when the master cannot go on (its journal failed); the CLI exits. */
  onFatal(err: unknown): void;
  /** Called after an ended attempt is filed (the demo prints it). */
  onFinish?(record: AttemptRecord, hosts: readonly HostResult[]): void;
  /** Called once a message is handed to the broker client (the bench times dispatch with it). */
  onPublish?(out: Outgoing): void;
  /** Ed25519 key that signs every JOB and CANCEL (security/job-signature.ts); null: unsigned. */
  signingKey?: KeyObject | null;
  /** URLs that get each job's changes as JSON (master/webhook-queue.ts). */
  webhooks?: readonly string[];
  /** Compare script output too when computing deltas (opt-in: scripts are noisy). */
  deltaScripts?: boolean;
}

/** Compact the journal once it is this large and most of it is history. */
const COMPACT_AT_BYTES = 64 * 1024 * 1024;

/**
 * Results files written at once. Each holds at most one of libuv's four threads at a time (open,
 * write, fsync, close in turn), and the journal's write and fsync, which every ack and JOB waits
 * for, queue behind the file operations already waiting for a thread: when a hundred jobs end
 * together, unbounded, a JOB would wait for most of their files. Eight keep the threads busy.
 */
const RESULT_FILES_AT_ONCE = 8;

export interface RunningMaster {
  readonly core: MasterCore;
  readonly store: MasterStore;
  readonly outbox: InfluxOutbox | null;
  readonly deltas: DeltaStage;
  /** Resolves once the master has subscribed and sent its first S_HELLO. */
  readonly ready: Promise<void>;
  stop(): Promise<void>;
}

/**
 * The master's shell: it wires the pure core to the broker, the clock, the durable store, the
 * commands file and InfluxDB. Everything that reaches the core passes through `apply`.
 */
export async function startMaster(o: MasterOptions): Promise<RunningMaster> {
  const log = o.logger;
  const topics = createTopics(o.topicRoot);
  const core = new MasterCore({
    masterId: o.masterId,
    maxAttempts: o.maxAttempts,
    // A JOB leaves only after the step's journal write; give a crossing CL_HELLO two rounds.
    lostAfterMs: 2 * o.helloIntervalMs,
  });
  const store = await MasterStore.open(o.stateDir, o.influx !== null, (r) => core.replay(r));
  const outbox = o.influx
    ? new InfluxOutbox({
        store,
        writer: o.influx,
        clock: o.clock,
        logger: log.child({ component: 'outbox' }),
        batchPoints: 5000,
        retryMinMs: 500,
        retryMaxMs: 30_000,
      })
    : null;
  const telemetry = o.influx ? new Telemetry(o.influx, log) : null;
  const webhooks = await WebhookQueue.open({
    dir: join(o.stateDir, 'webhooks'),
    urls: o.webhooks ?? [],
    clock: o.clock,
    logger: log.child({ component: 'webhooks' }),
    retryMinMs: 1000,
    retryMaxMs: 300_000,
    timeoutMs: 10_000,
  });
  const deltas = new DeltaStage({
    store,
    index: await HostIndex.load(o.stateDir),
    clock: o.clock,
    logger: log.child({ component: 'deltas' }),
    compare: { scripts: o.deltaScripts === true },
    notify: (changes) =>
      webhooks.enqueue(`${changes.job}~${changes.attempt}`, notificationOf(changes)),
    compared: (record) => outbox?.compared(record),
    retryMinMs: 500,
    retryMaxMs: 30_000,
  });
  let link: Link | null = null;
  // Hello rounds count the workers' unanswered S_HELLOs: while the master cannot reach the broker
  // no worker can answer, and counting on would mark them all INACTIVE.
  let linkUp = false;
  // Until the link is open (restore, the first read of the commands file) publishes wait here: a
  // JOB the core hands out then is journaled as assigned and must still reach its worker.
  const early: Outgoing[] = [];
  // Attempts the core has ended whose `ended` record is not yet in the journal. The core's snapshot
  // already counts them as ended, so compacting now could drop them from the outbox.
  let finishing = 0;

  const publish = (out: Outgoing) => {
    if (!link) return void early.push(out);
    const topic = out.to === 'all' ? topics.sHello() : topics.worker(out.to, out.channel);
    // security: JOB/CANCEL signed for this one worker and mesh, so workers can refuse forgeries.
    const message =
      out.channel === 'jobs' && o.signingKey
        ? sign(out.message, o.signingKey, { topicRoot: topics.root, worker: out.to })
        : out.message;
    link.publish(topic, encode(message as never), out.channel === 'hello' ? 0 : 1);
    o.onPublish?.(out);
  };
  // Keeps the journal in the order replay depends on (journal-order.ts).
  const order = journalOrder();
  const resultFiles = new TaskSlots(RESULT_FILES_AT_ONCE);
  const apply = (effects: Effect[]) => {
    for (const e of effects) if (e.type === 'finish') finishing += 1;
    return runEffects(effects, {
      order,
      append: (records) => store.append(records),
      fileResult: (record, hosts) => resultFiles.run(() => store.writeResult(record, hosts)),
      ended: async (record, hosts) => {
        try {
          await store.ended(record);
        } finally {
          finishing -= 1;
        }
        deltas.kick();
        outbox?.kick();
        o.onFinish?.(record, hosts);
      },
      publish,
      workerChanged: (w) => telemetry?.worker(w, o.clock.now()),
      logger: log,
      fatal: (err) => {
        log.fatal({ err, code: 'SCANMESH_STORE_FAILED' }, 'durable store failed; stopping');
        o.onFatal(err);
      },
    });
  };

  const restored = core.restored(o.clock.now());
  const c = core.state.counts();
  log.info({ ...c, backlog: store.outbox.size, state_dir: o.stateDir }, 'state restored');
  await apply(restored);
  await store.compact(core.snapshot());
  deltas.kick();
  outbox?.kick();

  const onCommandsText = (text: string) => {
    const file = parseCommandsFile(text, o.policy, o.jobTimeoutS);
    for (const r of file.rejected) {
      log.warn(
        { code: r.code, line: r.line, command: r.text },
        `commands line ${r.line} refused: ${r.reason}`,
      );
    }
    void apply(core.commands(file.entries, o.clock.now()));
  };
  const watcher = watchCommandsFile({
    path: o.commandsPath,
    clock: o.clock,
    logger: log,
    pollMs: o.commandsPollMs,
    onChange: onCommandsText,
  });
  await watcher.check();

  const helloTimer: TimerHandle = o.clock.setInterval(() => helloRound(), o.helloIntervalMs);
  const status = new StatusReporter({
    masterId: o.masterId,
    helloIntervalMs: o.helloIntervalMs,
    state: core.state,
    backlog: () => store.outbox.size,
    logger: log,
  });
  const helloRound = () => {
    if (!linkUp) return;
    const now = o.clock.now();
    void apply(core.helloRound(now));
    // Retained, so `scanmesh status` gets the latest at once (broker/acl.ts allows this topic).
    link?.publish(topics.status(), encode(status.round(now)), 1, true);
    const counts = core.state.counts();
    const workers = [...core.state.workers.values()];
    if (telemetry) {
      for (const w of workers) telemetry.worker(w, now);
      telemetry.master(
        {
          master: o.masterId,
          queue: counts.pending,
          running: counts.running,
          done: counts.done,
          failed: counts.failed,
          backlog: store.outbox.size,
          workers: workers.length,
          workersActive: workers.filter((w) => w.state !== 'INACTIVE').length,
        },
        now,
      );
      void telemetry.flush();
    }
    if (store.outbox.size > 0)
      log.info({ backlog: store.outbox.size }, 'results waiting for InfluxDB');
    if (store.journalBytes > COMPACT_AT_BYTES && finishing === 0) {
      store
        .compact(core.snapshot())
        .catch((err: unknown) => log.error({ err }, 'journal compaction failed'));
    }
  };

  let resolveReady: () => void = () => undefined;
  const ready = new Promise<void>((r) => (resolveReady = r));
  const receive = (topic: string, payload: Buffer) => {
    const where = topics.parseWorker(topic);
    if (!where) throw new ScanmeshError('SCANMESH_BAD_TOPIC', `unexpected topic ${topic}`);
    const now = o.clock.now();
    switch (where.channel) {
      case 'hello':
        return void apply(core.clHello(own(decode(payload, ['CL_HELLO']), where.id), now));
      case 'bye':
        return void apply(core.clBye(own(decode(payload, ['CL_BYE']), where.id), now));
      case 'data':
        return void apply(core.data(own(decode(payload, ['DATA']), where.id), now));
      default:
        throw new ScanmeshError('SCANMESH_BAD_TOPIC', `the master does not listen on ${topic}`);
    }
  };
  const onMessage = (topic: string, payload: Buffer) => {
    try {
      receive(topic, payload);
    } catch (err) {
      if (!isScanmeshError(err)) throw err;
      log.warn({ code: err.code, topic, reason: err.message }, 'message dropped');
    }
  };
  link = openLink(
    o.broker,
    {
      clientId: `scanmesh-master-${o.masterId}`,
      persistentSession: true,
      reconnectPeriodMs: 1000,
      keepaliveS: 30,
      ...o.tls,
      ...(o.username !== undefined ? { username: o.username } : {}),
      ...(o.password !== undefined ? { password: o.password } : {}),
    },
    {
      filters: [topics.allWorkers('hello'), topics.allWorkers('bye'), topics.allWorkers('data')],
      onReady: () => {
        log.info({ root: topics.root }, 'connected to broker; discovering workers');
        linkUp = true;
        void apply(core.connected(o.clock.now()));
        resolveReady();
      },
      onDown: () => {
        if (linkUp) log.warn('lost the broker; hello rounds pause until it is back');
        linkUp = false;
      },
      onMessage,
    },
    log,
  );
  for (const out of early.splice(0)) publish(out);

  return {
    core,
    store,
    outbox,
    deltas,
    ready,
    async stop() {
      watcher.stop();
      o.clock.clear(helloTimer);
      await deltas.stop();
      await outbox?.stop();
      await webhooks.stop();
      await link?.close();
      // Steps still writing (a results file waiting for a slot) finish before the store closes;
      // a failure among them has already been reported through `fatal`.
      await order.durable().catch(() => undefined);
      await telemetry?.flush();
      await store.close();
    },
  };
}

/** A worker speaks only for itself: the topic it published on (held by the broker's ACL) is who it is. */
function own<M extends { worker: string }>(msg: M, topicWorker: string): M {
  if (msg.worker !== topicWorker) {
    throw new ScanmeshError(
      'SCANMESH_IDENTITY_MISMATCH',
      `message names worker ${msg.worker} on the topic of ${topicWorker}`,
    );
  }
  return msg;
}
