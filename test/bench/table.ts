/**
 * The one table the bench prints: every figure beside the limit it was measured against in the
 * same run, their ratio, the goal (stated on that ratio or on the value) and the verdict.
 */
export type Verdict = 'PASS' | 'GAP' | 'INFO' | 'ERROR';

export interface Row {
  id: string;
  name: string;
  value: string;
  limit: string;
  /** measured ÷ limit, already formatted (e.g. "0.62", "14.1×"). */
  ratio: string;
  goal: string;
  verdict: Verdict;
}

const HEADERS: Record<keyof Row, string> = {
  id: '#',
  name: 'figure',
  value: 'measured',
  limit: 'limit (same run)',
  ratio: 'ratio',
  goal: 'goal',
  verdict: 'verdict',
};
const COLUMNS = Object.keys(HEADERS) as (keyof Row)[];

export function renderTable(rows: readonly Row[]): string {
  const all: Record<keyof Row, string>[] = [HEADERS, ...rows];
  const width = (k: keyof Row) => Math.max(...all.map((r) => r[k].length));
  const widths = COLUMNS.map(width);
  const line = (r: Record<keyof Row, string>) =>
    `| ${COLUMNS.map((k, i) => r[k].padEnd(widths[i] as number)).join(' | ')} |`;
  const rule = `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`;
  return [line(HEADERS), rule, ...rows.map(line)].join('\n');
}

/** Three decimals, so a ratio just over a goal never prints as equal to it. */
export function ratio(measured: number, limit: number): string {
  if (!Number.isFinite(measured) || !Number.isFinite(limit) || limit === 0) return 'n/a';
  const r = measured / limit;
  return r >= 10 ? r.toFixed(1) : r.toFixed(3);
}

/** A row for a figure that could not be measured: the bench goes on with the others. */
export function errorRow(id: string, name: string, err: unknown): Row {
  const message = err instanceof Error ? err.message : String(err);
  return {
    id,
    name,
    value: `error: ${message.slice(0, 80)}`,
    limit: '-',
    ratio: '-',
    goal: '-',
    verdict: 'ERROR',
  };
}

/** PASS or GAP; ERROR when either side of the comparison was not measured. */
export function verdict(pass: boolean, ...measured: number[]): Verdict {
  if (measured.some((n) => !Number.isFinite(n) || n === 0)) return 'ERROR';
  return pass ? 'PASS' : 'GAP';
}
