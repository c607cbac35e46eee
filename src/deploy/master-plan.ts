import { masterSpec } from '../config/roles.ts';
import type { Action } from './actions.ts';
import {
  checkServicePaths,
  CONFIG_DIR,
  configDir,
  enableUnit,
  SERVICE_USER,
  serviceUser,
  UNIT_DIR,
  type HostFacts,
  type ServiceOptions,
} from './common.ts';
import { exampleConfig, renderConfig } from './config-files.ts';
import { envLine } from './env-file.ts';
import { masterUnit } from './units.ts';

export const MASTER_PATHS = {
  config: `${CONFIG_DIR}/master.yml`,
  env: `${CONFIG_DIR}/master.env`,
  commands: `${CONFIG_DIR}/commands.txt`,
  unit: `${UNIT_DIR}/scanmesh-master.service`,
  /** Journal, results, master.key/master.pub and the broker's users file. */
  stateDir: '/var/lib/scanmesh-master',
  users: '/var/lib/scanmesh-master/users.json',
};

export interface MasterInstallOptions extends ServiceOptions {
  bind: string;
  port?: number;
  influxUrl?: string;
  influxUsername?: string;
  influxPassword?: string;
  scope?: string[];
  exclude?: string[];
}

const COMMANDS_HEADER = `# nmap command lines, one per line (a leading "nmap" is optional); edits are picked up live.
# Every target must lie in scanning.scope of /etc/scanmesh/master.yml and of each worker.
# -sT -p 22,80,443 192.168.1.0/24
`;

/**
 * Everything `scanmesh install-master` does: the service user, the config, an empty commands
 * file and users file (kept if present), the unit, enable and start.
 */
export function planMasterInstall(o: MasterInstallOptions, facts: HostFacts): Action[] {
  checkServicePaths(o);
  const actions: Action[] = [serviceUser(facts), configDir()];
  actions.push({
    kind: 'dir',
    path: MASTER_PATHS.stateDir,
    mode: 0o700,
    owner: SERVICE_USER,
    group: SERVICE_USER,
    why: 'the master state (systemd would create it at first start; the users file goes here now)',
  });
  if (facts.exists(MASTER_PATHS.users)) {
    actions.push({ kind: 'keep', what: MASTER_PATHS.users, why: 'broker accounts exist' });
  } else {
    actions.push({
      kind: 'file',
      path: MASTER_PATHS.users,
      content: '{"version":1,"users":[]}\n',
      mode: 0o600,
      owner: SERVICE_USER,
      group: SERVICE_USER,
      why: 'the embedded broker refuses to start without it; add workers with `scanmesh user add`',
    });
  }
  if (facts.exists(MASTER_PATHS.commands)) {
    actions.push({ kind: 'keep', what: MASTER_PATHS.commands, why: 'your commands stay' });
  } else {
    actions.push({
      kind: 'file',
      path: MASTER_PATHS.commands,
      content: COMMANDS_HEADER,
      mode: 0o644,
      owner: 'root',
      group: 'root',
      why: 'the job list; empty (comments only) until you add lines',
    });
  }
  const values: Record<string, unknown> = {
    commands: MASTER_PATHS.commands,
    port: o.port,
    bind: o.bind,
    users: MASTER_PATHS.users,
    stateDir: MASTER_PATHS.stateDir,
    influxUrl: o.influxUrl,
    influxUsername: o.influxUsername,
    scope: o.scope,
    exclude: o.exclude,
  };
  actions.push({
    kind: 'file',
    path: MASTER_PATHS.config,
    content: renderConfig(exampleConfig('master'), masterSpec, values),
    mode: 0o640,
    owner: 'root',
    group: SERVICE_USER,
    why: 'the master reads it at start (no passwords in it: those are in master.env)',
  });
  if (o.influxPassword !== undefined) {
    actions.push({
      kind: 'file',
      path: MASTER_PATHS.env,
      content: `${envLine('SCANMESH_INFLUX_PASSWORD', o.influxPassword)}\n`,
      display: `SCANMESH_INFLUX_PASSWORD='****'`,
      mode: 0o600,
      owner: 'root',
      group: 'root',
      why: 'the InfluxDB password, readable by root only; systemd passes it to the master',
    });
  }
  actions.push({
    kind: 'file',
    path: MASTER_PATHS.unit,
    content: masterUnit({
      node: o.node,
      appDir: o.appDir,
      configFile: MASTER_PATHS.config,
      envFile: MASTER_PATHS.env,
      user: SERVICE_USER,
      stateDirectory: 'scanmesh-master',
    }),
    mode: 0o644,
    owner: 'root',
    group: 'root',
    why: 'runs the master at boot, sandboxed, without any capability',
  });
  actions.push(...enableUnit('scanmesh-master.service', o));
  return actions;
}
