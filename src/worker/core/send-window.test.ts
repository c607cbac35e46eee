import { describe, expect, it } from 'vitest';
import type { HostResult } from '../../nmap/result.ts';
import type { DataAck } from '../../protocol/messages/data-ack.ts';
import type { WorkerEffect } from './types.ts';
import { completed, T0, testJob as job } from './testkit.ts';
import { WorkerCore, type WorkerCoreOptions } from './worker-core.ts';

// Flow control: time is passed in explicitly, so these run on made-up clocks, not real timers.

const W = 4;
const opts: WorkerCoreOptions = {
  id: 'w1',
  nmapVersion: '7.93',
  slots: 2,
  resendAfterMs: 10_000,
  window: { parts: W, bytes: 1024 * 1024 },
};
const host = (i: number) => ({ address: `127.0.${i >> 8}.${i & 255}` }) as HostResult;
const outcome = completed(0);
const ack = (seq: number, id = 'j1', attempt = 1): DataAck => ({
  kind: 'DATA_ACK',
  job: id,
  attempt,
  seq,
  outcome: 'stored',
});

/** What the shell would publish, in order: held bodies and parts read back from the spool. */
const sent = (fx: WorkerEffect[]) =>
  fx.flatMap((e) =>
    e.type === 'send'
      ? [`${e.message.job}#${e.message.seq}`]
      : e.type === 'sendSpooled'
        ? [`${e.job}#${e.seq}`]
        : [],
  );
const spooled = (fx: WorkerEffect[]) =>
  fx.flatMap((e) => (e.type === 'spool' ? [`${e.message.job}#${e.message.seq}`] : []));
const range = (from: number, to: number, id = 'j1') =>
  Array.from({ length: to - from }, (_, i) => `${id}#${from + i}`);

function scanning(hosts: number): { core: WorkerCore; fx: WorkerEffect[] } {
  const core = new WorkerCore(opts);
  core.job(job(), T0);
  const fx: WorkerEffect[] = [];
  for (let i = 0; i < hosts; i++) fx.push(...core.hostFound('j1', 1, host(i)));
  return { core, fx };
}

describe('worker send window', () => {
  it('spools every part at once but puts only W on the wire', () => {
    const { core, fx } = scanning(10);
    expect(spooled(fx)).toEqual(range(0, 10));
    expect(sent(fx)).toEqual(range(0, W));
    expect(core.onWire).toBe(W);
    expect(core.pending).toBe(10);
  });

  it('each ack lets the oldest waiting part out, read back from the spool', () => {
    const { core } = scanning(10);
    const fx = core.ack(ack(1));
    expect(fx).toEqual([
      { type: 'forget', job: 'j1', attempt: 1, seq: 1 },
      { type: 'sendSpooled', job: 'j1', attempt: 1, seq: 4 },
    ]);
    expect(sent(core.ack(ack(0)))).toEqual(['j1#5']);
    expect(core.onWire).toBe(W);
    expect(core.pending).toBe(8);
  });

  it('counts bytes too: a large part waits for room, and one larger than the window goes alone', () => {
    const core = new WorkerCore({ ...opts, window: { parts: 100, bytes: 600 } });
    core.job(job(), T0);
    const big = { ...host(0), scripts: [{ id: 'x', output: 'y'.repeat(1000) }] } as HostResult;
    expect(sent(core.hostFound('j1', 1, host(0)))).toEqual(['j1#0']);
    expect(sent(core.hostFound('j1', 1, big))).toEqual([]);
    // Small enough to fit beside j1#0, but parts leave in order: it waits behind the big one.
    expect(sent(core.hostFound('j1', 1, host(2)))).toEqual([]);
    expect(sent(core.ack(ack(0)))).toEqual(['j1#1']);
    expect(core.onWire).toBe(1);
    expect(sent(core.ack(ack(1)))).toEqual(['j1#2']);
  });

  it('reconnect resends what is on the wire, in order, then nothing more than fits', () => {
    const { core } = scanning(10);
    core.ack(ack(2));
    const fx = core.connected(T0 + 5);
    expect(sent(fx)).toEqual(['j1#0', 'j1#1', 'j1#3', 'j1#4']);
    expect(core.onWire).toBe(W);
  });

  it('after a restart the window sends the spool in order, and an ack for a waiting part drops it', () => {
    const parts = Array.from({ length: 10 }, (_, seq) => ({
      job: 'j1',
      attempt: 1,
      seq,
      bytes: 1,
    }));
    const core = new WorkerCore(opts, parts);
    expect(sent(core.connected(T0))).toEqual(range(0, W));
    // Sent before the restart and acked only now: forgotten, never sent again.
    expect(core.ack(ack(7))).toEqual([{ type: 'forget', job: 'j1', attempt: 1, seq: 7 }]);
    const rest = [0, 1, 2, 3, 4, 5, 6, 8].flatMap((seq) => sent(core.ack(ack(seq))));
    expect(rest).toEqual(['j1#4', 'j1#5', 'j1#6', 'j1#8', 'j1#9']);
    expect(core.pending).toBe(1);
  });

  it('S_HELLO resends only parts on the wire, and those an ack let out count from the next hello', () => {
    const { core } = scanning(6);
    core.ack(ack(0)); // lets j1#4 out, at a time the core was not told
    const first = sent(core.sHello(T0 + 60_000));
    expect(first).toEqual(['j1#1', 'j1#2', 'j1#3']);
    expect(sent(core.sHello(T0 + 65_000))).toEqual([]);
    expect(sent(core.sHello(T0 + 70_000))).toEqual(range(1, 5));
  });

  it('CANCEL forgets the attempt on the wire and waiting, and frees the window for others', () => {
    const core = new WorkerCore(opts);
    core.job(job('j1'), T0);
    core.job(job('j2'), T0);
    for (let i = 0; i < 6; i++) core.hostFound('j1', 1, host(i));
    for (let i = 0; i < 3; i++) core.hostFound('j2', 1, host(i));
    const fx = core.cancel({ kind: 'CANCEL', job: 'j1', attempt: 1, reason: 'job done' });
    const forgotten = fx.flatMap((e) => (e.type === 'forget' ? [e.seq] : []));
    expect(forgotten.sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(sent(fx)).toEqual(range(0, 3, 'j2'));
    expect(core.pending).toBe(3);
  });

  it('a 10,000-host job completes with never more than W unacknowledged on the wire', () => {
    const core = new WorkerCore(opts);
    core.job(job(), T0);
    const wire: string[] = []; // published, not yet acked by our fake master
    const published: string[] = [];
    const forgotten = new Set<string>();
    let maxOnWire = 0;
    let random = 7;
    const next = () => (random = (random * 1_103_515_245 + 12_345) % 2 ** 31);
    const run = (fx: WorkerEffect[]) => {
      for (const e of fx) {
        if (e.type === 'forget') forgotten.add(`${e.job}#${e.seq}`);
        for (const key of sent([e])) {
          expect(wire).not.toContain(key);
          wire.push(key);
          published.push(key);
        }
      }
      maxOnWire = Math.max(maxOnWire, wire.length);
      expect(core.onWire).toBe(wire.length);
    };
    // The master acks a random part on the wire now and then; nmap is faster than it.
    const masterAcks = () => {
      if (wire.length === 0 || next() % 3 !== 0) return;
      const [key] = wire.splice(next() % wire.length, 1);
      run(core.ack(ack(Number(key!.split('#')[1]))));
    };
    for (let i = 0; i < 10_000; i++) {
      run(core.hostFound('j1', 1, host(i)));
      masterAcks();
    }
    run(core.runEnded('j1', 1, { ...outcome, hostCount: 10_000 }));
    while (wire.length > 0) masterAcks();

    expect(maxOnWire).toBe(W);
    expect(published).toHaveLength(10_001);
    expect(new Set(published).size).toBe(10_001);
    expect(published.at(-1)).toBe('j1#10000'); // the end part last
    expect(forgotten.size).toBe(10_001);
    expect(core.pending).toBe(0);
  });
});
