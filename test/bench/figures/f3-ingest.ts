import { pino } from 'pino';
import { createNmapXmlParser } from '../../../src/nmap/xml-stream.ts';
import type { IPoint } from 'influx';
import { createInfluxWriter, type InfluxWriter } from '../../../src/storage/influx-writer.ts';
import { EMPTY_TALLY, hostPoints, scanPoint, tallyHost } from '../../../src/storage/points.ts';
import { attemptRecord } from '../../harness/results.ts';
import { MS_PER_TICK, processTicks } from '../lib/breakdown.ts';
import type { BenchContext } from '../lib/context.ts';
import { captureInflux, createDatabase, dropDatabase, postLines } from '../lib/influx-raw.ts';
import { nmapXml } from '../lib/nmap-xml.ts';
import { fmtNum, median, nowMs, sleep } from '../lib/stats.ts';
import { ratio, verdict, type Row } from '../table.ts';

/** Points per write, as the master's outbox batches them (master.ts: batchPoints). */
const BATCH = 5000;
/** Bytes per parser write: what a pipe from nmap hands over at once. */
const CHUNK = 64 * 1024;
/** Each generated host is one `host` point and five `port` points. */
const POINTS_PER_HOST = 6;

/**
 * Figure 3: nmap XML → parsed hosts → points → InfluxDB through the project's parser, point
 * builders and writer, against a raw POST of the same line protocol to the same influxd. Each run
 * writes into a fresh database, so both pay for creating the same series.
 */
export async function figure3(ctx: BenchContext): Promise<Row[]> {
  const hosts = Math.ceil(ctx.options.ingestPoints / POINTS_PER_HOST);
  const xml = nmapXml(hosts);
  const url = ctx.influxd.url;

  // The exact bodies the writer sends, captured once, so the raw run posts the same points.
  const capture = await captureInflux();
  const cpuOnly = await pipeline(xml, writerFor(capture.url, 'captured'));
  const bodies = [...capture.bodies];
  await capture.close();
  const points = bodies.reduce((n, b) => n + b.split('\n').length, 0);

  // Alternating rounds, medians: influxd's speed drifts as the disk flushes. Each round starts
  // once influxd has finished the last one's background work (snapshots, compactions), which
  // otherwise lands on whichever round comes next; its database is made before that. And each
  // round's database is dropped after it: influxd's in-memory index holds the series of every
  // database, so without the drop each round paid for those before it: influxd's CPU for the same
  // 100,003 points ranged over 3.2–8.2 s in ten rounds, and 3.3–5.8 s with the drop.
  const rounds = ctx.options.quick ? 2 : 5;
  const raw: number[] = [];
  const ours: number[] = [];
  const influxCpu: string[] = [];
  const pid = ctx.influxd.pid;
  const timed = async (who: string, db: string, run: () => Promise<number>) => {
    const idle = await untilIdle(pid);
    const cpu0 = influxdCpuMs(pid);
    const ms = await run();
    const cpu1 = influxdCpuMs(pid);
    await dropDatabase(url, db);
    const cpu = cpu0 === null || cpu1 === null ? '?' : `${(cpu1 - cpu0) / 1000} s`;
    influxCpu.push(`${who} ${cpu}${idle ? '' : ' (started busy)'}`);
    return points / (ms / 1000);
  };
  const rawRound = async (r: number) => {
    await createDatabase(url, `bench_raw_${r}`);
    raw.push(
      await timed('raw', `bench_raw_${r}`, async () => {
        const t0 = nowMs();
        await postLines(url, `bench_raw_${r}`, bodies);
        return nowMs() - t0;
      }),
    );
  };
  const ourRound = async (r: number) => {
    const writer = writerFor(url, `bench_ingest_${r}`);
    await writer.ensureDatabase();
    ours.push(await timed('ours', `bench_ingest_${r}`, () => pipeline(xml, writer)));
  };
  for (let r = 0; r < rounds; r++) {
    const [first, second] = r % 2 === 0 ? [rawRound, ourRound] : [ourRound, rawRound];
    await first(r);
    await second(r);
  }
  const best = median(ours);
  const limit = median(raw);
  const alone = points / (cpuOnly / 1000);
  // Overlapped, the slower of the two sets the pace; on two cores they also share the CPU.
  const bound = Math.min(alone, limit);
  ctx.log(
    `${fmtNum(points)} points from ${fmtNum(hosts)} hosts (${(xml.length / 2 ** 20).toFixed(1)} MB ` +
      `XML); pipeline alone, into a stand-in server: ${fmtNum(alone)} points/s; overlapped with ` +
      `the raw write it could reach at most ${fmtNum(bound)} points/s; ` +
      `rounds ours ${ours.map((v) => fmtNum(v)).join(', ')}, raw ${raw.map((v) => fmtNum(v)).join(', ')}; ` +
      `influxd's CPU per round: ${influxCpu.join(', ')}`,
  );
  return [
    {
      id: '3',
      name: `ingest: nmap XML → parsed → InfluxDB (${fmtNum(points)} points)`,
      value: `${fmtNum(best)} points/s (median of ${rounds})`,
      limit: `raw line-protocol POST: ${fmtNum(limit)} points/s`,
      ratio: ratio(best, limit),
      goal: '≥ 0.80',
      verdict: verdict(best >= 0.8 * limit, best, limit),
    },
  ];
}

/**
 * Parses the report in 64 KiB chunks, as nmap's stdout arrives, builds the points of each host
 * and writes them in batches as the outbox does. In the mesh the worker parses while the master
 * writes, so parsing goes on while a batch is being written, with one write in flight at a time
 * as in the outbox. Each chunk yields to the event loop, as a stream's data event would, so the
 * write's socket work and InfluxDB's answer are not held up behind the parser. Resolves with the
 * elapsed ms.
 */
async function pipeline(xml: Buffer, writer: InfluxWriter): Promise<number> {
  const record = attemptRecord({ job: 'j-bench-1', worker: 'w1', command: '-sV 127.0.0.0/8' });
  const started = nowMs();
  let points: IPoint[] = [];
  let tally = EMPTY_TALLY;
  let writing: Promise<void> | null = null;
  const parser = createNmapXmlParser({
    onMeta: () => undefined,
    onHost: (host) => {
      tally = tallyHost(tally, host);
      points.push(...hostPoints(record, host));
    },
    onStats: () => undefined,
  });
  const send = async (batch: IPoint[]) => {
    await writing;
    writing = writer.write(batch);
    // Awaited before the next write or at the end; until then a failure must not go unhandled.
    writing.catch(() => undefined);
  };
  for (let at = 0; at < xml.length; at += CHUNK) {
    parser.write(xml.subarray(at, at + CHUNK));
    if (points.length >= BATCH) {
      const batch = points;
      points = [];
      await send(batch);
    }
    await new Promise(setImmediate);
  }
  parser.end();
  points.push(scanPoint({ ...record, hostCount: tally.hostsUp }, tally));
  await send(points);
  await writing;
  return nowMs() - started;
}

function writerFor(url: string, database: string): InfluxWriter {
  return createInfluxWriter({ url, database, logger: pino({ level: 'silent' }) });
}

/** influxd's CPU time so far, ms; null when it cannot be read (no /proc, influxd gone). */
function influxdCpuMs(pid: number | null): number | null {
  if (pid === null) return null;
  try {
    return processTicks(pid).own * MS_PER_TICK;
  } catch {
    return null;
  }
}

/**
 * Waits until influxd has used under a tenth of a core for 300 ms: a round should not pay for
 * the previous round's work. False when it was still busy after 20 s, or its CPU is unknown.
 */
async function untilIdle(pid: number | null): Promise<boolean> {
  const until = nowMs() + 20_000;
  let last = influxdCpuMs(pid);
  while (last !== null && nowMs() < until) {
    await sleep(300);
    const now = influxdCpuMs(pid);
    if (now !== null && now - last <= 30) return true;
    last = now;
  }
  return false;
}
