import { describe, expect, it } from 'vitest';
import { referenceTable } from './reference.ts';
import { masterSpec, workerSpec } from './roles.ts';

describe('referenceTable', () => {
  const table = referenceTable({ worker: workerSpec, master: masterSpec });
  const rows = table.split('\n').slice(2);

  it('has one row per file key and flag, covering every key of both roles', () => {
    const ids = new Set([...workerSpec, ...masterSpec].map((k) => `${k.file} ${k.flag}`));
    expect(rows).toHaveLength(ids.size);
    for (const k of [...workerSpec, ...masterSpec]) {
      expect(rows.some((r) => r.startsWith(`| \`${k.file}\` | \`${k.flag.split(' ')[0]}\``))).toBe(
        true,
      );
    }
  });

  it('gives both meanings of a shared key, and keeps cells intact', () => {
    const url = rows.find((r) => r.startsWith('| `broker.url`'))!;
    expect(url).toContain('worker, master | worker: the mesh broker');
    expect(url).toContain('master: use this external broker');
    const level = rows.find((r) => r.startsWith('| `log.level`'))!;
    expect(level.split(' | ')).toHaveLength(6); // the "|" in "fatal|error|…" is escaped
    expect(table).not.toMatch(/<state-dir>/);
  });
});
