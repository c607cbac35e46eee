import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.ts';
import { createInfluxWriter } from '../../src/storage/influx-writer.ts';
import { startInfluxd, type InfluxdHandle } from '../harness/influxd.ts';
import {
  allPanels,
  extractQueries,
  loadDashboards,
  type Dashboard,
  type Problem,
} from './dashboard-queries.ts';
import {
  checkDashboard,
  httpQuery,
  readSchema,
  type CheckOptions,
  type RunQuery,
  type Schema,
} from './query-checker.ts';
import { seedMesh, WORKERS } from './seed.ts';

/**
 * Every InfluxQL query in the provisioned dashboards, run against a private influxd holding a mesh's
 * history written by the real writer and point builders: each must run, return rows, fill every
 * column and name only measurements, fields and tags that exist. The second half feeds the same
 * checker deliberately broken copies of a dashboard and expects each breakage to be reported.
 */

const DIR = fileURLToPath(new URL('../../broker/grafana/dashboards/', import.meta.url));
const DATABASE = 'scanmesh';
const dashboards = await loadDashboards(DIR);

describe('dashboard queries against a real influxd', () => {
  let influxd: InfluxdHandle;
  let run: RunQuery;
  let schema: Schema;
  let options: CheckOptions;

  beforeAll(async () => {
    influxd = await startInfluxd();
    const writer = createInfluxWriter({
      url: influxd.url,
      database: DATABASE,
      logger: createLogger({ level: 'silent' }),
    });
    // Whole minutes, three hours ago: every point lies well inside the default retention.
    const baseMs = Math.floor((Date.now() - 3 * 3_600_000) / 60_000) * 60_000;
    const seeded = await seedMesh(writer, baseMs);
    run = httpQuery(influxd.url, DATABASE);
    schema = await readSchema(run);
    // What Grafana would send for a range a little wider than the data.
    options = {
      fromMs: seeded.fromMs - 5 * 60_000,
      toMs: seeded.toMs + 5 * 60_000,
      interval: '1m',
    };
  });

  afterAll(async () => {
    await influxd?.stop();
  });

  it('finds the four dashboards', () => {
    expect(dashboards.map((d) => d.file)).toEqual([
      'changes.json',
      'hosts-and-ports.json',
      'mesh-overview.json',
      'worker-detail.json',
    ]);
  });

  it('holds every measurement the dashboards read', () => {
    expect([...schema.keys()].sort()).toEqual([
      'host',
      'master',
      'port',
      'port_change',
      'scan',
      'worker',
    ]);
  });

  describe.each(dashboards)('$file', ({ dashboard }) => {
    it('every panel, variable and annotation query runs and returns rows', async () => {
      const report = await checkDashboard(dashboard, run, schema, options);
      expect(report.problems).toEqual([]);
      // Variables once each; panels and annotations twice (all values, first value).
      const { queries } = extractQueries(dashboard);
      const variables = queries.filter((q) => q.kind === 'variable').length;
      expect(queries.length).toBeGreaterThan(variables);
      expect(report.executed).toBe(variables + 2 * (queries.length - variables));
      for (const [name, values] of report.variables) {
        expect(values.length, `values of $${name}`).toBeGreaterThan(1);
      }
    });
  });

  it('resolves $worker to the workers that reported, sorted', async () => {
    const overview = find('Worker detail');
    const report = await checkDashboard(overview, run, schema, options);
    expect(report.variables.get('worker')).toEqual([...WORKERS]);
  });

  describe('reports a broken dashboard', () => {
    /** Problems the checker finds in a copy of `title` with `from` replaced by `to` in one query. */
    async function breakQuery(
      title: string,
      panelTitle: string,
      from: string,
      to: string,
    ): Promise<Problem[]> {
      const broken = structuredClone(find(title));
      const panel = allPanels(broken).find((p) => p.title === panelTitle);
      const target = panel?.targets?.find(
        (t) => typeof t.query === 'string' && t.query.includes(from),
      );
      if (typeof target?.query !== 'string') {
        throw new Error(`panel "${panelTitle}" of ${title} has no query containing ${from}`);
      }
      target.query = target.query.replace(from, to);
      return (await checkDashboard(broken, run, schema, options)).problems;
    }

    it('a field that does not exist', async () => {
      const problems = await breakQuery(
        'Mesh overview',
        'Active workers',
        '"workers_active"',
        '"workers_activ"',
      );
      expect(problems).toContainEqual(
        expect.objectContaining({
          where: 'panel "Active workers" target A',
          problem: 'names "workers_activ", which is not a field or tag of "master"',
        }),
      );
      // InfluxDB itself answers with nothing, which the checker reports too.
      expect(problems).toContainEqual(expect.objectContaining({ problem: 'returned no rows' }));
    });

    it('a measurement that does not exist', async () => {
      const problems = await breakQuery(
        'Mesh overview',
        'Jobs done / failed per interval',
        'FROM "scan"',
        'FROM "scans"',
      );
      expect(problems.map((p) => p.problem)).toEqual(
        expect.arrayContaining([
          'reads measurement "scans", which does not exist',
          'returned no rows',
        ]),
      );
    });

    it('a tag that does not exist, although InfluxDB answers with rows', async () => {
      // `scan` has no tag `state`: InfluxDB groups everything under an empty `state` and returns
      // rows, so only the comparison with the tag keys catches it.
      const problems = await breakQuery(
        'Mesh overview',
        'Jobs done / failed per interval',
        'GROUP BY time($__interval), "status"',
        'GROUP BY time($__interval), "state"',
      );
      expect(problems.map((p) => p.problem)).toEqual([
        'names "state", which is not a tag of "scan"',
        'names "state", which is not a tag of "scan"',
      ]);
    });

    it('a field grouped by as if it were a tag', async () => {
      const problems = await breakQuery(
        'Worker detail',
        'Running jobs',
        'GROUP BY time($__interval), "worker"',
        'GROUP BY time($__interval), "active"',
      );
      expect(problems).toContainEqual(
        expect.objectContaining({ problem: 'names "active", which is not a tag of "worker"' }),
      );
    });

    it('a second column that names nothing: rows, but a null column', async () => {
      const problems = await breakQuery(
        'Mesh overview',
        'Queue length and backlog',
        'max("backlog") AS "backlog"',
        'max("backlogg") AS "backlog"',
      );
      expect(problems.map((p) => p.problem)).toEqual(
        expect.arrayContaining([
          'names "backlogg", which is not a field or tag of "master"',
          'column "backlog" is null in every row',
        ]),
      );
    });

    it('a tag value that never occurs', async () => {
      const problems = await breakQuery(
        'Mesh overview',
        'Workers by state',
        `"state" = 'INACTIVE'`,
        `"state" = 'OFFLINE'`,
      );
      // Targets A and B still return rows; the broken target C does not.
      expect(problems).toEqual([
        expect.objectContaining({
          where: 'panel "Workers by state" target C',
          problem: 'returned no rows',
        }),
      ]);
    });

    it('a subquery that renames what the outer query reads', async () => {
      const problems = await breakQuery(
        'Hosts and ports',
        'Open ports',
        'last("open") AS "open"',
        'last("open") AS "is_open"',
      );
      expect(problems).toContainEqual(
        expect.objectContaining({
          problem: 'names "open", which is not a field or tag of its subquery',
        }),
      );
    });

    it('an unquoted identifier', async () => {
      const problems = await breakQuery(
        'Worker detail',
        'Running jobs',
        '"worker" =~',
        'worker =~',
      );
      expect(problems).toContainEqual(
        expect.objectContaining({
          problem: 'uses the unquoted word worker: quote identifiers ("worker") or fix the keyword',
        }),
      );
    });

    it('a variable the dashboard does not define', async () => {
      const problems = await breakQuery('Hosts and ports', 'Open ports', '$host', '$hots');
      expect(problems).toContainEqual(
        expect.objectContaining({ problem: 'uses $hots, which the dashboard does not define' }),
      );
    });

    it('a variable query on a tag that does not exist', async () => {
      const broken = structuredClone(find('Hosts and ports'));
      const host = broken.templating?.list?.find((v) => v.name === 'host');
      if (!host) throw new Error('no $host');
      host.query = 'SHOW TAG VALUES FROM "port" WITH KEY = "address"';
      const { problems } = await checkDashboard(broken, run, schema, options);
      expect(problems).toContainEqual(
        expect.objectContaining({
          where: 'variable $host',
          problem: 'names "address", which is not a tag of "port"',
        }),
      );
      expect(problems).toContainEqual(
        expect.objectContaining({ where: 'variable $host', problem: 'returned no rows' }),
      );
    });

    it('an annotation whose text column the query does not return', async () => {
      const broken = structuredClone(find('Changes'));
      const annotation = broken.annotations?.list?.find((a) => a.name === 'Port changes');
      if (!annotation?.target) throw new Error('no port change annotation');
      annotation.target.textColumn = 'summary';
      const { problems } = await checkDashboard(broken, run, schema, options);
      expect(problems).toContainEqual(
        expect.objectContaining({
          where: 'annotation "Port changes"',
          problem: 'annotation column "summary" is not among the columns returned',
        }),
      );
    });

    it('a target built in the visual editor, with no raw InfluxQL to check', async () => {
      const broken = structuredClone(find('Mesh overview'));
      const target = allPanels(broken).find((p) => p.title === 'Queue length')?.targets?.[0];
      if (!target) throw new Error('no Queue length target');
      target.rawQuery = false;
      const { problems } = await checkDashboard(broken, run, schema, options);
      expect(problems).toEqual([
        {
          dashboard: 'Mesh overview',
          where: 'panel "Queue length" target A',
          problem: 'is not a raw InfluxQL query (rawQuery: true, query: "SELECT …")',
        },
      ]);
    });

    it('an InfluxQL syntax error', async () => {
      const problems = await breakQuery('Changes', 'Changes', 'SELECT count', 'SELEC count');
      expect(
        problems.some((p) => p.problem.startsWith('InfluxDB refused it: error parsing query')),
      ).toBe(true);
    });
  });
});

function find(title: string): Dashboard {
  const found = dashboards.find((d) => d.dashboard.title === title);
  if (!found) throw new Error(`no dashboard titled ${title}`);
  return found.dashboard;
}
