import { Command, CommanderError } from 'commander';
import { isScanmeshError } from '../errors.ts';
import { brokerCommand } from './commands/broker.ts';
import { configCommand } from './commands/config.ts';
import { demoCommand } from './commands/demo.ts';
import { installMasterCommand } from './commands/install-master.ts';
import { installWorkerCommand } from './commands/install-worker.ts';
import { diffCommand } from './commands/diff.ts';
import { masterCommand } from './commands/master.ts';
import { statusCommand } from './commands/status.ts';
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
  .addCommand(diffCommand())
  .addCommand(configCommand())
  .addCommand(statusCommand())
  .addCommand(installWorkerCommand())
  .addCommand(installMasterCommand())
  .exitOverride();

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) process.exit(err.exitCode);
  if (isScanmeshError(err)) {
    console.error(`scanmesh: ${err.code}: ${err.message}`);
    process.exit(2);
  }
  // EADDRINUSE, EISDIR, ENOENT …: the message says what and where; a stack trace would not help.
  if (isSystemError(err)) {
    console.error(`scanmesh: SCANMESH_OS_ERROR: ${err.message}`);
    process.exit(2);
  }
  throw err;
}

function isSystemError(err: unknown): err is NodeJS.ErrnoException {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return err instanceof Error && typeof code === 'string' && /^E[A-Z0-9]+$/.test(code);
}
