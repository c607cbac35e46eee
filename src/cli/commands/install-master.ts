import { readFile } from 'node:fs/promises';
import { Command } from 'commander';
import { MASTER_PATHS, planMasterInstall } from '../../deploy/master-plan.ts';
import { secretFromFile } from '../../deploy/env-file.ts';
import {
  addInstallOptions,
  cidrList,
  install,
  positiveInt,
  type InstallFlags,
} from './install-common.ts';

interface Flags extends InstallFlags {
  bind: string;
  port?: string;
  influxUrl?: string;
  influxUsername?: string;
  influxPasswordFile?: string;
  scope?: string;
  exclude?: string;
}

/**
 * `sudo scanmesh install-master …` on a Linux host without docker: the same service user, a
 * config, empty commands and users files, and a sandboxed unit for the master and its broker.
 */
export function installMasterCommand(): Command {
  const cmd = new Command('install-master').description(
    'install this machine as the master, started at boot (systemd; needs root)',
  );
  cmd
    .option('--bind <addr>', 'embedded broker listen address', '0.0.0.0')
    .option('--port <port>', 'embedded broker port (default 1883)')
    .option('--influx-url <url>', 'InfluxDB 1.x HTTP API, e.g. http://127.0.0.1:8086')
    .option('--influx-username <name>', 'InfluxDB user')
    .option('--influx-password-file <file>', 'file holding the InfluxDB password')
    .option('--scope <cidrs>', 'CIDRs commands.txt targets must lie in (default: loopback only)')
    .option('--exclude <cidrs>', 'CIDRs never to scan');
  addInstallOptions(cmd);
  return cmd.action(async () => {
    const f = cmd.opts<Flags>();
    const influxPassword = f.influxPasswordFile
      ? secretFromFile(await readFile(f.influxPasswordFile, 'utf8'), '--influx-password-file')
      : undefined;
    await install(f, (facts) =>
      planMasterInstall(
        {
          bind: f.bind,
          ...(f.port !== undefined ? { port: positiveInt('--port', f.port)! } : {}),
          ...(f.influxUrl !== undefined ? { influxUrl: f.influxUrl } : {}),
          ...(f.influxUsername !== undefined ? { influxUsername: f.influxUsername } : {}),
          ...(influxPassword !== undefined ? { influxPassword } : {}),
          ...(f.scope !== undefined ? { scope: cidrList('--scope', f.scope)! } : {}),
          ...(f.exclude !== undefined ? { exclude: cidrList('--exclude', f.exclude)! } : {}),
          appDir: f.appDir,
          node: f.node,
          start: f.start,
        },
        facts,
      ),
    );
    if (!f.dryRun) {
      console.log(
        [
          '',
          `installed. Config: ${MASTER_PATHS.config}; jobs: ${MASTER_PATHS.commands}.`,
          `Add a worker account: sudo -u scanmesh ${f.node} ${f.appDir}/src/cli/bin.js user add pi-01 --role worker --users ${MASTER_PATHS.users}`,
          'then: sudo systemctl restart scanmesh-master (the broker reads its users at start)',
          `Give each worker ${MASTER_PATHS.stateDir}/master.pub (written at the first start).`,
        ].join('\n'),
      );
    }
  });
}
