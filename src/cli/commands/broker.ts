import { Command } from 'commander';
import { startEmbeddedBroker } from '../../broker/embedded.ts';
import { brokerSpec } from '../../config/roles.ts';
import { brokerListeners, onShutdown, type BrokerListenConfig } from '../build.ts';
import { cliLogger } from '../logger.ts';
import { addSpecOptions, configFrom } from '../options.ts';

interface BrokerConfig extends BrokerListenConfig {
  port: number;
  bind: string;
  users: string;
  allowAnonymous: boolean;
  topicRoot: string;
  logLevel: string;
}

export function brokerCommand(): Command {
  const cmd = new Command('broker').description('run the embedded MQTT broker alone');
  addSpecOptions(cmd, brokerSpec);
  return cmd.action(async () => {
    const { config: c } = configFrom<BrokerConfig>(cmd, brokerSpec);
    const logger = cliLogger(c.logLevel);
    const broker = await startEmbeddedBroker({
      port: c.port,
      host: c.bind,
      logger,
      topicRoot: c.topicRoot,
      ...(c.allowAnonymous ? { allowAnonymous: true } : { users: c.users }),
      ...brokerListeners(c),
    });
    onShutdown(logger, () => broker.close());
  });
}
