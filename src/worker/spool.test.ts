import {
  appendFile,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rm,
  stat,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Logger } from '../log.ts';
import type { Data, DataHost } from '../protocol/messages/data.ts';
import { openSpool, SPOOL_FILE, type Spool } from './spool.ts';
import { runAndKill } from '../../test/harness/crash.ts';
import { endPart, hostPart } from '../../test/harness/spool-fixtures.ts';

let dir: string;
const open: Spool[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'scanmesh-spool-'));
});

afterEach(async () => {
  await Promise.all(open.splice(0).map((spool) => spool.close().catch(() => undefined)));
  await rm(dir, { recursive: true, force: true });
});

async function spoolAt(path = dir, compactAtBytes?: number): Promise<Spool> {
  const spool = await openSpool(path, { compactAtBytes });
  open.push(spool);
  return spool;
}

type Ref = { job: string; attempt: number; seq: number };
const keys = (parts: readonly Ref[]): string[] =>
  parts.map((p) => `${p.job}#${p.attempt}#${p.seq}`);
/** The attempts that have pending parts, in order of their first one. */
const attempts = (spool: Spool): string[] => [
  ...new Set(spool.pending().map((p) => `${p.job}#${p.attempt}`)),
];
/** One part read back from the file, decoded. */
const body = async (spool: Spool, job: string, attempt: number, seq: number) => {
  const bytes = await spool.read(job, attempt, seq);
  return bytes && (JSON.parse(bytes.toString('utf8')) as Data);
};
/** Every pending part's body, read back from the file. */
const bodies = (spool: Spool): Promise<(Data | null)[]> =>
  Promise.all(spool.pending().map((p) => body(spool, p.job, p.attempt, p.seq)));
const fileBytes = async (): Promise<number> => (await stat(join(dir, SPOOL_FILE))).size;
const fileLines = async (): Promise<number> =>
  (await readFile(join(dir, SPOOL_FILE), 'utf8')).split('\n').filter((l) => l).length;

describe('spool', () => {
  it('keeps put parts pending in put order, attempts in order of their first part', async () => {
    const spool = await spoolAt(join(dir, 'nested'));
    await spool.put(hostPart(0, 'j-a', 1));
    await spool.put(hostPart(0, 'j-b', 2));
    await spool.put(hostPart(1, 'j-a', 1));
    await spool.put(endPart(2, 'j-a', 1));
    expect(keys(spool.pending())).toEqual(['j-a#1#0', 'j-b#2#0', 'j-a#1#1', 'j-a#1#2']);
    expect(await body(spool, 'j-a', 1, 2)).toEqual(endPart(2, 'j-a', 1));
    expect(attempts(spool)).toEqual(['j-a#1', 'j-b#2']);
    expect(spool.size).toBe(4);
  });

  it('shows a part as pending only once its put is durable', async () => {
    const spool = await spoolAt();
    const put = spool.put(hostPart(0));
    expect(spool.pending()).toEqual([]);
    expect(spool.size).toBe(0);
    await put;
    expect(keys(spool.pending())).toEqual(['j-crash-1#1#0']);
    expect(await fileLines()).toBe(1);
  });

  it('ack removes a part durably; unknown and repeated acks write nothing', async () => {
    const spool = await spoolAt();
    for (let seq = 0; seq < 3; seq++) await spool.put(hostPart(seq));
    await spool.ack('j-crash-1', 1, 1);
    expect(keys(spool.pending())).toEqual(['j-crash-1#1#0', 'j-crash-1#1#2']);
    expect(spool.size).toBe(2);
    const bytes = await fileBytes();
    await spool.ack('j-crash-1', 1, 1);
    await spool.ack('j-crash-1', 2, 0);
    await spool.ack('j-other', 1, 0);
    expect(await fileBytes()).toBe(bytes);
    expect(spool.size).toBe(2);
  });

  it('after reopening, acked parts are gone and the rest keep their order', async () => {
    const first = await spoolAt();
    for (let seq = 0; seq < 5; seq++) await first.put(hostPart(seq));
    await first.put(hostPart(0, 'j-b', 1));
    await first.ack('j-crash-1', 1, 0);
    await first.ack('j-crash-1', 1, 3);
    await first.close();

    const second = await spoolAt();
    expect(keys(second.pending())).toEqual([
      'j-crash-1#1#1',
      'j-crash-1#1#2',
      'j-crash-1#1#4',
      'j-b#1#0',
    ]);
    expect(await body(second, 'j-crash-1', 1, 1)).toEqual(hostPart(1));
    expect(attempts(second)).toEqual(['j-crash-1#1', 'j-b#1']);
    await second.ack('j-b', 1, 0);
    expect(attempts(second)).toEqual(['j-crash-1#1']);
  });

  it('a repeated put replaces the part and moves it to the end, also after reopening', async () => {
    const first = await spoolAt();
    await first.put(hostPart(0));
    await first.put(hostPart(1));
    const changed = { ...hostPart(0), worker: 'w-again' };
    await first.put(changed);
    expect(await bodies(first)).toEqual([hostPart(1), changed]);
    expect(first.size).toBe(2);
    await first.close();
    expect(await bodies(await spoolAt())).toEqual([hostPart(1), changed]);
  });

  it('leaves a small file whose parts are all acked as it is', async () => {
    const spool = await spoolAt();
    for (let seq = 0; seq < 10; seq++) await spool.put(hostPart(seq));
    await Promise.all(Array.from({ length: 10 }, (_, seq) => spool.ack('j-crash-1', 1, seq)));
    await spool.close();
    expect(await fileLines()).toBe(20);
    expect((await spoolAt()).size).toBe(0);
  });

  it('truncates the file once everything is acked and it holds 64 KiB', async () => {
    const spool = await spoolAt();
    let parts = 0;
    while ((await fileBytes()) < 64 * 1024) await spool.put(hostPart(parts++));
    await Promise.all(Array.from({ length: parts }, (_, seq) => spool.ack('j-crash-1', 1, seq)));
    await spool.close(); // waits for the compaction
    expect(await fileBytes()).toBe(0);
    expect(await readdir(dir)).toEqual([SPOOL_FILE]);
    const reopened = await spoolAt();
    expect(reopened.size).toBe(0);
    await reopened.put(hostPart(99));
    expect(keys(reopened.pending())).toEqual(['j-crash-1#1#99']);
  });

  it("keeps the highest JOB stamp of its master across restarts, and ignores another master's", async () => {
    const first = await openSpool(dir, { master: 'SHA256:a' });
    expect(first.acceptedStamp).toBe(0);
    await first.keepStamp(1000);
    await first.keepStamp(900); // lower: nothing to keep
    await first.keepStamp(1001);
    await first.close();
    expect(await fileLines()).toBe(2);
    const again = await openSpool(dir, { master: 'SHA256:a' });
    expect(again.acceptedStamp).toBe(1001);
    await again.close();
    const other = await openSpool(dir, { master: 'SHA256:b' });
    open.push(other);
    expect(other.acceptedStamp).toBe(0);
  });

  it('carries the stamp into the file a compaction writes, also when everything was acked', async () => {
    const spool = await openSpool(dir, { master: 'SHA256:a' });
    await spool.keepStamp(5000);
    let parts = 0;
    while ((await fileBytes()) < 64 * 1024) await spool.put(hostPart(parts++));
    await Promise.all(Array.from({ length: parts }, (_, seq) => spool.ack('j-crash-1', 1, seq)));
    await spool.close(); // waits for the compaction
    expect(await readFile(join(dir, SPOOL_FILE), 'utf8')).toBe(
      '{"stamp":5000,"master":"SHA256:a"}\n',
    );
    const reopened = await openSpool(dir, { master: 'SHA256:a' });
    open.push(reopened);
    expect([reopened.acceptedStamp, reopened.size]).toEqual([5000, 0]);
  });

  it('rewrites only live parts once the file passes the threshold and twice the live size', async () => {
    const spool = await spoolAt(dir, 16 * 1024);
    for (let seq = 0; seq < 200; seq++) await spool.put(hostPart(seq));
    for (let seq = 0; seq < 200; seq++) if (seq % 10 !== 0) await spool.ack('j-crash-1', 1, seq);
    await spool.close();
    // Without compaction the file would hold 200 puts + 180 acks.
    const lines = await fileLines();
    expect(lines).toBeLessThan(100);
    expect(lines).toBeGreaterThanOrEqual(20);
    const reopened = await spoolAt();
    expect(reopened.pending().map((p) => p.seq)).toEqual(
      Array.from({ length: 20 }, (_, i) => i * 10),
    );
  });

  it('never loses or revives a part while puts and acks race with compactions', async () => {
    const spool = await spoolAt(dir, 8 * 1024);
    const model = new Map<number, Data>();
    let random = 42;
    const next = (): number => (random = (random * 1_103_515_245 + 12_345) % 2 ** 31);
    let seq = 0;
    for (let round = 0; round < 40; round++) {
      const ops: Promise<void>[] = [];
      for (let i = 0; i < 25; i++) {
        const live = [...model.keys()];
        if (live.length > 0 && next() % 3 === 0) {
          const victim = live[next() % live.length]!;
          model.delete(victim);
          ops.push(spool.ack('j-crash-1', 1, victim));
        } else {
          const part = hostPart(seq);
          model.set(seq++, part);
          ops.push(spool.put(part));
        }
      }
      await Promise.all(ops);
      // Read back from wherever the compactions moved them, some still running.
      expect(await bodies(spool)).toEqual([...model.values()]);
    }
    await spool.close();
    expect(await bodies(await spoolAt())).toEqual([...model.values()]);
    expect(await readdir(dir)).toEqual([SPOOL_FILE]);
  });

  it('compacts on open what a crash left uncompacted', async () => {
    const lines = [0, 1, 2].map((seq) => JSON.stringify({ put: hostPart(seq) }));
    lines.push(
      ...[0, 2].map((seq) => JSON.stringify({ ack: { job: 'j-crash-1', attempt: 1, seq } })),
    );
    await writeFile(join(dir, SPOOL_FILE), lines.join('\n') + '\n');
    const spool = await spoolAt(dir, 100);
    await spool.close();
    expect(await readFile(join(dir, SPOOL_FILE), 'utf8')).toBe(`${lines[1]}\n`);
  });

  it('a failed compaction is logged, loses nothing and leaves the spool working', async () => {
    const warn = vi.fn();
    // Any file past a byte is worth compacting once its one part is acked.
    const spool = await openSpool(dir, { log: { warn } as unknown as Logger, compactAtBytes: 1 });
    open.push(spool);
    await spool.put(hostPart(0));
    await mkdir(join(dir, `${SPOOL_FILE}.rewrite.tmp`)); // the rewrite cannot create its file
    const acked = spool.ack('j-crash-1', 1, 0);
    // Put while the doomed rewrite is queued: it lands in the old file, not the new one.
    const during = spool.put(hostPart(1));
    await Promise.all([acked, during]);
    await vi.waitFor(() => expect(warn).toHaveBeenCalledTimes(1));
    expect(warn.mock.calls[0]?.[0]).toMatchObject({ err: { code: 'SCANMESH_STORE_FAILED' } });
    await spool.put(hostPart(2));
    expect(await bodies(spool)).toEqual([hostPart(1), hostPart(2)]);
    await spool.close();
    await rm(join(dir, `${SPOOL_FILE}.rewrite.tmp`), { recursive: true });
    expect(keys((await spoolAt()).pending())).toEqual(['j-crash-1#1#1', 'j-crash-1#1#2']);
  });

  it('keeps only references in memory: bodies are read back from the file', async () => {
    const spool = await spoolAt();
    for (let seq = 0; seq < 50; seq++) await spool.put(hostPart(seq));
    expect(Object.keys(spool.pending()[20]!).sort()).toEqual(['attempt', 'bytes', 'job', 'seq']);
    // Change part 20 on disk behind the spool's back (same length): a read must see the change.
    const path = join(dir, SPOOL_FILE);
    const text = await readFile(path, 'utf8');
    await writeFile(path, text.replace('"address":"10.0.0.20"', '"address":"10.9.9.20"'));
    expect((await body(spool, 'j-crash-1', 1, 20)) as DataHost).toMatchObject({
      host: { address: '10.9.9.20' },
    });
    expect(await body(spool, 'j-crash-1', 1, 21)).toEqual(hostPart(21));
  });

  it('reads a part as the exact bytes of its DATA message, whatever the key order on disk', async () => {
    const spool = await spoolAt();
    await spool.put(hostPart(3));
    expect(String(await spool.read('j-crash-1', 1, 3))).toBe(JSON.stringify(hostPart(3)));
    await spool.close();
    // Written by something else: same part, keys in another order.
    const { job, attempt, seq, ...rest } = hostPart(4);
    await appendFile(
      join(dir, SPOOL_FILE),
      `${JSON.stringify({ put: { seq, attempt, job, ...rest } })}\n`,
    );
    const reopened = await spoolAt();
    expect(await body(reopened, 'j-crash-1', 1, 4)).toEqual(hostPart(4));
  });

  it('writes each turn byte for byte: multi-byte text, a turn larger than its buffer, small turns after it', async () => {
    const withText = (seq: number, text: string): DataHost => {
      const part = hostPart(seq);
      return { ...part, host: { ...part.host, hostnames: [{ name: text, type: 'PTR' }] } };
    };
    const big = 'é🦊'.repeat(60_000); // 360 KB of UTF-8 in 180,000 UTF-16 units
    const turns = [
      [withText(0, 'häst'), withText(1, big), withText(2, '日本')],
      [withText(3, 'ß')],
      [withText(4, 'plain'), withText(5, '—')],
    ];
    const spool = await spoolAt();
    for (const turn of turns) await Promise.all(turn.map((part) => spool.put(part)));
    const want = turns.flat();
    for (const part of want) {
      expect(String(await spool.read(part.job, part.attempt, part.seq))).toBe(JSON.stringify(part));
    }
    await spool.close();
    expect(await bodies(await spoolAt())).toEqual(want);
  });

  it('reads a part once its put is durable, and nothing for an acked or unknown one', async () => {
    const spool = await spoolAt();
    const put = spool.put(hostPart(0));
    const read = body(spool, 'j-crash-1', 1, 0);
    const written = spool.written('j-crash-1', 1, 0);
    expect(spool.size).toBe(0);
    expect(await read).toEqual(hostPart(0));
    expect(await written).toBe(true);
    expect(spool.size).toBe(1);
    await put;
    await spool.ack('j-crash-1', 1, 0);
    expect(await spool.read('j-crash-1', 1, 0)).toBeNull();
    expect(await spool.written('j-crash-1', 1, 0)).toBe(false);
    expect(await spool.read('j-other', 1, 0)).toBeNull();
  });

  it('refuses to hand out a part whose line is not where the index says', async () => {
    const spool = await spoolAt();
    await spool.put(hostPart(0));
    await spool.put(hostPart(1));
    const path = join(dir, SPOOL_FILE);
    const [first, second] = (await readFile(path, 'utf8')).split('\n');
    await writeFile(path, `${second}\n${first}\n`); // same bytes, swapped: a stale index
    await expect(spool.read('j-crash-1', 1, 0)).rejects.toMatchObject({
      code: 'SCANMESH_STORE_FAILED',
    });
  });

  it('refuses a compaction threshold that is not a byte count', async () => {
    await expect(openSpool(dir, { compactAtBytes: -1 })).rejects.toMatchObject({
      code: 'SCANMESH_BAD_CONFIG',
    });
  });

  it('refuses to open a spool file with a foreign record', async () => {
    const spool = await spoolAt();
    await spool.put(hostPart(0));
    await spool.close();
    await appendFile(join(dir, SPOOL_FILE), '{"other":1}\n');
    await expect(openSpool(dir)).rejects.toMatchObject({ code: 'SCANMESH_STORE_FAILED' });
  });
});

describe('spool crash (SIGKILL) during puts, acks and compactions', () => {
  const child = join('test', 'harness', 'spool-writer.ts');

  it('keeps every acknowledged put until its ack was acknowledged', async () => {
    const put = new Set<number>();
    const acked = new Set<number>();
    let firstSeq = 0;
    for (let run = 0; run < 2; run++) {
      const lines = await runAndKill(child, [dir, String(firstSeq)], (l) => l.length >= 600);
      for (const line of lines) {
        const [op, seq] = line.split(' ');
        (op === 'put' ? put : acked).add(Number(seq));
      }
      firstSeq = Math.max(...put) + 1000; // beyond anything the child may have put unseen
    }
    expect(acked.size).toBeGreaterThan(100);

    const spool = await spoolAt();
    const pending = spool.pending().map((p) => p.seq);
    // Multiples of 10 are never acked: every one whose put was acknowledged must be there. (Any
    // other unacked one may have had its ack land just before the kill, before it was printed.)
    const neverAcked = [...put].filter((seq) => seq % 10 === 0);
    expect(neverAcked.length).toBeGreaterThan(20);
    expect(pending).toEqual(expect.arrayContaining(neverAcked));
    expect(pending.filter((seq) => acked.has(seq))).toEqual([]);
    // Other seqs are acked right after their put: at most one in flight per writer can remain.
    expect(pending.filter((seq) => seq % 10 !== 0).length).toBeLessThanOrEqual(2 * 8);
    expect(pending).toEqual([...pending].sort((a, b) => a - b));
  });
});
