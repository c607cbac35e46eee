import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';

/**
 * docker-compose.yml, as docker-compose itself reads it: `config -q` must accept it, and the
 * normalised `config` output must hold the services the README promises, wired to files that exist
 * in this repo. Debian's docker-compose 1.29 validates without a Docker engine; Compose v2's
 * `docker compose` prints the same model with long-form volumes and ports, which this test reads
 * too.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FILE = join(ROOT, 'docker-compose.yml');

function compose(...args: string[]) {
  return spawnSync('docker-compose', ['-f', FILE, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    // Only what the file says: no project name or file list from the caller's environment.
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp' },
    timeout: 30_000,
  });
}

const probe = spawnSync('docker-compose', ['version'], { encoding: 'utf8', timeout: 30_000 });
const missing =
  probe.error !== undefined
    ? `docker-compose is not installed (${probe.error.message}); .ci/setup installs Debian's docker-compose`
    : null;

interface Mount {
  source: string;
  target: string;
  readOnly: boolean;
  /** A named volume rather than a path on the host. */
  named: boolean;
}

interface PortMapping {
  hostIp: string;
  published: string;
  target: number;
}

interface Service {
  image?: string;
  build?: string | { context?: string; dockerfile?: string };
  command?: string[] | string;
  environment?: Record<string, string | null>;
  volumes?: (string | { type?: string; source?: string; target: string; read_only?: boolean })[];
  ports?: (string | { target: number; published?: string | number; host_ip?: string })[];
  profiles?: string[];
  cap_add?: string[];
}

interface ComposeModel {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

/** `source:target[:mode]` (1.29) or the long form (v2), the same shape either way. */
function mounts(service: Service): Mount[] {
  return (service.volumes ?? []).map((v) => {
    if (typeof v !== 'string') {
      const source = v.source ?? '';
      return {
        source,
        target: v.target,
        readOnly: v.read_only === true,
        named: v.type === 'volume',
      };
    }
    const [source = '', target = '', mode = 'rw'] = v.split(':');
    return {
      source,
      target,
      readOnly: mode.split(',').includes('ro'),
      named: !source.startsWith('/'),
    };
  });
}

/** `[ip:]published:target[/proto]` (1.29) or the long form (v2). */
function ports(service: Service): PortMapping[] {
  return (service.ports ?? []).map((p) => {
    if (typeof p !== 'string') {
      return { hostIp: p.host_ip ?? '', published: String(p.published ?? ''), target: p.target };
    }
    const m = /^(?:(.*):)?(\d+(?:-\d+)?):(\d+)(?:\/\w+)?$/.exec(p);
    if (!m) throw new Error(`unreadable port mapping ${p}`);
    return { hostIp: m[1] ?? '', published: m[2] as string, target: Number(m[3]) };
  });
}

function buildContext(service: Service): string | undefined {
  return typeof service.build === 'string' ? service.build : service.build?.context;
}

function commandLine(service: Service): string[] {
  const c = service.command ?? [];
  return typeof c === 'string' ? c.split(/\s+/) : c;
}

function mountAt(service: Service, target: string): Mount {
  const found = mounts(service).find((m) => m.target === target);
  if (!found) throw new Error(`nothing is mounted at ${target}`);
  return found;
}

describe.skipIf(missing !== null)(
  `docker-compose.yml${missing ? ` (skipped: ${missing})` : ''}`,
  () => {
    /** The file as docker-compose normalises it: paths resolved, defaults filled in. */
    let normalised: ComposeModel;
    const model = () => normalised;
    beforeAll(() => {
      const result = compose('config');
      if (result.status !== 0) throw new Error(`docker-compose config failed: ${result.stderr}`);
      normalised = parse(result.stdout) as ComposeModel;
    });

    it('validates with docker-compose config -q', () => {
      const result = compose('config', '-q');
      expect(result.stderr).toBe('');
      expect(result.status).toBe(0);
      expect(result.stdout).toBe('');
    });

    it('refuses a broken file, so the validation above means something', () => {
      const broken = spawnSync('docker-compose', ['-f', '-', 'config', '-q'], {
        cwd: ROOT,
        encoding: 'utf8',
        input: 'services:\n  influxdb:\n    image: influxdb:1.8\n    ports: 8086\n',
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp' },
        timeout: 30_000,
      });
      expect(broken.status).not.toBe(0);
      expect(broken.stderr).toMatch(/ports/);
    });

    it('has exactly the services influxdb, grafana, master and worker', () => {
      expect(Object.keys(model().services).sort()).toEqual([
        'grafana',
        'influxdb',
        'master',
        'worker',
      ]);
    });

    it('influxdb: InfluxDB 1.8 with its data on a named volume', () => {
      const m = model();
      const influxdb = m.services.influxdb as Service;
      expect(influxdb.image).toMatch(/^influxdb:1\.8(\.|$)/);
      const data = mountAt(influxdb, '/var/lib/influxdb');
      expect(data.named).toBe(true);
      expect(Object.keys(m.volumes ?? {})).toContain(data.source);
      expect(influxdb.environment?.INFLUXDB_DB).toBe('scanmesh');
    });

    it('grafana: port 3000, a volume, and the provisioning from broker/grafana mounted', () => {
      const m = model();
      const grafana = m.services.grafana as Service;
      expect(grafana.image).toMatch(/^grafana\/grafana:10\./);
      expect(ports(grafana).map((p) => p.target)).toContain(3000);
      const data = mountAt(grafana, '/var/lib/grafana');
      expect(data.named).toBe(true);
      expect(Object.keys(m.volumes ?? {})).toContain(data.source);

      // Each bind mount comes from this repo, read-only, and holds what Grafana will look for.
      const datasources = mountAt(grafana, '/etc/grafana/provisioning/datasources');
      const providers = mountAt(grafana, '/etc/grafana/provisioning/dashboards');
      for (const mount of [datasources, providers]) {
        expect(mount.readOnly).toBe(true);
        expect(statSync(mount.source).isDirectory()).toBe(true);
      }
      expect(resolve(datasources.source)).toBe(
        join(ROOT, 'broker/grafana/provisioning/datasources'),
      );
      expect(existsSync(join(datasources.source, 'scanmesh.yml'))).toBe(true);
      expect(existsSync(join(providers.source, 'scanmesh.yml'))).toBe(true);

      // The provider reads dashboards where compose mounts broker/grafana/dashboards.
      const provider = parse(readFileSync(join(providers.source, 'scanmesh.yml'), 'utf8')) as {
        providers: { options: { path: string } }[];
      };
      const path = provider.providers[0]?.options.path as string;
      const dashboards = mountAt(grafana, path);
      expect(dashboards.readOnly).toBe(true);
      expect(resolve(dashboards.source)).toBe(join(ROOT, 'broker/grafana/dashboards'));

      // The home dashboard is one of the mounted files.
      const home = grafana.environment?.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH as string;
      expect(home.startsWith(`${path}/`)).toBe(true);
      expect(existsSync(join(dashboards.source, home.slice(path.length + 1)))).toBe(true);
    });

    it('grafana: the datasource points at the influxdb service', () => {
      const m = model();
      const grafana = m.services.grafana as Service;
      const dir = mountAt(grafana, '/etc/grafana/provisioning/datasources').source;
      const file = parse(readFileSync(join(dir, 'scanmesh.yml'), 'utf8')) as {
        datasources: { url: string }[];
      };
      const url = new URL(file.datasources[0]?.url as string);
      // On the compose network a service's name is its host name; InfluxDB listens on 8086 there
      // whatever the host publishes.
      expect(url.hostname).toBe('influxdb');
      expect(Object.keys(m.services)).toContain(url.hostname);
      expect(url.port).toBe('8086');
    });

    it('master: built from the repo Dockerfile, commands and state on volumes, port 1883', () => {
      const m = model();
      const master = m.services.master as Service;
      expect(resolve(buildContext(master) as string)).toBe(resolve(ROOT));
      const dockerfile = typeof master.build === 'object' ? master.build.dockerfile : undefined;
      expect(existsSync(join(ROOT, dockerfile ?? 'Dockerfile'))).toBe(true);

      const args = commandLine(master);
      expect(args[0]).toBe('master');
      const commandsFile = args[args.indexOf('--commands') + 1] as string;
      const stateDir = args[args.indexOf('--state-dir') + 1] as string;
      // The commands file lives on a bind mount of the repo's commands/ folder.
      const commands = mounts(master).find((x) => commandsFile.startsWith(`${x.target}/`));
      expect(commands?.source && resolve(commands.source)).toBe(join(ROOT, 'commands'));
      expect(
        existsSync(join(ROOT, 'commands', commandsFile.slice((commands?.target.length ?? 0) + 1))),
      ).toBe(true);
      const state = mountAt(master, stateDir);
      expect(state.named).toBe(true);
      expect(state.readOnly).toBe(false);
      expect(Object.keys(m.volumes ?? {})).toContain(state.source);

      expect(ports(master).map((p) => p.target)).toContain(1883);
      expect(master.environment?.SCANMESH_INFLUX_URL).toBe('http://influxdb:8086');
    });

    it('worker: under a profile, with NET_RAW and NET_ADMIN, talking to the master', () => {
      const m = model();
      const worker = m.services.worker as Service;
      expect(worker.profiles).toEqual(['worker']);
      expect(worker.cap_add).toEqual(expect.arrayContaining(['NET_RAW', 'NET_ADMIN']));
      expect(resolve(buildContext(worker) as string)).toBe(resolve(ROOT));
      const args = commandLine(worker);
      expect(args[0]).toBe('worker');
      const broker = new URL(args[args.indexOf('--broker-url') + 1] as string);
      expect(broker.hostname).toBe('master');
      expect(broker.port).toBe('1883');
    });
  },
);
