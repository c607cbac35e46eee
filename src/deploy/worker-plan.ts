import { workerSpec } from '../config/roles.ts';
import { ScanmeshError } from '../errors.ts';
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
import { workerUnit } from './units.ts';

export const WORKER_PATHS = {
  config: `${CONFIG_DIR}/worker.yml`,
  env: `${CONFIG_DIR}/worker.env`,
  masterKey: `${CONFIG_DIR}/master.pub`,
  tlsCa: `${CONFIG_DIR}/broker-ca.pem`,
  unit: `${UNIT_DIR}/scanmesh-worker.service`,
  stateDir: '/var/lib/scanmesh',
};

export interface WorkerInstallOptions extends ServiceOptions {
  brokerUrl: string;
  /** master.pub as PEM text (already checked to be an Ed25519 public key). */
  masterKeyPem: string;
  /** For an mqtts:// broker with its own CA: that CA as PEM text. */
  tlsCaPem?: string;
  username?: string;
  password?: string;
  id?: string;
  scope?: string[];
  exclude?: string[];
  slots?: number;
  maxRate?: number;
}

/**
 * Everything `scanmesh install-worker` does, in order: nmap, the service user, the config (with
 * the password kept apart), the master's public key, the unit, enable and start.
 */
export function planWorkerInstall(o: WorkerInstallOptions, facts: HostFacts): Action[] {
  checkServicePaths(o);
  // On the embedded broker a worker's client id is pinned to its user name (broker/acl.ts).
  const id = o.id ?? o.username;
  if (o.id && o.username && o.id !== o.username) {
    throw new ScanmeshError(
      'SCANMESH_BAD_CONFIG',
      `--id ${o.id} and --username ${o.username} differ: the broker only lets a worker use the id ` +
        'that is its user name; leave out --id',
    );
  }
  const actions: Action[] = [];
  if (facts.nmapPath) {
    actions.push({ kind: 'keep', what: `nmap (${facts.nmapPath})`, why: 'nmap is installed' });
  } else {
    actions.push(
      { kind: 'run', argv: ['apt-get', 'update'], why: 'nmap is not installed' },
      {
        kind: 'run',
        argv: ['apt-get', 'install', '-y', '--no-install-recommends', 'nmap'],
        why: 'the worker runs nmap',
      },
    );
  }
  actions.push(serviceUser(facts), configDir());
  actions.push({
    kind: 'file',
    path: WORKER_PATHS.masterKey,
    content: o.masterKeyPem,
    mode: 0o644,
    owner: 'root',
    group: 'root',
    why: "the master's public key: jobs not signed by it are refused",
  });
  if (o.tlsCaPem !== undefined) {
    actions.push({
      kind: 'file',
      path: WORKER_PATHS.tlsCa,
      content: o.tlsCaPem,
      mode: 0o644,
      owner: 'root',
      group: 'root',
      why: "the CA that signed the broker's certificate (mqtts://)",
    });
  }
  const values: Record<string, unknown> = {
    brokerUrl: o.brokerUrl,
    tlsCa: o.tlsCaPem === undefined ? undefined : WORKER_PATHS.tlsCa,
    masterKey: WORKER_PATHS.masterKey,
    username: o.username,
    id,
    slots: o.slots,
    stateDir: WORKER_PATHS.stateDir,
    nmapPath: facts.nmapPath ?? '/usr/bin/nmap',
    scope: o.scope,
    exclude: o.exclude,
    maxRate: o.maxRate,
  };
  actions.push({
    kind: 'file',
    path: WORKER_PATHS.config,
    content: renderConfig(exampleConfig('worker'), workerSpec, values),
    mode: 0o640,
    owner: 'root',
    group: SERVICE_USER,
    why: 'the worker reads it at start (no password in it: that is in worker.env)',
  });
  if (o.password !== undefined) {
    actions.push({
      kind: 'file',
      path: WORKER_PATHS.env,
      content: `${envLine('SCANMESH_PASSWORD', o.password)}\n`,
      display: `SCANMESH_PASSWORD='****'`,
      mode: 0o600,
      owner: 'root',
      group: 'root',
      why: 'the MQTT password, readable by root only; systemd passes it to the worker',
    });
  }
  actions.push({
    kind: 'file',
    path: WORKER_PATHS.unit,
    content: workerUnit({
      node: o.node,
      appDir: o.appDir,
      configFile: WORKER_PATHS.config,
      envFile: WORKER_PATHS.env,
      user: SERVICE_USER,
      stateDirectory: 'scanmesh',
    }),
    mode: 0o644,
    owner: 'root',
    group: 'root',
    why: 'runs the worker at boot, sandboxed, with only the raw-socket capabilities nmap needs',
  });
  actions.push(...enableUnit('scanmesh-worker.service', o));
  return actions;
}
