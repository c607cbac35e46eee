import { describe, expect, it } from 'vitest';
import {
  DATASOURCE_UID,
  escapeRegex,
  extractQueries,
  substitute,
  UnknownVariableError,
  type Dashboard,
  type Substitution,
} from './dashboard-queries.ts';
import { analyze } from './influxql-names.ts';
import { nameProblems, type Schema } from './query-checker.ts';

/** The pure half of the dashboard query check: extraction, substitution, and reading names. */

const DS = { type: 'influxdb', uid: DATASOURCE_UID };

function subst(variables: Substitution['variables'] = new Map()): Substitution {
  return { fromMs: 1_700_000_000_000, toMs: 1_700_003_600_000, interval: '1m', variables };
}

describe('substitute', () => {
  it('writes $timeFilter the way Grafana sends it to InfluxDB', () => {
    expect(substitute('SELECT "a" FROM "m" WHERE $timeFilter', subst())).toBe(
      'SELECT "a" FROM "m" WHERE time >= 1700000000000ms and time <= 1700003600000ms',
    );
  });

  it('fills $__interval, $interval and $__interval_ms', () => {
    expect(substitute('time($__interval) time($interval) $__interval_ms', subst())).toBe(
      'time(1m) time(1m) 60000',
    );
  });

  it('turns a multi-value variable into escaped regex alternatives', () => {
    const vars = new Map([['host', { values: ['10.0.0.1', 'fd00::17', 'a/b'], regex: true }]]);
    expect(substitute('"host" =~ /^$host$/', subst(vars))).toBe(
      '"host" =~ /^(10\\.0\\.0\\.1|fd00::17|a\\/b)$/',
    );
  });

  it('escapes a single value of a multi-value variable without parentheses', () => {
    const vars = new Map([['host', { values: ['10.0.0.1'], regex: true }]]);
    expect(substitute('"host" =~ /^$host$/', subst(vars))).toBe('"host" =~ /^10\\.0\\.0\\.1$/');
  });

  it('leaves the value of a plain variable as it is, in every syntax', () => {
    const vars = new Map([['w', { values: ['pi.lan'], regex: false }]]);
    expect(substitute(`'$w' '\${w}' '[[w]]' '\${w:raw}'`, subst(vars))).toBe(
      `'pi.lan' 'pi.lan' 'pi.lan' 'pi.lan'`,
    );
  });

  it('refuses a variable the dashboard does not define', () => {
    expect(() => substitute('"host" =~ /^$hots$/', subst())).toThrow(UnknownVariableError);
    expect(() => substitute('"host" =~ /^$hots$/', subst())).toThrow(
      'uses $hots, which the dashboard does not define',
    );
  });

  it('escapes what Grafana escapes', () => {
    expect(escapeRegex('a.b*c+d?e(f)g|h[i]j{k}l/m\\n^o$p')).toBe(
      'a\\.b\\*c\\+d\\?e\\(f\\)g\\|h\\[i\\]j\\{k\\}l\\/m\\\\n\\^o\\$p',
    );
  });
});

describe('extractQueries', () => {
  const dashboard: Dashboard = {
    title: 'T',
    templating: {
      list: [
        { name: 'host', type: 'query', datasource: DS, query: 'SHOW TAG VALUES WITH KEY = "host"' },
        {
          name: 'w',
          type: 'query',
          datasource: DS,
          query: { query: 'SHOW TAG VALUES WITH KEY = "w"' },
        },
        { name: 'c', type: 'custom', options: [{ value: 'x' }] },
      ],
    },
    panels: [
      {
        title: 'top',
        datasource: DS,
        targets: [{ refId: 'A', rawQuery: true, query: 'SELECT 1' }],
      },
      {
        title: 'row',
        type: 'row',
        panels: [
          {
            title: 'nested',
            targets: [{ refId: 'B', datasource: DS, rawQuery: true, query: 'SELECT 2' }],
          },
          { title: 'builder', datasource: DS, targets: [{ refId: 'C', rawQuery: false }] },
          {
            title: 'other',
            datasource: { type: 'prometheus', uid: 'prom' },
            targets: [{ refId: 'D', rawQuery: true, query: 'up' }],
          },
        ],
      },
      { title: 'text', type: 'text' },
    ],
    annotations: {
      list: [
        {
          builtIn: 1,
          name: 'Annotations & Alerts',
          datasource: { type: 'grafana', uid: '-- Grafana --' },
        },
        {
          name: 'new',
          datasource: DS,
          target: { query: 'SELECT 3', textColumn: 'a', tagsColumn: 'b, c', titleColumn: '' },
        },
        { name: 'legacy', datasource: DS, query: 'SELECT 4', textColumn: 'z' },
      ],
    },
  };
  const { queries, problems } = extractQueries(dashboard);

  it('finds variable queries in either form, and skips custom variables', () => {
    expect(queries.filter((q) => q.kind === 'variable').map((q) => [q.variable, q.query])).toEqual([
      ['host', 'SHOW TAG VALUES WITH KEY = "host"'],
      ['w', 'SHOW TAG VALUES WITH KEY = "w"'],
    ]);
  });

  it('finds targets in collapsed rows, with the panel datasource as default', () => {
    expect(queries.filter((q) => q.kind === 'panel').map((q) => [q.where, q.query])).toEqual([
      ['panel "top" target A', 'SELECT 1'],
      ['panel "nested" target B', 'SELECT 2'],
    ]);
  });

  it('reads annotations in the Grafana 10 form and the legacy one, with their columns', () => {
    expect(queries.filter((q) => q.kind === 'annotation')).toEqual([
      {
        kind: 'annotation',
        where: 'annotation "new"',
        query: 'SELECT 3',
        columns: ['a', 'b', 'c'],
      },
      { kind: 'annotation', where: 'annotation "legacy"', query: 'SELECT 4', columns: ['z'] },
    ]);
  });

  it('reports what it cannot check instead of skipping it', () => {
    expect(problems).toEqual([
      {
        dashboard: 'T',
        where: 'panel "builder" target C',
        problem: 'is not a raw InfluxQL query (rawQuery: true, query: "SELECT …")',
      },
      {
        dashboard: 'T',
        where: 'panel "other" target D',
        problem: 'uses datasource "prom", not scanmesh-influx',
      },
    ]);
  });
});

describe('analyze (the names a query uses)', () => {
  it('separates measurements, aliases, fields and GROUP BY tags', () => {
    const { scope, unquoted } = analyze(
      `SELECT last("a") AS "x", "b" FROM "m" WHERE "t" = 'v' AND "u" =~ /^"q"$/ AND time > 5m GROUP BY time(1m), "g" fill(0)`,
    );
    expect(unquoted).toEqual([]);
    expect(scope.measurements).toEqual(['m']);
    expect(scope.aliases).toEqual(['x']);
    expect(scope.refs).toEqual([
      { name: 'a', tagOnly: false },
      { name: 'b', tagOnly: false },
      { name: 't', tagOnly: false },
      { name: 'u', tagOnly: false },
      { name: 'g', tagOnly: true },
    ]);
    expect(scope.columns).toEqual(['x', 'b']);
    expect(scope.groupBy).toEqual(['g']);
    expect(scope.aggregated).toBe(true);
  });

  it('gives a subquery its own scope', () => {
    const { scope } = analyze(
      'SELECT count("s") FROM (SELECT last("state") AS "s" FROM "worker" GROUP BY "worker") WHERE "s" = 1',
    );
    expect(scope.measurements).toEqual([]);
    expect(scope.refs.map((r) => r.name)).toEqual(['s', 's']);
    expect(scope.subquery?.measurements).toEqual(['worker']);
    expect(scope.subquery?.columns).toEqual(['s']);
    expect(scope.subquery?.groupBy).toEqual(['worker']);
  });

  it('reads WITH KEY = as a tag, and a FROM list as measurements', () => {
    expect(analyze('SHOW TAG VALUES FROM "a", "b" WITH KEY = "k"').scope).toMatchObject({
      measurements: ['a', 'b'],
      refs: [{ name: 'k', tagOnly: true }],
    });
  });

  it('reports unquoted identifiers, not keywords or functions', () => {
    expect(
      analyze('select MEAN(duration) from scan where time > now() - 1h group by worker').unquoted,
    ).toEqual(['duration', 'scan', 'worker']);
  });

  it('refuses text that is not InfluxQL', () => {
    expect(() => analyze(`SELECT "a FROM "m"`)).toThrow(/unterminated/);
    expect(() => analyze('SELECT "a" FROM "m" WHERE "b" = #')).toThrow(/unexpected "#"/);
  });
});

describe('nameProblems', () => {
  const schema: Schema = new Map([
    ['scan', { fields: new Set(['job', 'duration_s']), tags: new Set(['worker', 'status']) }],
  ]);

  it('accepts names the schema has', () => {
    expect(
      nameProblems(
        'SELECT count("job") FROM "scan" WHERE "status" = \'failed\' GROUP BY "worker"',
        schema,
      ),
    ).toEqual([]);
  });

  it('names each unknown measurement, field and tag', () => {
    expect(
      nameProblems('SELECT "jobs" FROM "scan", "scans" GROUP BY "job", "worker"', schema),
    ).toEqual([
      'reads measurement "scans", which does not exist',
      'names "jobs", which is not a field or tag of "scan"',
      'names "job", which is not a tag of "scan"',
    ]);
  });

  it('lets an outer query read only what its subquery returns or groups by', () => {
    const sub = '(SELECT max("duration_s") AS "d" FROM "scan" GROUP BY "worker")';
    expect(nameProblems(`SELECT "d" FROM ${sub} GROUP BY "worker"`, schema)).toEqual([]);
    expect(nameProblems(`SELECT "duration_s" FROM ${sub} GROUP BY "status"`, schema)).toEqual([
      'names "duration_s", which is not a field or tag of its subquery',
      'names "status", which is not a tag of its subquery',
    ]);
  });
});
