import type { KeySpec, Spec } from './spec.ts';

/**
 * The configuration reference as a Markdown table, straight from the role specs, so the README
 * cannot drift from the code: `scanmesh config reference` prints it. A key two roles share is
 * one row; where they describe it differently, both descriptions are given.
 */
export function referenceTable(roles: Record<string, Spec>): string {
  const rows = new Map<
    string,
    { roles: string[]; spec: KeySpec; describe: Map<string, string[]> }
  >();
  for (const [role, spec] of Object.entries(roles)) {
    for (const k of spec) {
      const id = `${k.file} ${k.flag}`;
      const row = rows.get(id) ?? { roles: [], spec: k, describe: new Map<string, string[]>() };
      row.roles.push(role);
      row.describe.set(k.describe, [...(row.describe.get(k.describe) ?? []), role]);
      rows.set(id, row);
    }
  }
  const header = ['file key', 'flag', 'env', 'default', 'roles', 'meaning'];
  const body = [...rows.values()]
    .sort((a, b) => a.spec.file.localeCompare(b.spec.file))
    .map(({ roles: r, spec: k, describe }) => {
      const meaning =
        describe.size === 1
          ? k.describe
          : [...describe].map(([text, who]) => `${who.join(', ')}: ${text}`).join('; ');
      return [
        `\`${k.file}\``,
        `\`${k.flag.split(' ')[0]}\``,
        `\`${k.env}\``,
        formatDefault(k.default),
        r.join(', '),
        escape(`${meaning}${k.secret ? ' (secret: masked by `config print`)' : ''}`),
      ];
    });
  return [header, header.map(() => '---'), ...body].map((c) => `| ${c.join(' | ')} |`).join('\n');
}

function formatDefault(value: unknown): string {
  if (value === undefined) return '';
  if (Array.isArray(value) && value.length === 0) return '(none)';
  return `\`${Array.isArray(value) ? value.join(',') : String(value)}\``;
}

/** Table cells: a `|` would end the cell and `<state-dir>` would vanish as an HTML tag. */
function escape(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
