import { Command, CommanderError } from 'commander';
import { isScanmeshError } from '../errors.ts';
import { brokerCommand } from './commands/broker.ts';
import { demoCommand } from './commands/demo.ts';
import { masterCommand } from './commands/master.ts';
import { userCommand } from './commands/user.ts';
import { workerCommand } from './commands/worker.ts';

const program = new Command('scanmesh')
  .description('a distributed nmap scanning mesh over MQTT')
  .version('0.1.0')
  .addCommand(masterCommand())
  .addCommand(workerCommand())
  .addCommand(brokerCommand())
  .addCommand(demoCommand())
  .addCommand(userCommand())
  .exitOverride();

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) process.exit(err.exitCode);
  if (isScanmeshError(err)) {
    console.error(`scanmesh: ${err.code}: ${err.message}`);
    process.exit(2);
  }
  throw err;
}
