import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseUsers } from '../../src/broker/users.ts';
import { WORKER_NODE_FLAGS } from '../../src/cli/node-flags.js';
import { loadConfig } from '../../src/config/load.ts';
import { masterSpec, workerSpec } from '../../src/config/roles.ts';
import { tempDir } from '../harness/in-process.ts';

const BIN = fileURLToPath(new URL('../../src/cli/bin.js', import.meta.url));
const APP = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '');

function scanmesh(args: string[]) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args]);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const which = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const HAS_ANALYZE = which('systemd-analyze');

/** systemd's own checks of a unit file: verify (syntax, ExecStart) and the sandbox score. */
function analyze(unitPath: string): { verify: string; exposure: number } {
  const verify = spawnSync('systemd-analyze', ['verify', unitPath], { encoding: 'utf8' });
  const security = spawnSync('systemd-analyze', ['security', '--offline=true', unitPath], {
    encoding: 'utf8',
  });
  const score = /Overall exposure level for \S+: ([\d.]+)/.exec(security.stdout + security.stderr);
  return { verify: `${verify.stdout}${verify.stderr}`.trim(), exposure: Number(score?.[1]) };
}

const mode = async (path: string) => (await stat(path)).mode & 0o777;
const directives = (unit: string) => unit.split('\n').filter((l) => /^[A-Z]\w*=/.test(l));

/**
 * The installers as a person runs them, but with --prefix (files staged in a temp dir, no
 * command run) or --dry-run (nothing written): nothing here creates a user, installs a package
 * or enables a unit on this machine.
 */
describe('scanmesh install-worker / install-master', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let keyFile: string;
  let passwordFile: string;
  const password = "pa ss'w$rd-9f3e";

  beforeAll(async () => {
    dir = await tempDir('install');
    keyFile = join(dir.path, 'master.pub');
    const { publicKey } = generateKeyPairSync('ed25519');
    await writeFile(keyFile, publicKey.export({ type: 'spki', format: 'pem' }));
    passwordFile = join(dir.path, 'password');
    await writeFile(passwordFile, `${password}\n`);
  });
  afterAll(() => dir.remove());

  const workerArgs = (prefix: string) => [
    'install-worker',
    '--prefix',
    prefix,
    '--broker-url',
    'mqtt://10.20.0.1:1883',
    '--master-key',
    keyFile,
    '--username',
    'pi-07',
    '--password-file',
    passwordFile,
    '--scope',
    '10.20.0.0/16',
    '--slots',
    '2',
    '--app-dir',
    APP,
  ];

  it('--dry-run prints every step with file contents, masks the password, writes nothing', async () => {
    const prefix = join(dir.path, 'dry');
    const run = await scanmesh([...workerArgs(prefix), '--dry-run']);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(existsSync(prefix)).toBe(false);
    for (const step of [
      'dir   /etc/scanmesh (root:scanmesh 0750)',
      'file  /etc/scanmesh/worker.yml (root:scanmesh 0640)',
      'file  /etc/scanmesh/worker.env (root:root 0600)',
      'file  /etc/scanmesh/master.pub (root:root 0644)',
      'file  /etc/systemd/system/scanmesh-worker.service (root:root 0644)',
      'run   systemctl enable scanmesh-worker.service',
      '      | AmbientCapabilities=CAP_NET_RAW CAP_NET_ADMIN',
      '      |   url: mqtt://10.20.0.1:1883',
      "      | SCANMESH_PASSWORD='****'",
    ]) {
      expect(run.stdout).toContain(step);
    }
    expect(run.stdout).not.toContain('9f3e');
  });

  it('stages a worker whose config loads, whose secret stays apart, whose unit systemd accepts', async () => {
    const prefix = join(dir.path, 'worker');
    const run = await scanmesh(workerArgs(prefix));
    expect(run).toMatchObject({ code: 0, stderr: '' });
    // Commands act on the live system: with a prefix each is listed and skipped.
    expect(run.stdout).toMatch(/run {3}systemctl enable scanmesh-worker.service\n {6}skipped/);

    const etc = join(prefix, 'etc/scanmesh');
    expect((await readdir(etc)).sort()).toEqual(['master.pub', 'worker.env', 'worker.yml']);
    expect(await mode(join(etc, 'worker.yml'))).toBe(0o640);
    expect(await mode(join(etc, 'worker.env'))).toBe(0o600);
    expect(await mode(join(prefix, 'etc/scanmesh'))).toBe(0o750);

    const { config } = loadConfig<Record<string, unknown>>(workerSpec, {
      flags: {},
      env: {},
      file: join(etc, 'worker.yml'),
    });
    expect(config).toMatchObject({
      brokerUrl: 'mqtt://10.20.0.1:1883',
      username: 'pi-07',
      id: 'pi-07',
      slots: 2,
      scope: ['10.20.0.0/16'],
      masterKey: '/etc/scanmesh/master.pub',
      stateDir: '/var/lib/scanmesh',
    });
    expect(config.password).toBeUndefined();
    expect(await readFile(join(etc, 'master.pub'), 'utf8')).toBe(await readFile(keyFile, 'utf8'));

    // What systemd will hand the worker as SCANMESH_PASSWORD, parsed the way a shell would.
    const env = await readFile(join(etc, 'worker.env'), 'utf8');
    const parsed = execFileSync(
      'sh',
      ['-c', `set -a; . '${join(etc, 'worker.env')}'; printf %s "$SCANMESH_PASSWORD"`],
      {
        encoding: 'utf8',
      },
    );
    expect(parsed).toBe(password);
    expect(env.trim().split('\n')).toHaveLength(1);

    const unitPath = join(prefix, 'etc/systemd/system/scanmesh-worker.service');
    const unit = await readFile(unitPath, 'utf8');
    expect(unit).not.toContain('9f3e');
    expect(directives(unit)).toEqual(
      expect.arrayContaining([
        'After=network-online.target',
        'Wants=network-online.target',
        'Restart=always',
        'RestartSec=5',
        'User=scanmesh',
        'StateDirectory=scanmesh',
        'ProtectSystem=strict',
        'ProtectHome=true',
        'PrivateTmp=true',
        'NoNewPrivileges=true',
        'AmbientCapabilities=CAP_NET_RAW CAP_NET_ADMIN',
        'CapabilityBoundingSet=CAP_NET_RAW CAP_NET_ADMIN',
        'Environment=NMAP_PRIVILEGED=1',
        'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX AF_NETLINK AF_PACKET',
        'EnvironmentFile=-/etc/scanmesh/worker.env',
        `ExecStart=${process.execPath} ${WORKER_NODE_FLAGS.join(' ')} ${APP}/src/cli/bin.js worker --config /etc/scanmesh/worker.yml`,
        'WantedBy=multi-user.target',
      ]),
    );
    expect(directives(unit).some((l) => l.startsWith('MemoryDenyWriteExecute'))).toBe(false);
  });

  it.skipIf(!HAS_ANALYZE)(
    'systemd-analyze verifies both units and rates their sandbox',
    async () => {
      const prefix = join(dir.path, 'analyze');
      expect((await scanmesh(workerArgs(prefix))).code).toBe(0);
      expect((await scanmesh(['install-master', '--prefix', prefix, '--app-dir', APP])).code).toBe(
        0,
      );
      for (const role of ['worker', 'master']) {
        const { verify, exposure } = analyze(
          join(prefix, `etc/systemd/system/scanmesh-${role}.service`),
        );
        // verify exits 0 even on unknown keys and bad values; it only says so: it must say nothing.
        expect(verify, role).toBe('');
        // systemd rates 0 (locked down) … 10 (exposed); a unit without sandboxing scores 9.6.
        expect(exposure, role).toBeLessThan(3);
      }
    },
  );

  it.skipIf(!HAS_ANALYZE)(
    'a broken unit would be caught: verify names a missing ExecStart binary',
    async () => {
      const prefix = join(dir.path, 'broken');
      const run = await scanmesh([...workerArgs(prefix), '--node', '/opt/no-such-node']);
      expect(run.code).toBe(0);
      const { verify } = analyze(join(prefix, 'etc/systemd/system/scanmesh-worker.service'));
      expect(verify).toMatch(/no-such-node/);
    },
  );

  it('stages a master: config, empty users and commands files, a unit without capabilities', async () => {
    const prefix = join(dir.path, 'master');
    const run = await scanmesh([
      'install-master',
      '--prefix',
      prefix,
      '--app-dir',
      APP,
      '--influx-url',
      'http://127.0.0.1:8086',
      '--scope',
      '10.20.0.0/16',
    ]);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    const { config } = loadConfig<Record<string, unknown>>(masterSpec, {
      flags: {},
      env: {},
      file: join(prefix, 'etc/scanmesh/master.yml'),
    });
    expect(config).toMatchObject({
      bind: '0.0.0.0',
      users: '/var/lib/scanmesh-master/users.json',
      stateDir: '/var/lib/scanmesh-master',
      commands: '/etc/scanmesh/commands.txt',
      influxUrl: 'http://127.0.0.1:8086',
      scope: ['10.20.0.0/16'],
    });
    const users = join(prefix, 'var/lib/scanmesh-master/users.json');
    expect(parseUsers(await readFile(users, 'utf8')).users).toEqual([]);
    expect(await mode(users)).toBe(0o600);
    const unit = await readFile(join(prefix, 'etc/systemd/system/scanmesh-master.service'), 'utf8');
    expect(directives(unit)).toEqual(
      expect.arrayContaining(['CapabilityBoundingSet=', 'AmbientCapabilities=', 'User=scanmesh']),
    );
    // A reinstall keeps what the operator edited.
    await writeFile(join(prefix, 'etc/scanmesh/commands.txt'), '-sT 10.20.0.1\n');
    const again = await scanmesh(['install-master', '--prefix', prefix, '--app-dir', APP]);
    expect(again.stdout).toContain('keep  /etc/scanmesh/commands.txt');
    expect(await readFile(join(prefix, 'etc/scanmesh/commands.txt'), 'utf8')).toBe(
      '-sT 10.20.0.1\n',
    );
  });

  it('refuses a private key as the master key, and an app dir under /home (exit 2)', async () => {
    const { privateKey } = generateKeyPairSync('ed25519');
    const priv = join(dir.path, 'master.key');
    await writeFile(priv, privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const args = workerArgs(join(dir.path, 'refused'));
    const bad = await scanmesh(args.map((a) => (a === keyFile ? priv : a)));
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('holds a private key');
    const home = await scanmesh([...args.slice(0, -2), '--app-dir', '/home/pi/scanmesh']);
    expect(home.code).toBe(2);
    expect(home.stderr).toContain('SCANMESH_INSTALL_FAILED');
    expect(existsSync(join(dir.path, 'refused'))).toBe(false);
  });
});
