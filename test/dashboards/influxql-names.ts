/**
 * The names an InfluxQL query uses, per SELECT (pure). Running a query is not enough to know it
 * names only what exists: InfluxDB answers `GROUP BY "no_such_tag"` with rows (one group, the tag
 * empty) and `SELECT last("a"), last("no_such_field")` with rows (the second column null). So the
 * checker also compares every name with the database's own field and tag keys, and this module
 * says which names each query uses and where.
 *
 * Dashboards quote every identifier (`"host"`), the way Grafana's editor writes them; an unquoted
 * word that is not an InfluxQL keyword or function is reported instead of guessed at.
 */

/** A name used inside one SELECT (or SHOW): a field or tag of what it reads from. */
export interface NameRef {
  name: string;
  /** Used where only a tag makes sense: GROUP BY, or `WITH KEY =`. */
  tagOnly: boolean;
}

export interface Scope {
  /** The measurements after FROM, when it reads measurements. */
  measurements: string[];
  /** The subquery after FROM, when it reads one. */
  subquery: Scope | null;
  refs: NameRef[];
  /** Names given with AS. */
  aliases: string[];
  /** The columns its SELECT list returns: the alias, else the field's or the function's name. */
  columns: string[];
  /** Tags it groups by. */
  groupBy: string[];
  /** Whether its SELECT list calls a function (then only GROUP BY tags reach an enclosing query). */
  aggregated: boolean;
}

export interface Analysis {
  scope: Scope;
  /** Unquoted words that are neither keywords nor functions: identifiers to quote, or typos. */
  unquoted: string[];
}

const KEYWORDS = new Set(
  (
    'select from where and or not group by as fill null none previous linear order asc desc ' +
    'limit offset slimit soffset tz show tag tags values field keys measurements measurement ' +
    'series with key in time now true false'
  ).split(' '),
);

const FUNCTIONS = new Set(
  (
    'count distinct integral mean median mode spread stddev sum first last max min percentile ' +
    'sample top bottom abs acos asin atan atan2 ceil cos cumulative_sum derivative difference ' +
    'elapsed exp floor histogram ln log log2 log10 moving_average non_negative_derivative ' +
    'non_negative_difference pow round sin sqrt tan holt_winters holt_winters_with_fit ' +
    'exponential_moving_average double_exponential_moving_average ' +
    'triple_exponential_moving_average triple_exponential_derivative relative_strength_index ' +
    'kaufmans_efficiency_ratio kaufmans_adaptive_moving_average chande_momentum_oscillator'
  ).split(' '),
);

/** Clauses that end a GROUP BY list. */
const AFTER_GROUP_BY = new Set(['fill', 'order', 'limit', 'offset', 'slimit', 'soffset', 'tz']);

type Token =
  | { kind: 'ident'; value: string }
  | { kind: 'word'; value: string }
  | { kind: 'punct'; value: string }
  | { kind: 'literal' };

const OPERATORS = ['=~', '!~', '!=', '<>', '<=', '>=', '::'];

/** InfluxQL tokens. Throws on text InfluxQL cannot contain (an unterminated string, say). */
export function tokenize(query: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const lastPunct = () => {
    const t = tokens[tokens.length - 1];
    return t?.kind === 'punct' ? t.value : '';
  };
  /** The end of a literal delimited by `close`, honouring backslash escapes. */
  const until = (close: string, start: number): number => {
    for (let j = start; j < query.length; j += 1) {
      if (query[j] === '\\') j += 1;
      else if (query[j] === close) return j;
    }
    throw new Error(`unterminated ${close} starting at ${start - 1}: ${query.slice(start - 1)}`);
  };
  while (i < query.length) {
    const ch = query[i] as string;
    const rest = query.slice(i);
    if (/\s/.test(ch)) {
      i += 1;
    } else if (ch === '"') {
      const end = until('"', i + 1);
      tokens.push({ kind: 'ident', value: query.slice(i + 1, end).replace(/\\(.)/g, '$1') });
      i = end + 1;
    } else if (ch === "'") {
      i = until("'", i + 1) + 1;
      tokens.push({ kind: 'literal' });
    } else if (ch === '/' && (lastPunct() === '=~' || lastPunct() === '!~')) {
      i = until('/', i + 1) + 1;
      tokens.push({ kind: 'literal' });
    } else if (/^\d/.test(rest)) {
      // Numbers and durations: 1, 0.5, 1m, 1795261560000ms.
      const m = /^\d+(\.\d+)?(ns|us|µs|u|µ|ms|s|m|h|d|w)?/.exec(rest) as RegExpExecArray;
      tokens.push({ kind: 'literal' });
      i += m[0].length;
    } else if (/^[A-Za-z_]/.test(rest)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(rest) as RegExpExecArray;
      tokens.push({ kind: 'word', value: m[0] });
      i += m[0].length;
    } else {
      const op = OPERATORS.find((o) => rest.startsWith(o));
      const value = op ?? ch;
      if (!op && !'=<>(),;*+-/%.'.includes(ch)) {
        throw new Error(`unexpected ${JSON.stringify(ch)} at ${i}: ${rest}`);
      }
      tokens.push({ kind: 'punct', value });
      i += value.length;
    }
  }
  return tokens;
}

/** The names the query uses, scope by scope (a subquery after FROM is its own scope). */
export function analyze(query: string): Analysis {
  const tokens = tokenize(query);
  const unquoted: string[] = [];
  let pos = 0;

  const parseScope = (): Scope => {
    const scope: Scope = {
      measurements: [],
      subquery: null,
      refs: [],
      aliases: [],
      columns: [],
      groupBy: [],
      aggregated: false,
    };
    /** The last two tokens, as lowercased words or punctuation ('' for anything else). */
    let prev = '';
    let prev2 = '';
    const step = (value: string) => {
      prev2 = prev;
      prev = value;
    };
    let inFrom = false;
    let groupBy = false;
    /** Parentheses of function calls, not subqueries. */
    let depth = 0;
    /** The SELECT list item being read, while in the SELECT list. */
    let item: { fn?: string; ident?: string; alias?: string } | null = null;
    const endItem = () => {
      if (!item) return;
      const column = item.alias ?? item.fn ?? item.ident;
      if (column !== undefined) scope.columns.push(column);
      if (item.fn !== undefined) scope.aggregated = true;
      item = {};
    };
    while (pos < tokens.length) {
      const t = tokens[pos] as Token;
      pos += 1;
      if (t.kind === 'punct' && t.value === '(') {
        const next = tokens[pos];
        if (next?.kind === 'word' && next.value.toLowerCase() === 'select') {
          const sub = parseScope();
          if (inFrom) scope.subquery = sub;
          inFrom = false;
          step(')');
          continue;
        }
        depth += 1;
      } else if (t.kind === 'punct' && t.value === ')') {
        if (depth === 0) return scope;
        depth -= 1;
      } else if (t.kind === 'word') {
        const word = t.value.toLowerCase();
        inFrom = word === 'from';
        if (word === 'select' && depth === 0) item = {};
        if (word === 'from' && depth === 0) {
          endItem();
          item = null;
        }
        if (item && FUNCTIONS.has(word)) item.fn ??= word;
        if (word === 'by' && prev === 'group') groupBy = true;
        else if (AFTER_GROUP_BY.has(word)) groupBy = false;
        if (!KEYWORDS.has(word) && !FUNCTIONS.has(word)) unquoted.push(t.value);
        step(word);
        continue;
      } else if (t.kind === 'ident') {
        if (inFrom) scope.measurements.push(t.value);
        else if (prev === 'as') {
          scope.aliases.push(t.value);
          if (item) item.alias = t.value;
        } else {
          const afterKey = prev === '=' && prev2 === 'key';
          const tagOnly = (groupBy && depth === 0) || afterKey;
          scope.refs.push({ name: t.value, tagOnly });
          if (groupBy && depth === 0) scope.groupBy.push(t.value);
          if (item && depth === 0) item.ident ??= t.value;
        }
        step('ident');
        continue;
      } else if (t.kind === 'punct' && t.value === ',' && depth === 0) {
        endItem();
      }
      // A comma continues a FROM list; anything else ends it.
      if (!(t.kind === 'punct' && t.value === ',')) inFrom = false;
      step(t.kind === 'punct' ? t.value : '');
    }
    return scope;
  };

  const scope = parseScope();
  return { scope, unquoted };
}
