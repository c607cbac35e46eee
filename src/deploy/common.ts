import { isAbsolute } from 'node:path';
import { ScanmeshError } from '../errors.ts';
import type { Action } from './actions.ts';

/** The service account both units run as. */
export const SERVICE_USER = 'scanmesh';
export const CONFIG_DIR = '/etc/scanmesh';
export const UNIT_DIR = '/etc/systemd/system';

/** What the planners need to know about the host; probed read-only (facts.ts). */
export interface HostFacts {
  /** Absolute path of nmap on PATH, or null. */
  nmapPath: string | null;
  userExists: boolean;
  /** Paths (on the target, before any --prefix) that already exist. */
  exists(path: string): boolean;
}

export interface ServiceOptions {
  /** The scanmesh checkout the unit runs (src/cli/bin.js, node_modules). */
  appDir: string;
  /** The node binary the unit runs. */
  node: string;
  /** Enable and (re)start the unit; false: only enable it. */
  start: boolean;
}

export function serviceUser(facts: HostFacts): Action {
  if (facts.userExists) {
    return { kind: 'keep', what: `user ${SERVICE_USER}`, why: 'the system user exists' };
  }
  return {
    kind: 'run',
    argv: [
      'useradd',
      '--system',
      '--user-group',
      '--home-dir',
      '/var/lib/scanmesh',
      '--no-create-home',
      '--shell',
      '/usr/sbin/nologin',
      SERVICE_USER,
    ],
    why: 'the services run as this unprivileged system user, never as root',
  };
}

export function configDir(): Action {
  return {
    kind: 'dir',
    path: CONFIG_DIR,
    mode: 0o750,
    owner: 'root',
    group: SERVICE_USER,
    why: 'root writes the configuration; the service user may only read it',
  };
}

export function enableUnit(unitName: string, o: ServiceOptions): Action[] {
  const actions: Action[] = [
    { kind: 'run', argv: ['systemctl', 'daemon-reload'], why: `load the new ${unitName}` },
    {
      kind: 'run',
      argv: ['systemctl', 'enable', unitName],
      why: 'start it on every boot (after network-online.target)',
    },
  ];
  if (o.start) {
    actions.push({
      kind: 'run',
      argv: ['systemctl', 'restart', unitName],
      why: 'start it now, or restart it so a reinstall takes effect',
    });
  }
  return actions;
}

/**
 * Paths go into ExecStart= unquoted, and ProtectHome=true hides /home, /root and /run/user from
 * the service: refuse what would only fail once systemd starts the unit.
 */
export function checkServicePaths(o: ServiceOptions): void {
  for (const [what, path] of [
    ['--app-dir', o.appDir],
    ['--node', o.node],
  ] as const) {
    if (!isAbsolute(path) || /[\s"'\\$%;]/.test(path)) {
      throw new ScanmeshError(
        'SCANMESH_INSTALL_FAILED',
        `${what} ${path}: must be an absolute path without spaces, quotes, "$", "%", ";" or "\\"`,
      );
    }
    if (/^\/(home|root|run\/user)(\/|$)/.test(path)) {
      throw new ScanmeshError(
        'SCANMESH_INSTALL_FAILED',
        `${what} ${path}: the unit's ProtectHome=true hides home directories from the service; ` +
          'put scanmesh (and node) elsewhere, e.g. sudo git clone … /opt/scanmesh',
      );
    }
  }
}
