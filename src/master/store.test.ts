import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { attemptRecord } from '../../test/harness/results.ts';
import type { AttemptRecord } from '../storage/attempt.ts';
import { MasterStore } from './store.ts';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'scanmesh-store-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function attempt(job: string): AttemptRecord {
  return attemptRecord({ job });
}

const open = () => MasterStore.open(dir, true, () => undefined);

describe('master store outbox', () => {
  it('a result marked written while the journal is compacted does not come back as pending', async () => {
    // The chaos run's finding: the master started, re-filed an attempt, its outbox wrote it to
    // InfluxDB while the start-up compaction ran, and the journal kept the attempt as pending.
    const store = await open();
    await store.finish(attempt('j1'), []);
    await Promise.all([store.markWritten([attempt('j1')]), store.compact([])]);
    expect(store.outbox.size).toBe(0);
    await store.close();

    const reopened = await open();
    expect([...reopened.outbox.keys()]).toEqual([]);
    await reopened.close();
  });

  it('a result not yet written survives compaction and a restart', async () => {
    const store = await open();
    await store.finish(attempt('j1'), []);
    await store.compact([]);
    await store.close();
    const reopened = await open();
    expect([...reopened.outbox.values()].map((r) => r.job)).toEqual(['j1']);
    await reopened.close();
  });
});
