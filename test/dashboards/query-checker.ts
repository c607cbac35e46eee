import {
  extractQueries,
  substitute,
  UnknownVariableError,
  type Dashboard,
  type FoundQuery,
  type Problem,
  type VariableValue,
} from './dashboard-queries.ts';
import { analyze, type Scope } from './influxql-names.ts';

/**
 * Runs every InfluxQL query of a dashboard against a real InfluxDB the way Grafana would, and
 * reports each one that would leave a panel empty or wrong: an InfluxQL error, no rows, a column
 * that is null in every row, a name that is neither a field nor a tag of the measurement it reads,
 * a measurement that does not exist, an annotation column the query does not return.
 */

export interface Series {
  name?: string;
  tags?: Record<string, string>;
  columns: string[];
  values?: unknown[][];
}

export interface StatementResult {
  error?: string;
  series?: Series[];
}

/** Runs one InfluxQL string; one result per statement. */
export type RunQuery = (influxql: string) => Promise<StatementResult[]>;

/** `GET /query` of the InfluxDB 1.x HTTP API, times as epoch milliseconds. */
export function httpQuery(url: string, database: string): RunQuery {
  return async (influxql) => {
    const u = new URL('/query', url);
    u.searchParams.set('db', database);
    u.searchParams.set('epoch', 'ms');
    u.searchParams.set('q', influxql);
    const res = await fetch(u);
    const body = (await res.json()) as { results?: StatementResult[]; error?: string };
    if (body.error !== undefined) return [{ error: body.error }];
    if (!res.ok) return [{ error: `HTTP ${res.status}` }];
    return body.results ?? [{ error: 'no results in the answer' }];
  };
}

/** Field and tag keys per measurement, as the database has them. */
export type Schema = ReadonlyMap<
  string,
  { fields: ReadonlySet<string>; tags: ReadonlySet<string> }
>;

export async function readSchema(run: RunQuery): Promise<Schema> {
  const keys = async (q: string) => {
    const [result] = await run(q);
    if (result?.error) throw new Error(`${q}: ${result.error}`);
    const out = new Map<string, Set<string>>();
    for (const s of result?.series ?? []) {
      out.set(s.name ?? '', new Set((s.values ?? []).map((v) => String(v[0]))));
    }
    return out;
  };
  const fields = await keys('SHOW FIELD KEYS');
  const tags = await keys('SHOW TAG KEYS');
  const schema = new Map<string, { fields: Set<string>; tags: Set<string> }>();
  for (const m of new Set([...fields.keys(), ...tags.keys()])) {
    schema.set(m, { fields: fields.get(m) ?? new Set(), tags: tags.get(m) ?? new Set() });
  }
  return schema;
}

export interface CheckOptions {
  /** The dashboard time range, Unix milliseconds: should cover the data. */
  fromMs: number;
  toMs: number;
  /** `$__interval`, e.g. `1m`. */
  interval: string;
}

export interface CheckReport {
  problems: Problem[];
  /** Queries run, with every substitution: proof the check did not pass by running nothing. */
  executed: number;
  /** The values each template variable resolved to. */
  variables: Map<string, string[]>;
}

/**
 * Check every query of `dashboard`. Template variables are resolved first, by running their own
 * queries; then every panel and annotation query runs twice: with every variable on "All" (every
 * value, as Grafana sends it: `(a|b|c)`), where it must return rows, and with every variable on its
 * first value, where it must at least run (the data need not have every combination).
 */
export async function checkDashboard(
  dashboard: Dashboard,
  run: RunQuery,
  schema: Schema,
  options: CheckOptions,
): Promise<CheckReport> {
  const name = dashboard.title ?? dashboard.uid ?? '(untitled)';
  const { queries, problems } = extractQueries(dashboard);
  const report: CheckReport = { problems, executed: 0, variables: new Map() };
  const definitions = new Map((dashboard.templating?.list ?? []).map((v) => [v.name, v]));
  const regexFor = (variable: string) => {
    const v = definitions.get(variable);
    return v?.multi === true || v?.includeAll === true;
  };

  const selection = (pick: 'all' | 'first'): Map<string, VariableValue> => {
    const out = new Map<string, VariableValue>();
    for (const [variable, values] of report.variables) {
      const chosen = pick === 'all' ? values : values.slice(0, 1);
      out.set(variable, { values: chosen, regex: regexFor(variable) });
    }
    return out;
  };

  for (const v of dashboard.templating?.list ?? []) {
    if (v.type === 'custom')
      report.variables.set(
        v.name,
        (v.options ?? []).map((o) => o.value),
      );
  }
  for (const q of queries.filter((x) => x.kind === 'variable')) {
    const rows = await checkQuery(q, selection('all'), true);
    const values = (rows ?? []).map((r) => String(r)).filter((r, i, all) => all.indexOf(r) === i);
    report.variables.set(q.variable as string, values);
  }
  for (const q of queries.filter((x) => x.kind !== 'variable')) {
    await checkQuery(q, selection('all'), true);
    await checkQuery(q, selection('first'), false);
  }
  return report;

  /** Returns the values of the query's last column (a variable's values), or null on failure. */
  async function checkQuery(
    q: FoundQuery,
    variables: Map<string, VariableValue>,
    mustHaveRows: boolean,
  ): Promise<unknown[] | null> {
    const problem = (text: string, query: string) =>
      report.problems.push({ dashboard: name, where: q.where, problem: text, query });
    let text: string;
    try {
      text = substitute(q.query, { ...options, variables });
    } catch (err) {
      if (err instanceof UnknownVariableError) {
        problem(err.message, q.query);
        return null;
      }
      throw err;
    }
    const before = report.problems.length;
    for (const p of nameProblems(text, schema)) problem(p, text);

    report.executed += 1;
    const results = await run(text);
    const values: unknown[] = [];
    for (const r of results) {
      if (r.error !== undefined) {
        problem(`InfluxDB refused it: ${r.error}`, text);
        continue;
      }
      const series = r.series ?? [];
      const rows = series.reduce((n, s) => n + (s.values?.length ?? 0), 0);
      if (rows === 0) {
        if (mustHaveRows) problem('returned no rows', text);
        continue;
      }
      const columns = new Set(series.flatMap((s) => s.columns));
      for (const column of columns) {
        if (column === 'time') continue;
        const filled = series.some((s) => {
          const i = s.columns.indexOf(column);
          return i >= 0 && (s.values ?? []).some((row) => row[i] !== null && row[i] !== undefined);
        });
        if (!filled) problem(`column "${column}" is null in every row`, text);
      }
      for (const column of q.columns ?? []) {
        if (!columns.has(column)) {
          problem(`annotation column "${column}" is not among the columns returned`, text);
        }
      }
      for (const s of series) {
        for (const row of s.values ?? []) values.push(row[row.length - 1]);
      }
    }
    return report.problems.length === before ? values : null;
  }
}

/**
 * What is wrong with the names the query uses: unquoted identifiers, measurements that do not
 * exist, and names that are neither a field nor a tag of what their SELECT reads (for a subquery:
 * neither a name it returns nor one it groups by).
 */
export function nameProblems(query: string, schema: Schema): string[] {
  let analysis;
  try {
    analysis = analyze(query);
  } catch (err) {
    return [`could not be read as InfluxQL: ${(err as Error).message}`];
  }
  const problems = analysis.unquoted.map(
    (w) => `uses the unquoted word ${w}: quote identifiers ("${w}") or fix the keyword`,
  );
  /** Checks the scope's names; returns the names an enclosing query can read from it. */
  const visit = (scope: Scope): Set<string> => {
    const fields = new Set<string>();
    const tags = new Set<string>();
    const reads: string[] = [];
    if (scope.subquery) {
      const inner = visit(scope.subquery);
      inner.forEach((n) => fields.add(n));
      scope.subquery.groupBy.forEach((n) => tags.add(n));
      // Without a function, a subquery's series keep every tag of what it read.
      if (!scope.subquery.aggregated) inner.forEach((n) => tags.add(n));
      reads.push('its subquery');
    }
    for (const m of scope.measurements) {
      const keys = schema.get(m);
      if (!keys) {
        problems.push(`reads measurement "${m}", which does not exist`);
        continue;
      }
      keys.fields.forEach((f) => fields.add(f));
      keys.tags.forEach((t) => tags.add(t));
      reads.push(`"${m}"`);
    }
    const known = reads.length > 0;
    for (const ref of scope.refs) {
      if (ref.name === 'time' || !known) continue;
      const ok = ref.tagOnly ? tags.has(ref.name) : tags.has(ref.name) || fields.has(ref.name);
      if (!ok) {
        const what = ref.tagOnly ? 'a tag' : 'a field or tag';
        problems.push(`names "${ref.name}", which is not ${what} of ${reads.join(', ')}`);
      }
    }
    const out = new Set([...scope.columns, ...scope.groupBy]);
    if (!scope.aggregated) tags.forEach((t) => out.add(t));
    return out;
  };
  visit(analysis.scope);
  return problems;
}
