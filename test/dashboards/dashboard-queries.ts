import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * The InfluxQL inside Grafana dashboard JSON (pure, apart from `loadDashboards`): every panel
 * target, template variable query and annotation query, and Grafana's substitution of `$timeFilter`,
 * `$__interval` and template variables, so the queries can be run the way Grafana would run them.
 */

/** The datasource every scanmesh query must use (broker/grafana/provisioning/datasources). */
export const DATASOURCE_UID = 'scanmesh-influx';

/** The parts of Grafana's dashboard model this module reads; everything else passes through. */
export interface DataSourceRef {
  type?: string;
  uid?: string;
}

export interface Target {
  refId?: string;
  datasource?: DataSourceRef | string | null;
  rawQuery?: boolean;
  query?: unknown;
  resultFormat?: string;
  hide?: boolean;
}

export interface Panel {
  id?: number;
  type?: string;
  title?: string;
  datasource?: DataSourceRef | string | null;
  targets?: Target[];
  /** A collapsed row holds its panels here. */
  panels?: Panel[];
}

export interface Variable {
  name: string;
  type: string;
  datasource?: DataSourceRef | string | null;
  query?: unknown;
  multi?: boolean;
  includeAll?: boolean;
  /** For `custom` variables: the values. */
  options?: { value: string }[];
}

export interface Annotation {
  name?: string;
  builtIn?: number;
  datasource?: DataSourceRef | string | null;
  enable?: boolean;
  /** Grafana 10: the query and its columns live in `target`. */
  target?: AnnotationTarget;
  /** Before Grafana 10 (still migrated on load): at the top level. */
  query?: unknown;
  textColumn?: string;
  tagsColumn?: string;
  titleColumn?: string;
}

export interface AnnotationTarget {
  query?: unknown;
  rawQuery?: boolean;
  textColumn?: string;
  tagsColumn?: string;
  titleColumn?: string;
}

export interface Dashboard {
  uid?: string;
  title?: string;
  schemaVersion?: number;
  panels?: Panel[];
  templating?: { list?: Variable[] };
  annotations?: { list?: Annotation[] };
}

export interface LoadedDashboard {
  file: string;
  dashboard: Dashboard;
}

/** Every `*.json` in `dir`, parsed, in file name order. */
export async function loadDashboards(dir: string): Promise<LoadedDashboard[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.json')).sort();
  return Promise.all(
    files.map(async (file) => ({
      file,
      dashboard: JSON.parse(await readFile(join(dir, file), 'utf8')) as Dashboard,
    })),
  );
}

/** Every panel, including those inside collapsed rows, in document order. */
export function allPanels(dashboard: Dashboard): Panel[] {
  const out: Panel[] = [];
  const walk = (panels: readonly Panel[] | undefined): void => {
    for (const p of panels ?? []) {
      out.push(p);
      walk(p.panels);
    }
  };
  walk(dashboard.panels);
  return out;
}

export type QueryKind = 'panel' | 'variable' | 'annotation';

/** One InfluxQL query found in a dashboard, not yet substituted. */
export interface FoundQuery {
  kind: QueryKind;
  /** Where it is, for a person: `panel "Workers by state" target B`. */
  where: string;
  query: string;
  /** For a variable: its name. */
  variable?: string;
  /** For an annotation: the result columns Grafana reads. */
  columns?: string[];
}

/** Something about a dashboard that would make a panel show nothing or the wrong thing. */
export interface Problem {
  dashboard: string;
  where: string;
  problem: string;
  query?: string;
}

function uidOf(ref: DataSourceRef | string | null | undefined): string | undefined {
  if (ref === null || ref === undefined) return undefined;
  return typeof ref === 'string' ? ref : ref.uid;
}

/**
 * Every query of the dashboard and every problem that keeps a query from being checked at all:
 * a target in the visual builder (no raw InfluxQL to run), another datasource, a variable type the
 * checker cannot resolve.
 */
export function extractQueries(d: Dashboard): { queries: FoundQuery[]; problems: Problem[] } {
  const name = d.title ?? d.uid ?? '(untitled)';
  const queries: FoundQuery[] = [];
  const problems: Problem[] = [];
  const problem = (where: string, text: string) =>
    problems.push({ dashboard: name, where, problem: text });

  for (const v of d.templating?.list ?? []) {
    const where = `variable $${v.name}`;
    if (v.type === 'custom' || v.type === 'constant' || v.type === 'textbox') continue;
    if (v.type !== 'query') {
      problem(where, `variable type "${v.type}" is not one the query check can resolve`);
      continue;
    }
    if (uidOf(v.datasource) !== DATASOURCE_UID) {
      problem(
        where,
        `uses datasource ${JSON.stringify(uidOf(v.datasource))}, not ${DATASOURCE_UID}`,
      );
      continue;
    }
    const text = queryText(v.query);
    if (text === null) problem(where, 'has no InfluxQL query');
    else queries.push({ kind: 'variable', where, query: text, variable: v.name });
  }

  for (const p of allPanels(d)) {
    for (const t of p.targets ?? []) {
      const where = `panel "${p.title ?? p.id}" target ${t.refId ?? '?'}`;
      const uid = uidOf(t.datasource) ?? uidOf(p.datasource);
      if (uid !== DATASOURCE_UID) {
        problem(where, `uses datasource ${JSON.stringify(uid)}, not ${DATASOURCE_UID}`);
        continue;
      }
      const text = queryText(t.query);
      if (t.rawQuery !== true || text === null) {
        problem(where, 'is not a raw InfluxQL query (rawQuery: true, query: "SELECT …")');
        continue;
      }
      queries.push({ kind: 'panel', where, query: text });
    }
  }

  for (const a of d.annotations?.list ?? []) {
    if (a.builtIn === 1 || uidOf(a.datasource) === '-- Grafana --') continue;
    const where = `annotation "${a.name ?? '?'}"`;
    if (uidOf(a.datasource) !== DATASOURCE_UID) {
      problem(
        where,
        `uses datasource ${JSON.stringify(uidOf(a.datasource))}, not ${DATASOURCE_UID}`,
      );
      continue;
    }
    const source = a.target ?? a;
    const text = queryText(source.query);
    if (text === null) {
      problem(where, 'has no InfluxQL query');
      continue;
    }
    const columns = [source.textColumn, source.titleColumn, ...(source.tagsColumn ?? '').split(',')]
      .map((c) => (c ?? '').trim())
      .filter((c) => c !== '');
    queries.push({ kind: 'annotation', where, query: text, columns });
  }
  return { queries, problems };
}

/** A query as Grafana stores it: a string, or (newer variable editors) `{ query: string }`. */
function queryText(q: unknown): string | null {
  if (typeof q === 'string') return q.trim() === '' ? null : q;
  if (typeof q === 'object' && q !== null && 'query' in q) return queryText(q.query);
  return null;
}

/** Grafana's `escapeRegex`: what it does to each value of a multi-value variable. */
export function escapeRegex(value: string): string {
  return value.replace(/[\\^$*+?.()|[\]{}/]/g, '\\$&');
}

export interface VariableValue {
  /** The selected values (one, several, or every value for "All"). */
  values: readonly string[];
  /** Grafana regex-escapes the values of multi-value and include-All variables, and only those. */
  regex: boolean;
}

export interface Substitution {
  /** The dashboard's time range, Unix milliseconds. */
  fromMs: number;
  toMs: number;
  /** What Grafana computes from the range and the panel width, e.g. `1m`. */
  interval: string;
  variables: ReadonlyMap<string, VariableValue>;
}

export class UnknownVariableError extends Error {
  readonly variable: string;
  constructor(variable: string) {
    super(`uses $${variable}, which the dashboard does not define`);
    this.name = 'UnknownVariableError';
    this.variable = variable;
  }
}

const INTERVAL_MS: Record<string, number> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

function intervalMs(interval: string): number {
  const m = /^(\d+)(ms|s|m|h|d)$/.exec(interval);
  if (!m) throw new Error(`not an interval: ${interval}`);
  return Number(m[1]) * (INTERVAL_MS[m[2] as string] as number);
}

/**
 * The query with everything Grafana substitutes before sending it: `$timeFilter` (as the InfluxDB
 * datasource writes it), `$__interval`/`$interval`/`$__interval_ms`, and template variables in the
 * `$name`, `${name}` and `[[name]]` forms. Multi-value and include-All variables become regex
 * alternatives, `(a|b)`, with each value escaped — the form `"tag" =~ /^$name$/` expects.
 */
export function substitute(query: string, s: Substitution): string {
  const builtIns: Record<string, string> = {
    timeFilter: `time >= ${s.fromMs}ms and time <= ${s.toMs}ms`,
    __interval: s.interval,
    interval: s.interval,
    __interval_ms: String(intervalMs(s.interval)),
  };
  return query.replace(
    /\$\{(\w+)(?::\w+)?\}|\[\[(\w+)\]\]|\$(\w+)/g,
    (_match, braced?: string, bracketed?: string, plain?: string) => {
      const name = (braced ?? bracketed ?? plain) as string;
      const builtIn = builtIns[name];
      if (builtIn !== undefined) return builtIn;
      const v = s.variables.get(name);
      if (v === undefined) throw new UnknownVariableError(name);
      if (!v.regex) return v.values.join(',');
      const escaped = v.values.map(escapeRegex);
      return escaped.length === 1 ? (escaped[0] as string) : `(${escaped.join('|')})`;
    },
  );
}
