import { mkdtemp, open, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { openJournal } from './journal.ts';
import { runAndKill } from '../../test/harness/crash.ts';

interface Row {
  id: number;
  text?: string;
}

let dir: string;
let proto: FileHandle;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'scanmesh-journal-'));
  const handle = await open(join(dir, 'probe'), 'w');
  proto = Object.getPrototypeOf(handle) as FileHandle;
  await handle.close();
});

afterEach(async () => {
  vi.restoreAllMocks();
  await rm(dir, { recursive: true, force: true });
});

const rows = (from: number, to: number): Row[] =>
  Array.from({ length: to - from }, (_, i) => ({ id: from + i }));
const ids = (records: readonly Row[]): number[] => records.map((r) => r.id);
/** Reopens the journal at `path`, closes it again and returns its records. */
async function load(path: string): Promise<Row[]> {
  const { journal, records } = await openJournal<Row>(path);
  await journal.close();
  return records;
}
const fileLines = async (path: string): Promise<string[]> =>
  (await readFile(path, 'utf8')).split('\n').filter((l) => l !== '');

describe('openJournal and append', () => {
  it('creates file and parent directories, and reads back what was appended', async () => {
    const path = join(dir, 'a', 'b', 'j.jsonl');
    const first = await openJournal<Row>(path);
    expect(first.records).toEqual([]);
    await first.journal.append([{ id: 1, text: 'é\u2028"\n' }, { id: 2 }]);
    await first.journal.append([{ id: 3 }]);
    expect(first.journal.sizeBytes).toBe((await stat(path)).size);
    await first.journal.close();

    const second = await openJournal<Row>(path);
    expect(second.records).toEqual([{ id: 1, text: 'é\u2028"\n' }, { id: 2 }, { id: 3 }]);
    expect(await fileLines(path)).toHaveLength(3);
    await second.journal.close();
  });

  it('streams existing records to onRecord instead of returning them', async () => {
    const path = join(dir, 'j.jsonl');
    const { journal } = await openJournal<Row>(path);
    await journal.append(rows(0, 5));
    await journal.close();

    const seen: [number, number][] = [];
    let bytes = 0;
    const reopened = await openJournal<Row>(path, {
      onRecord: (row, info) => {
        seen.push([row.id, info.line]);
        bytes += info.bytes;
      },
    });
    expect(reopened.records).toEqual([]);
    expect(seen).toEqual([0, 1, 2, 3, 4].map((id) => [id, id + 1]));
    expect(bytes).toBe((await stat(path)).size);
    await reopened.journal.close();
  });

  it('reads a journal larger than one read chunk', async () => {
    const path = join(dir, 'j.jsonl');
    const { journal } = await openJournal<Row>(path, { fsync: false });
    const big = Array.from({ length: 3000 }, (_, id) => ({ id, text: 'y'.repeat(1000) }));
    await journal.append(big);
    await journal.close();
    const reopened = await openJournal<Row>(path);
    expect(ids(reopened.records)).toEqual(ids(big));
    await reopened.journal.close();
  });

  it('refuses a record that is not JSON without harming the journal', async () => {
    const { journal } = await openJournal<Row | undefined>(join(dir, 'j.jsonl'));
    await expect(journal.append([{ id: 1 }, undefined])).rejects.toMatchObject({
      code: 'SCANMESH_STORE_FAILED',
    });
    await journal.append([{ id: 2 }]);
    expect(journal.failure).toBeNull();
    await journal.close();
    expect(await fileLines(join(dir, 'j.jsonl'))).toEqual(['{"id":2}']);
  });

  it('close writes what was appended before it; appends after it reject', async () => {
    const path = join(dir, 'j.jsonl');
    const { journal } = await openJournal<Row>(path);
    const appended = journal.append([{ id: 1 }]);
    await journal.close();
    await appended;
    await expect(journal.append([{ id: 2 }])).rejects.toMatchObject({
      code: 'SCANMESH_STORE_FAILED',
    });
    expect(await fileLines(path)).toEqual(['{"id":1}']);
  });
});

describe('group commit', () => {
  it('coalesces 1000 concurrent appends into a few fsyncs, in call order', async () => {
    const path = join(dir, 'j.jsonl');
    const { journal } = await openJournal<Row>(path);
    const datasync = vi.spyOn(proto, 'datasync');
    await Promise.all(rows(0, 1000).map((row) => journal.append([row])));
    expect(datasync.mock.calls.length).toBeGreaterThan(0);
    expect(datasync.mock.calls.length).toBeLessThan(10);
    await journal.close();
    expect(ids(await load(path))).toEqual(ids(rows(0, 1000)));
  });

  it('coalesces appends issued while a write is in flight, keeping call order', async () => {
    const path = join(dir, 'j.jsonl');
    const { journal } = await openJournal<Row>(path);
    const datasync = vi.spyOn(proto, 'datasync');
    const called: number[] = [];
    let next = 0;
    // 50 writers, each appending its next record as soon as its previous one is durable.
    const writer = async (): Promise<void> => {
      for (let i = 0; i < 20; i++) {
        const id = next++;
        called.push(id);
        await journal.append([{ id }]);
      }
    };
    await Promise.all(Array.from({ length: 50 }, writer));
    expect(datasync.mock.calls.length).toBeLessThan(1000 / 5);
    await journal.close();
    const records = await load(path);
    expect(ids(records)).toEqual(called);
    expect(records).toHaveLength(1000);
  });

  it('resolves an append only after its fdatasync has completed', async () => {
    const { journal } = await openJournal<Row>(join(dir, 'j.jsonl'));
    let release!: () => void;
    const original = proto.datasync;
    vi.spyOn(proto, 'datasync').mockImplementation(async function (this: FileHandle) {
      await new Promise<void>((resolve) => (release = resolve));
      return original.call(this);
    });
    let resolved = false;
    const appended = journal.append([{ id: 1 }]).then(() => (resolved = true));
    await vi.waitFor(() => expect(release).toBeTypeOf('function'));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(resolved).toBe(false);
    release();
    await appended;
    expect(resolved).toBe(true);
    await journal.close();
  });

  it('fsyncs once per append when each waits for the previous (the spy counts real calls)', async () => {
    const { journal } = await openJournal<Row>(join(dir, 'j.jsonl'));
    const datasync = vi.spyOn(proto, 'datasync');
    for (const row of rows(0, 50)) await journal.append([row]);
    expect(datasync).toHaveBeenCalledTimes(50);
    await journal.close();
  });

  it('flushes a lone append at once: no timer waits for company', async () => {
    // With one job in flight every record is alone; a batching delay would add to each of them.
    const { journal } = await openJournal<Row>(join(dir, 'j.jsonl'));
    const realTimeout = globalThis.setTimeout;
    vi.useFakeTimers();
    try {
      const outcome = await Promise.race([
        journal.append([{ id: 1 }]).then(() => 'durable'),
        new Promise((resolve) => realTimeout(() => resolve('still waiting'), 5000)),
      ]);
      expect(outcome).toBe('durable');
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
    await journal.close();
    expect(await load(join(dir, 'j.jsonl'))).toEqual([{ id: 1 }]);
  });

  it('does not fsync appends with fsync: false', async () => {
    const { journal } = await openJournal<Row>(join(dir, 'j.jsonl'), { fsync: false });
    const datasync = vi.spyOn(proto, 'datasync');
    for (const row of rows(0, 5)) await journal.append([row]);
    expect(datasync).not.toHaveBeenCalled();
    await journal.close();
  });
});

describe('failures', () => {
  it('a failed fsync rejects its appends with the cause and fails the journal for good', async () => {
    const path = join(dir, 'j.jsonl');
    const { journal } = await openJournal<Row>(path);
    await journal.append([{ id: 0 }]);
    const eio = Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' });
    vi.spyOn(proto, 'datasync').mockRejectedValueOnce(eio);

    const results = await Promise.allSettled([journal.append([{ id: 1 }])]);
    expect(results[0]).toMatchObject({
      status: 'rejected',
      reason: { code: 'SCANMESH_STORE_FAILED', cause: eio },
    });
    expect(journal.failure).toMatchObject({ code: 'SCANMESH_STORE_FAILED', cause: eio });
    // Later appends and rewrites are refused even though fdatasync would work again.
    await expect(journal.append([{ id: 2 }])).rejects.toBe(journal.failure);
    await expect(journal.rewrite([])).rejects.toBe(journal.failure);
    await journal.close();

    // Reopening is the recovery: id 1 was written (fsync outcome unknown), id 2 never was.
    const reopened = await openJournal<Row>(path);
    expect(ids(reopened.records)).toEqual([0, 1]);
    await reopened.journal.append([{ id: 3 }]);
    await reopened.journal.close();
  });

  it('a failed write also rejects the appends queued behind it', async () => {
    const { journal } = await openJournal<Row>(join(dir, 'j.jsonl'));
    const enospc = Object.assign(new Error('ENOSPC'), { code: 'ENOSPC' });
    vi.spyOn(proto, 'write').mockRejectedValueOnce(enospc);
    const first = journal.append([{ id: 1 }]);
    await Promise.resolve();
    await Promise.resolve();
    const second = journal.append([{ id: 2 }]); // joins the next batch while the first fails
    await expect(first).rejects.toMatchObject({ code: 'SCANMESH_STORE_FAILED', cause: enospc });
    await expect(second).rejects.toMatchObject({ code: 'SCANMESH_STORE_FAILED' });
    await journal.close();
  });
});

describe('torn tail and corruption', () => {
  it('drops and truncates a last line without newline, so the next append starts clean', async () => {
    const path = join(dir, 'j.jsonl');
    await writeFile(path, '{"id":1}\n{"id":2}\n{"id":3,"te');
    const { journal, records } = await openJournal<Row>(path);
    expect(ids(records)).toEqual([1, 2]);
    expect((await stat(path)).size).toBe('{"id":1}\n{"id":2}\n'.length);
    expect(journal.sizeBytes).toBe((await stat(path)).size);
    await journal.append([{ id: 4 }]);
    await journal.close();
    expect(ids(await load(path))).toEqual([1, 2, 4]);
  });

  it('drops a parsable last line that lacks its newline (its append never resolved)', async () => {
    const path = join(dir, 'j.jsonl');
    await writeFile(path, '{"id":1}\n{"id":2}');
    const { journal, records } = await openJournal<Row>(path);
    expect(ids(records)).toEqual([1]);
    await journal.close();
    expect(await readFile(path, 'utf8')).toBe('{"id":1}\n');
  });

  it('drops an unparsable last line that has a newline (zero-filled block after power loss)', async () => {
    const path = join(dir, 'j.jsonl');
    await writeFile(path, '{"id":1}\n\0\0\0\0\n');
    const { journal, records } = await openJournal<Row>(path);
    expect(ids(records)).toEqual([1]);
    await journal.close();
    expect(await readFile(path, 'utf8')).toBe('{"id":1}\n');
  });

  it.each([
    ['an unparsable middle line', '{"id":1}\nnot json\n{"id":3}\n', 2],
    ['an empty middle line', '{"id":1}\n\n{"id":3}\n', 2],
    ['a bad line followed by a torn fragment', '{"id":1}\n{"id":2}\n{oops\n{"id"', 3],
  ])('refuses %s with SCANMESH_STORE_FAILED naming file and line', async (_, content, line) => {
    const path = join(dir, 'j.jsonl');
    await writeFile(path, content);
    const error = await openJournal<Row>(path).then(
      () => null,
      (err: unknown) => err,
    );
    expect(error).toMatchObject({ code: 'SCANMESH_STORE_FAILED' });
    expect(String((error as Error).message)).toContain(path);
    expect(String((error as Error).message)).toContain(`line ${line}`);
    expect(await readFile(path, 'utf8')).toBe(content); // evidence is left alone
  });
});

describe('rewrite', () => {
  it('replaces the content after earlier appends; later appends go to the new file', async () => {
    const path = join(dir, 'j.jsonl');
    const { journal } = await openJournal<Row>(path);
    await journal.append(rows(0, 10));
    const before = journal.append([{ id: 10 }]);
    const rewritten = journal.rewrite([{ id: 100 }, { id: 101 }]);
    const after = journal.append([{ id: 102 }]);
    await Promise.all([before, rewritten, after]);
    expect(journal.sizeBytes).toBe((await stat(path)).size);
    await journal.close();
    expect(ids(await load(path))).toEqual([100, 101, 102]);
    expect((await readdir(dir)).sort()).toEqual(['j.jsonl', 'probe']); // no temporary file left
  });

  it('takes an async iterable and streams it in chunks', async () => {
    const path = join(dir, 'j.jsonl');
    const { journal } = await openJournal<Row>(path);
    await journal.append([{ id: -1 }]);
    async function* generate(): AsyncIterable<Row> {
      for (let id = 0; id < 5000; id++) yield { id, text: 'z'.repeat(500) };
    }
    await journal.rewrite(generate());
    await journal.close();
    expect(ids(await load(path))).toEqual(ids(rows(0, 5000)));
  });

  it('shows readers the old content until it is done, then the new, never a mix', async () => {
    const path = join(dir, 'j.jsonl');
    const { journal } = await openJournal<Row>(path);
    await journal.append(rows(0, 3));
    const oldContent = await readFile(path, 'utf8');
    const midway: string[] = [];
    async function* slow(): AsyncIterable<Row> {
      for (let id = 10; id < 13; id++) {
        yield { id, text: 'n'.repeat(2_000_000) }; // over a chunk: really written midway
        midway.push(await readFile(path, 'utf8'));
      }
    }
    await journal.rewrite(slow());
    expect(midway).toEqual([oldContent, oldContent, oldContent]);
    await journal.close();
    expect(ids(await load(path))).toEqual([10, 11, 12]);
  });

  it('a rewrite failing before its rename keeps the old file and a usable journal', async () => {
    const path = join(dir, 'j.jsonl');
    const { journal } = await openJournal<Row>(path);
    await journal.append(rows(0, 3));
    async function* failing(): AsyncIterable<Row> {
      yield { id: 50, text: 'q'.repeat(2_000_000) };
      throw new Error('source broke');
    }
    await expect(journal.rewrite(failing())).rejects.toMatchObject({
      code: 'SCANMESH_STORE_FAILED',
    });
    expect(journal.failure).toBeNull();
    await journal.append([{ id: 3 }]);
    await journal.close();
    expect(ids(await load(path))).toEqual([0, 1, 2, 3]);
    expect((await readdir(dir)).sort()).toEqual(['j.jsonl', 'probe']);
  });
});

describe('crash (SIGKILL) during appends', () => {
  const child = join('test', 'harness', 'journal-writer.ts');

  it('keeps every record the killed process saw acknowledged, twice in a row', async () => {
    const path = join(dir, 'crash.jsonl');
    const acknowledged: number[] = [];
    for (let run = 0; run < 2; run++) {
      const lines = await runAndKill(child, [path], (l) => l.length >= 400);
      acknowledged.push(...lines.map(Number));
      expect(lines.length).toBeGreaterThanOrEqual(400);
    }
    // Reopening must load cleanly (a torn tail is cut, never reported as corruption)...
    const { journal, records } = await openJournal<Row & { pad: string }>(path);
    await journal.close();
    const onDisk = ids(records);
    // ...hold every acknowledged id, and, as appends land in call order, be exactly 0..n-1.
    expect(onDisk).toEqual(onDisk.map((_, i) => i));
    const missing = acknowledged.filter((id) => id >= onDisk.length);
    expect(missing).toEqual([]);
    expect(new Set(acknowledged).size).toBe(acknowledged.length);
  });
});
