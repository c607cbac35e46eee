import { Command } from 'commander';
import { startEmbeddedBroker } from '../../broker/embedded.ts';
import { brokerSpec } from '../../config/roles.ts';
import { onShutdown } from '../build.ts';
import { cliLogger } from '../logger.ts';
import { addSpecOptions, configFrom } from '../options.ts';

export function brokerCommand(): Command {
  const cmd = new Command('broker').description('run the embedded MQTT broker alone');
  addSpecOptions(cmd, brokerSpec);
  return cmd.action(async () => {
    const { config: c } = configFrom<{ port: number; bind: string; logLevel: string }>(
      cmd,
      brokerSpec,
    );
    const logger = cliLogger(c.logLevel);
    const broker = await startEmbeddedBroker({ port: c.port, host: c.bind, logger });
    onShutdown(logger, () => broker.close());
  });
}
