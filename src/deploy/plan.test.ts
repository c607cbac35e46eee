import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { missingNodeFlags, WORKER_NODE_FLAGS } from '../cli/node-flags.js';
import { isScanmeshError } from '../errors.ts';
import { codeOf } from '../testkit.ts';
import type { Action } from './actions.ts';
import { applyActions } from './apply.ts';
import type { HostFacts } from './common.ts';
import { envLine, secretFromFile } from './env-file.ts';
import { MASTER_PATHS, planMasterInstall } from './master-plan.ts';
import { planWorkerInstall, type WorkerInstallOptions } from './worker-plan.ts';

const PEM =
  '-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAJg7iyIuBYK0Kr5s7HnyQpTYp1OScYCN5fGuWoqLDfnE=\n-----END PUBLIC KEY-----\n';
const bare: HostFacts = { nmapPath: null, userExists: false, exists: () => false };
const ready: HostFacts = { nmapPath: '/usr/bin/nmap', userExists: true, exists: () => true };
const worker: WorkerInstallOptions = {
  brokerUrl: 'mqtt://10.0.0.2:1883',
  masterKeyPem: PEM,
  username: 'pi-01',
  password: "it's $3cr3t",
  appDir: '/opt/scanmesh',
  node: '/usr/bin/node',
  start: true,
};

const steps = (actions: Action[]) =>
  actions.map((a) =>
    a.kind === 'run'
      ? `run ${a.argv.join(' ')}`
      : a.kind === 'keep'
        ? `keep ${a.what}`
        : `${a.kind} ${a.path}`,
  );
const fileOf = (actions: Action[], path: string) => {
  const a = actions.find((x) => x.kind === 'file' && x.path === path);
  if (!a || a.kind !== 'file') throw new Error(`no file ${path}`);
  return a;
};

describe('planWorkerInstall', () => {
  it('on a fresh Pi: nmap, the user, the files, then enable and start, in that order', () => {
    expect(steps(planWorkerInstall(worker, bare))).toEqual([
      'run apt-get update',
      'run apt-get install -y --no-install-recommends nmap',
      'run useradd --system --user-group --home-dir /var/lib/scanmesh --no-create-home --shell /usr/sbin/nologin scanmesh',
      'dir /etc/scanmesh',
      'file /etc/scanmesh/master.pub',
      'file /etc/scanmesh/worker.yml',
      'file /etc/scanmesh/worker.env',
      'file /etc/systemd/system/scanmesh-worker.service',
      'run systemctl daemon-reload',
      'run systemctl enable scanmesh-worker.service',
      'run systemctl restart scanmesh-worker.service',
    ]);
  });

  it('installs nothing twice, and --no-start only enables', () => {
    const s = steps(planWorkerInstall({ ...worker, start: false }, ready));
    expect(s.slice(0, 2)).toEqual(['keep nmap (/usr/bin/nmap)', 'keep user scanmesh']);
    expect(s.filter((x) => x.startsWith('run'))).toEqual([
      'run systemctl daemon-reload',
      'run systemctl enable scanmesh-worker.service',
    ]);
  });

  it('keeps the password out of the config and the unit, in a root-only env file', () => {
    const actions = planWorkerInstall(worker, ready);
    const env = fileOf(actions, '/etc/scanmesh/worker.env');
    expect(env).toMatchObject({ mode: 0o600, owner: 'root', group: 'root' });
    // It holds a single quote, so it is double-quoted with "$" escaped (systemd.exec(5)).
    expect(env.content).toBe(`SCANMESH_PASSWORD="it's \\$3cr3t"\n`);
    expect(env.display).not.toContain('3cr3t');
    for (const path of [
      '/etc/scanmesh/worker.yml',
      '/etc/systemd/system/scanmesh-worker.service',
    ]) {
      expect(fileOf(actions, path).content).not.toContain('3cr3t');
    }
    expect(fileOf(actions, '/etc/scanmesh/worker.yml')).toMatchObject({
      mode: 0o640,
      owner: 'root',
      group: 'scanmesh',
    });
    const yml = parse(fileOf(actions, '/etc/scanmesh/worker.yml').content);
    // The worker id follows the user name: the broker pins a worker's client id to it.
    expect(yml.worker.id).toBe('pi-01');
    expect(yml.broker).toMatchObject({ username: 'pi-01', password: null });
    expect(yml.scanning.nmap_path).toBe('/usr/bin/nmap');
  });

  it("starts the worker under the worker's V8 options, so bin.js need not relaunch it", () => {
    const unit = fileOf(
      planWorkerInstall(worker, ready),
      '/etc/systemd/system/scanmesh-worker.service',
    );
    const master = fileOf(
      planMasterInstall(
        { bind: '0.0.0.0', appDir: '/opt/scanmesh', node: '/usr/bin/node', start: true },
        ready,
      ),
      MASTER_PATHS.unit,
    );
    const execStart = (content: string) =>
      content.split('\n').find((line) => line.startsWith('ExecStart='));
    expect(execStart(unit.content)).toBe(
      `ExecStart=/usr/bin/node ${WORKER_NODE_FLAGS.join(' ')} /opt/scanmesh/src/cli/bin.js worker --config /etc/scanmesh/worker.yml`,
    );
    expect(missingNodeFlags(['worker'], execStart(unit.content)?.split(' ') ?? [])).toEqual([]);
    expect(execStart(master.content)).toBe(
      `ExecStart=/usr/bin/node /opt/scanmesh/src/cli/bin.js master --config ${MASTER_PATHS.config}`,
    );
  });

  it('for an mqtts:// broker, installs its CA and points the config at it', () => {
    const ca = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
    const actions = planWorkerInstall(
      { ...worker, brokerUrl: 'mqtts://master.lan:8883', tlsCaPem: ca },
      ready,
    );
    expect(fileOf(actions, '/etc/scanmesh/broker-ca.pem')).toMatchObject({
      content: ca,
      mode: 0o644,
    });
    const yml = parse(fileOf(actions, '/etc/scanmesh/worker.yml').content);
    expect(yml.broker).toMatchObject({
      url: 'mqtts://master.lan:8883',
      tls_ca: '/etc/scanmesh/broker-ca.pem',
    });
  });

  it('refuses what would fail only later: a bad URL, an id the broker refuses, a home directory', () => {
    expect(codeOf(() => planWorkerInstall({ ...worker, brokerUrl: 'http://x' }, ready))).toBe(
      'SCANMESH_BAD_CONFIG',
    );
    expect(codeOf(() => planWorkerInstall({ ...worker, id: 'pi-02' }, ready))).toBe(
      'SCANMESH_BAD_CONFIG',
    );
    expect(codeOf(() => planWorkerInstall({ ...worker, appDir: '/home/pi/scanmesh' }, ready))).toBe(
      'SCANMESH_INSTALL_FAILED',
    );
    expect(codeOf(() => planWorkerInstall({ ...worker, node: 'node' }, ready))).toBe(
      'SCANMESH_INSTALL_FAILED',
    );
    expect(codeOf(() => planWorkerInstall({ ...worker, appDir: '/opt/scan mesh' }, ready))).toBe(
      'SCANMESH_INSTALL_FAILED',
    );
  });
});

describe('planMasterInstall', () => {
  const master = { bind: '0.0.0.0', appDir: '/opt/scanmesh', node: '/usr/bin/node', start: true };

  it('creates the users and commands files once, and keeps them on a reinstall', () => {
    const fresh = steps(planMasterInstall(master, bare));
    expect(fresh).toContain('file /var/lib/scanmesh-master/users.json');
    expect(fresh).toContain('file /etc/scanmesh/commands.txt');
    const again = steps(planMasterInstall(master, ready));
    expect(again).toContain('keep /var/lib/scanmesh-master/users.json');
    expect(again).toContain('keep /etc/scanmesh/commands.txt');
    expect(again).not.toContain('file /etc/scanmesh/commands.txt');
  });

  it('puts the InfluxDB password in master.env only', () => {
    const actions = planMasterInstall(
      { ...master, influxUrl: 'http://127.0.0.1:8086', influxPassword: 'inf-pw' },
      ready,
    );
    expect(fileOf(actions, '/etc/scanmesh/master.env').content).toBe(
      "SCANMESH_INFLUX_PASSWORD='inf-pw'\n",
    );
    expect(fileOf(actions, '/etc/scanmesh/master.yml').content).not.toContain('inf-pw');
  });
});

describe('env files', () => {
  it('quote any password so systemd reads it back verbatim', () => {
    expect(envLine('SCANMESH_PASSWORD', 'a b"c$d\\e')).toBe(`SCANMESH_PASSWORD='a b"c$d\\e'`);
    expect(envLine('SCANMESH_PASSWORD', `x'y"z\`$\\`)).toBe(
      'SCANMESH_PASSWORD="x\'y\\"z\\`\\$\\\\"',
    );
    expect(() => envLine('SCANMESH_PASSWORD', 'a\nb')).toThrow(/line break/);
    expect(secretFromFile('pw\n', 'f')).toBe('pw');
    expect(() => secretFromFile('\n', 'f')).toThrow(/empty/);
    expect(() => secretFromFile('a\nb\n', 'f')).toThrow(/more than one line/);
  });
});

describe('applyActions', () => {
  it('refuses to install on this machine without root, before doing anything', async () => {
    const ran: string[][] = [];
    const err = await applyActions([{ kind: 'run', argv: ['true'], why: 'x' }], {
      prefix: '/',
      dryRun: false,
      out: () => undefined,
      exec: (argv) => void ran.push(argv),
      uid: 1000,
    }).catch((e: unknown) => e);
    expect(isScanmeshError(err, 'SCANMESH_INSTALL_FAILED')).toBe(true);
    expect(ran).toEqual([]);
  });

  it('with a prefix writes files with their modes and runs no command', async () => {
    const prefix = await mkdtemp(join(tmpdir(), 'scanmesh-apply-'));
    const ran: string[][] = [];
    const out: string[] = [];
    await applyActions(planWorkerInstall(worker, bare), {
      prefix,
      dryRun: false,
      out: (l) => void out.push(l),
      exec: (argv) => void ran.push(argv),
    });
    expect(ran).toEqual([]);
    expect(out.filter((l) => l.includes('skipped'))).toHaveLength(6);
    expect((await readdir(join(prefix, 'etc/scanmesh'))).sort()).toEqual([
      'master.pub',
      'worker.env',
      'worker.yml',
    ]);
  });
});
