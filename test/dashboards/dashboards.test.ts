import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  allPanels,
  DATASOURCE_UID,
  extractQueries,
  loadDashboards,
  type Dashboard,
  type Panel,
} from './dashboard-queries.ts';

/**
 * The provisioning and the dashboards' shape, without InfluxDB: the panels the issue asks for are
 * there by title, every dashboard carries the port change annotations, the template variables are
 * built from SHOW TAG VALUES, and everything points at the provisioned datasource.
 */

const GRAFANA = fileURLToPath(new URL('../../broker/grafana/', import.meta.url));
const dashboards = await loadDashboards(`${GRAFANA}dashboards`);

function find(title: string): Dashboard {
  const found = dashboards.find((d) => d.dashboard.title === title);
  if (!found) throw new Error(`no dashboard titled ${title}`);
  return found.dashboard;
}

function panel(d: Dashboard, title: string): Panel {
  const found = allPanels(d).find((p) => p.title === title);
  if (!found) throw new Error(`${d.title} has no panel titled ${title}`);
  return found;
}

/** The InfluxQL of a panel's targets, joined: what the panel reads. */
function queriesOf(p: Panel): string {
  return (p.targets ?? []).map((t) => String(t.query)).join('\n');
}

const REQUIRED: Record<string, Record<string, { type: string; reads: RegExp }>> = {
  'Mesh overview': {
    'Workers by state': { type: 'timeseries', reads: /FROM "worker"/ },
    'Jobs done / failed per interval': {
      type: 'timeseries',
      reads: /FROM "scan".*GROUP BY .*"status"/,
    },
    'Queue length': { type: 'stat', reads: /last\("queue"\) .*FROM "master"/ },
    'Outbox backlog': { type: 'stat', reads: /last\("backlog"\) .*FROM "master"/ },
    'Queue length and backlog': { type: 'timeseries', reads: /"queue".*"backlog".*FROM "master"/ },
    'Active workers': { type: 'stat', reads: /"workers_active".*FROM "master"/ },
    'Active workers over time': { type: 'timeseries', reads: /"workers_active".*FROM "master"/ },
    Workers: { type: 'table', reads: /FROM "worker"/ },
  },
  'Hosts and ports': {
    'Open ports, services and versions': {
      type: 'table',
      reads: /"service", "product", "version".*FROM "port".*"open" = 1/,
    },
    'Hosts up / down': { type: 'table', reads: /FROM "host".*GROUP BY "host", "status"/ },
    'Open ports': { type: 'stat', reads: /FROM "port"/ },
  },
  Changes: {
    'Change timeline': { type: 'table', reads: /"before", "after".*FROM "port_change"/ },
    'Changes per interval, by kind': { type: 'timeseries', reads: /FROM "port_change"/ },
  },
  'Worker detail': {
    'State over time': { type: 'state-timeline', reads: /last\("state"\).*FROM "worker"/ },
    'Jobs done / failed': {
      type: 'timeseries',
      reads: /"jobs_done".*"jobs_failed".*FROM "worker"/,
    },
    'Scans ended per interval, by status': { type: 'timeseries', reads: /FROM "scan"/ },
    'Scan durations': { type: 'timeseries', reads: /"duration_s".*FROM "scan"/ },
    'Request counter': { type: 'timeseries', reads: /"request_counter".*FROM "worker"/ },
  },
};

describe('the datasource provisioning', () => {
  const file = parse(readFileSync(`${GRAFANA}provisioning/datasources/scanmesh.yml`, 'utf8')) as {
    apiVersion: number;
    datasources: Record<string, unknown>[];
  };

  it('is InfluxDB with InfluxQL on the compose influxdb service, database scanmesh', () => {
    expect(file.apiVersion).toBe(1);
    expect(file.datasources).toHaveLength(1);
    expect(file.datasources[0]).toMatchObject({
      uid: DATASOURCE_UID,
      type: 'influxdb',
      access: 'proxy',
      url: 'http://influxdb:8086',
      jsonData: { version: 'InfluxQL', dbName: 'scanmesh' },
    });
  });
});

describe('the dashboard provider', () => {
  it('loads the dashboards from files, into a scanmesh folder, and keeps UI edits off them', () => {
    const file = parse(readFileSync(`${GRAFANA}provisioning/dashboards/scanmesh.yml`, 'utf8')) as {
      providers: Record<string, unknown>[];
    };
    expect(file.providers).toEqual([
      expect.objectContaining({
        type: 'file',
        folder: 'scanmesh',
        allowUiUpdates: false,
        options: expect.objectContaining({ path: '/etc/grafana/dashboards/scanmesh' }),
      }),
    ]);
  });
});

describe('the dashboards', () => {
  it('are the four the issue asks for, with unique uids', () => {
    expect(dashboards.map((d) => d.dashboard.title).sort()).toEqual(Object.keys(REQUIRED).sort());
    const uids = dashboards.map((d) => d.dashboard.uid);
    expect(new Set(uids).size).toBe(uids.length);
    for (const uid of uids) expect(uid).toMatch(/^scanmesh-[a-z-]+$/);
  });

  describe.each(dashboards)('$file', ({ dashboard }) => {
    const required = REQUIRED[dashboard.title ?? ''] ?? {};

    it('is Grafana 10 JSON for import or provisioning', () => {
      expect(dashboard.schemaVersion).toBe(39);
      expect((dashboard as { id?: unknown }).id).toBeNull();
      expect((dashboard as { tags?: string[] }).tags).toContain('scanmesh');
    });

    it.each(Object.entries(required))('has the panel "%s"', (title, want) => {
      const p = panel(dashboard, title);
      expect(p.type).toBe(want.type);
      expect(queriesOf(p).replace(/\n/g, ' ')).toMatch(want.reads);
    });

    it('names each panel once', () => {
      const titles = allPanels(dashboard).map((p) => p.title);
      expect(new Set(titles).size).toBe(titles.length);
    });

    it('lays its panels out without overlaps, within 24 columns, with unique ids', () => {
      const panels = allPanels(dashboard) as (Panel & {
        gridPos: { x: number; y: number; w: number; h: number };
      })[];
      const ids = panels.map((p) => p.id);
      expect(new Set(ids).size).toBe(ids.length);
      for (const [i, a] of panels.entries()) {
        expect(a.gridPos.x + a.gridPos.w, a.title).toBeLessThanOrEqual(24);
        for (const b of panels.slice(i + 1)) {
          const apart =
            a.gridPos.x + a.gridPos.w <= b.gridPos.x ||
            b.gridPos.x + b.gridPos.w <= a.gridPos.x ||
            a.gridPos.y + a.gridPos.h <= b.gridPos.y ||
            b.gridPos.y + b.gridPos.h <= a.gridPos.y;
          expect(apart, `${a.title} overlaps ${b.title}`).toBe(true);
        }
      }
    });

    it('shows port changes as annotations', () => {
      const { queries } = extractQueries(dashboard);
      const annotations = queries.filter((q) => q.kind === 'annotation');
      expect(annotations).toHaveLength(1);
      expect(annotations[0]?.query).toMatch(/FROM "port_change" WHERE \$timeFilter/);
      expect(annotations[0]?.columns).toEqual(['after', 'change', 'host', 'port', 'protocol']);
    });

    it('reads only from the provisioned datasource, in raw InfluxQL', () => {
      expect(extractQueries(dashboard).problems).toEqual([]);
    });

    it('links only to dashboards that exist', () => {
      const uids = new Set(dashboards.map((d) => d.dashboard.uid));
      const linked = [...JSON.stringify(dashboard).matchAll(/\/d\/([\w-]+)/g)].map((m) => m[1]);
      for (const uid of linked) expect(uids).toContain(uid);
    });
  });

  it('filter hosts and ports by host and worker, from SHOW TAG VALUES, several at once', () => {
    const vars = find('Hosts and ports').templating?.list ?? [];
    expect(vars.map((v) => [v.name, v.query, v.multi, v.includeAll])).toEqual([
      ['host', 'SHOW TAG VALUES FROM "port" WITH KEY = "host"', true, true],
      ['worker', 'SHOW TAG VALUES FROM "worker" WITH KEY = "worker"', true, true],
    ]);
    for (const p of allPanels(find('Hosts and ports'))) {
      const q = queriesOf(p);
      if (q.includes('FROM "port"') || q.includes('FROM "host"')) {
        expect(q, p.title).toContain('"host" =~ /^$host$/');
        expect(q, p.title).toContain('"worker" =~ /^$worker$/');
      }
    }
  });

  it('show a worker in detail, chosen by a variable that every panel uses', () => {
    const d = find('Worker detail');
    expect(d.templating?.list?.map((v) => [v.name, v.query])).toEqual([
      ['worker', 'SHOW TAG VALUES FROM "worker" WITH KEY = "worker"'],
    ]);
    for (const p of allPanels(d))
      expect(queriesOf(p), p.title).toContain('"worker" =~ /^$worker$/');
  });
});
