import { Command } from 'commander';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../broker/embedded.ts';
import { masterSpec } from '../../config/roles.ts';
import { startMaster } from '../../master/master.ts';
import { loadOrCreateMasterKey } from '../../security/master-key.ts';
import {
  buildInflux,
  buildPolicy,
  clock,
  onShutdown,
  type ScanningConfig,
  brokerListeners,
  type BrokerListenConfig,
} from '../build.ts';
import { cliLogger } from '../logger.ts';
import { addSpecOptions, configFrom, DEFAULT_CONFIG_FILES } from '../options.ts';

export interface MasterConfig extends ScanningConfig, BrokerListenConfig {
  commands: string;
  port: number;
  bind: string;
  users: string;
  allowAnonymous: boolean;
  brokerUrl?: string;
  influxUrl?: string;
  influxDb: string;
  influxUsername?: string;
  influxPassword?: string;
  influxToken?: string;
  webhooks: string[];
  deltaScripts: boolean;
  helloInterval: number;
  stateDir: string;
  jobTimeout: number;
  maxAttempts: number;
  masterId: string;
  topicRoot: string;
  logLevel: string;
  username?: string;
  password?: string;
}

export function masterCommand(): Command {
  const cmd = new Command('master').description(
    'run the master: reads the commands file, hands jobs to workers, stores results',
  );
  addSpecOptions(cmd, masterSpec, DEFAULT_CONFIG_FILES.master);
  return cmd.action(async () => {
    const { config: c } = configFrom<MasterConfig>(cmd, masterSpec, {
      defaultFile: DEFAULT_CONFIG_FILES.master,
    });
    const logger = cliLogger(c.logLevel);
    // security: job signing key (begin) — before the broker, so master.pub exists once it listens
    const key = await loadOrCreateMasterKey(c.stateDir);
    logger.info(
      { publicKey: key.publicPath, fingerprint: key.fingerprint, created: key.created },
      'jobs are signed; pin each worker to the public key with --master-key',
    );
    // security: job signing key (end)
    let broker: EmbeddedBroker | null = null;
    if (!c.brokerUrl) {
      broker = await startEmbeddedBroker({
        port: c.port,
        host: c.bind,
        logger: logger.child({ component: 'broker' }),
        topicRoot: c.topicRoot,
        ...(c.allowAnonymous ? { allowAnonymous: true } : { users: c.users }),
        ...brokerListeners(c),
      });
    }
    const master = await startMaster({
      masterId: c.masterId,
      topicRoot: c.topicRoot,
      broker: broker ? { local: broker } : { url: c.brokerUrl as string },
      ...(c.tlsCa && !broker ? { tls: { tlsCa: c.tlsCa } } : {}),
      ...(c.username ? { username: c.username } : {}),
      ...(c.password ? { password: c.password } : {}),
      commandsPath: c.commands,
      commandsPollMs: 1000,
      stateDir: c.stateDir,
      helloIntervalMs: c.helloInterval * 1000,
      jobTimeoutS: c.jobTimeout,
      maxAttempts: c.maxAttempts,
      policy: buildPolicy(c),
      influx: buildInflux(c, logger),
      clock,
      logger: logger.child({ component: 'master' }),
      onFatal: () => process.exit(1),
      signingKey: key.privateKey, // security: job signing key
      webhooks: c.webhooks,
      deltaScripts: c.deltaScripts,
    });
    onShutdown(logger, async () => {
      await master.stop();
      await broker?.close();
    });
  });
}
