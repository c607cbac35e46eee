import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lookup } from 'node:dns/promises';
import { Command } from 'commander';
import { startEmbeddedBroker } from '../../broker/embedded.ts';
import { masterSpec } from '../../config/roles.ts';
import { startMaster, type RunningMaster } from '../../master/master.ts';
import { loadOrCreateMasterKey } from '../../security/master-key.ts';
import type { HostResult } from '../../nmap/result.ts';
import type { AttemptRecord } from '../../storage/attempt.ts';
import { startWorker } from '../../worker/worker.ts';
import { buildInflux, buildPolicy, clock, onShutdown } from '../build.ts';
import { cliLogger } from '../logger.ts';
import { addSpecOptions, configFrom } from '../options.ts';
import type { MasterConfig } from './master.ts';

/**
 * The master settings the demo uses: its broker listens on loopback for its own worker alone, so
 * logins, TLS, WebSocket and an external broker do not apply, nor do webhooks.
 */
const DEMO_KEYS: ReadonlySet<string> = new Set([
  'topicRoot',
  'logLevel',
  'scope',
  'exclude',
  'maxRate',
  'scripts',
  'commands',
  'port',
  'influxUrl',
  'influxDb',
  'influxUsername',
  'influxPassword',
  'influxToken',
  'helloInterval',
  'stateDir',
  'jobTimeout',
  'maxAttempts',
  'masterId',
]);

/**
 * Everything in one process on loopback: embedded broker, master, one worker. It scans what the
 * commands file holds, prints each result, and exits once every job has ended (unless --keep).
 */
export function demoCommand(): Command {
  const cmd = new Command('demo').description(
    'embedded broker + master + one local worker in one process, scanning commands/commands.txt',
  );
  addSpecOptions(
    cmd,
    masterSpec
      .filter((k) => DEMO_KEYS.has(k.key))
      .map((k) =>
        k.key === 'port'
          ? {
              ...k,
              default: undefined,
              describe: 'embedded broker TCP port (default: any free one)',
            }
          : k,
      ),
  );
  cmd.option('--keep', 'keep running after every job has ended (watch the file for new lines)');
  return cmd.action(async () => {
    const { config: c, sources } = configFrom<MasterConfig>(cmd, masterSpec);
    const logger = cliLogger(c.logLevel);
    // A fresh state each run, so the demo scans again instead of remembering it is done.
    const temp = await mkdtemp(join(tmpdir(), 'scanmesh-demo-'));
    const stateDir = sources.stateDir === 'default' ? join(temp, 'master') : c.stateDir;
    const broker = await startEmbeddedBroker({
      // Everything is on this machine: any free port, unless one is asked for, so a broker the
      // machine already runs on 1883 (Debian's mosquitto) does not stop the demo.
      port: sources.port === 'default' ? 0 : c.port,
      host: '127.0.0.1',
      logger: logger.child({ component: 'broker' }),
      topicRoot: c.topicRoot,
      allowAnonymous: true,
    });
    const policy = buildPolicy(c);
    const influx = buildInflux(c, logger);
    const key = await loadOrCreateMasterKey(stateDir); // security: in-process, the key is handed over
    let master: RunningMaster | null = null;
    const stopAll = async () => {
      await worker.stop();
      await master?.stop();
      await broker.close();
      await rm(temp, { recursive: true, force: true });
    };
    const worker = await startWorker({
      id: 'local',
      topicRoot: c.topicRoot,
      // The worker reaches the broker the way a Pi would, over TCP; only the master is in-process.
      broker: { url: `mqtt://127.0.0.1:${broker.port}` },
      slots: 2,
      stateDir: join(temp, 'worker'),
      nmapPath: 'nmap',
      policy,
      resolve: async (name: string) => (await lookup(name, { all: true })).map((a) => a.address),
      resendAfterMs: 10_000,
      clock,
      logger: logger.child({ component: 'worker', worker: 'local' }),
      onFatal: () => process.exit(1),
      masterKey: key.publicKey, // security: job signatures
    });
    const maybeDone = async () => {
      if (cmd.opts().keep || !master) return;
      const n = master.core.state.counts();
      if (n.pending + n.running > 0) return;
      await master.outbox?.flushed();
      console.log(
        `\n${n.done} done, ${n.failed} failed${influx ? `; written to InfluxDB database ${c.influxDb}` : ''}`,
      );
      await stopAll();
      process.exit(n.failed > 0 ? 1 : 0);
    };
    master = await startMaster({
      masterId: c.masterId,
      topicRoot: c.topicRoot,
      broker: { local: broker },
      commandsPath: c.commands,
      commandsPollMs: 1000,
      stateDir,
      helloIntervalMs: c.helloInterval * 1000,
      jobTimeoutS: c.jobTimeout,
      maxAttempts: c.maxAttempts,
      policy,
      influx,
      clock,
      logger: logger.child({ component: 'master' }),
      onFatal: () => process.exit(1),
      signingKey: key.privateKey, // security: job signatures
      onFinish: (record, hosts) => {
        console.log(formatResult(record, hosts));
        setImmediate(() => void maybeDone());
      },
    });
    onShutdown(logger, stopAll);
    await master.ready;
    const n = master.core.state.counts();
    if (n.pending + n.running + n.done + n.failed === 0) {
      console.log(`no commands in ${c.commands}; add nmap command lines there`);
      await stopAll();
      process.exit(cmd.opts().keep ? 0 : 1);
    }
  });
}

function formatResult(record: AttemptRecord, hosts: readonly HostResult[]): string {
  const head = `\n== ${record.job} [${record.status}] nmap ${record.command} (worker ${record.worker}, ${((record.finishedAt - record.startedAt) / 1000).toFixed(1)} s)`;
  if (record.status !== 'completed') return `${head}\n   ${record.code} ${record.error}`;
  const lines = hosts.map((h) => {
    const open = h.ports.filter((p) => p.state === 'open');
    const ports = open.map(
      (p) =>
        `${p.port}/${p.protocol}${p.service ? ` ${p.service}` : ''}${p.product ? ` (${[p.product, p.version].filter(Boolean).join(' ')})` : ''}`,
    );
    return `   ${h.address} ${h.state}${h.hostnames[0] ? ` ${h.hostnames[0].name}` : ''}: ${ports.length ? ports.join(', ') : 'no open ports'}`;
  });
  return [head, ...lines].join('\n');
}
