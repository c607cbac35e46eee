import { lookup } from 'node:dns/promises';
import { Command } from 'commander';
import { workerSpec } from '../../config/roles.ts';
import { ScanmeshError } from '../../errors.ts';
import { pinnedMasterKey } from '../../security/pinned-key.ts';
import { defaultWorkerId, defaultWorkerStateDir } from '../../worker/identity.ts';
import { startWorker } from '../../worker/worker.ts';
import { buildPolicy, clock, onShutdown, type ScanningConfig } from '../build.ts';
import { cliLogger } from '../logger.ts';
import { addSpecOptions, configFrom, DEFAULT_CONFIG_FILES } from '../options.ts';

export interface WorkerConfig extends ScanningConfig {
  brokerUrl?: string;
  id?: string;
  slots: number;
  stateDir?: string;
  nmapPath: string;
  resendAfter: number;
  topicRoot: string;
  logLevel: string;
  username?: string;
  password?: string;
  tlsCa?: string;
  tlsCert?: string;
  tlsKey?: string;
  masterKey?: string; // security: job signatures
  insecureUnsignedJobs: boolean; // security: job signatures
}

export function workerCommand(): Command {
  const cmd = new Command('worker').description(
    'run a worker: takes jobs from the master, runs nmap',
  );
  addSpecOptions(cmd, workerSpec, DEFAULT_CONFIG_FILES.worker);
  return cmd.action(async () => {
    const { config: c } = configFrom<WorkerConfig>(cmd, workerSpec, {
      defaultFile: DEFAULT_CONFIG_FILES.worker,
    });
    if (!c.brokerUrl) {
      throw new ScanmeshError(
        'SCANMESH_BAD_CONFIG',
        '--broker-url is required (or SCANMESH_BROKER_URL)',
      );
    }
    const masterKey = await pinnedMasterKey(c); // security: refuses to start without a key
    const logger = cliLogger(c.logLevel);
    const id = c.id ?? defaultWorkerId();
    const worker = await startWorker({
      id,
      topicRoot: c.topicRoot,
      broker: { url: c.brokerUrl },
      tls: {
        ...(c.tlsCa ? { tlsCa: c.tlsCa } : {}),
        ...(c.tlsCert ? { tlsCert: c.tlsCert } : {}),
        ...(c.tlsKey ? { tlsKey: c.tlsKey } : {}),
      },
      ...(c.username ? { username: c.username } : {}),
      ...(c.password ? { password: c.password } : {}),
      slots: c.slots,
      stateDir: c.stateDir ?? defaultWorkerStateDir(),
      nmapPath: c.nmapPath,
      policy: buildPolicy(c),
      resolve: async (name: string) => (await lookup(name, { all: true })).map((a) => a.address),
      resendAfterMs: c.resendAfter * 1000,
      clock,
      logger: logger.child({ component: 'worker', worker: id }),
      onFatal: () => process.exit(1),
      masterKey, // security: job signatures
    });
    onShutdown(logger, () => worker.stop());
  });
}
