import { join } from 'node:path';
import type { BenchContext } from '../lib/context.ts';
import { Child, type ChildMessage } from '../lib/child.ts';
import { writeFakeNmap } from '../lib/fake-nmap.ts';
import { startMesh } from '../lib/mesh.ts';
import { writeNmapXml } from '../lib/nmap-xml.ts';
import { nowMs } from '../lib/stats.ts';
import { startWorkerHosts } from '../lib/workers.ts';
import { ratio, verdict, type Row } from '../table.ts';

interface Parsed extends ChildMessage {
  ms: number;
  bytes: number;
  count: number;
  maxRssKB: number;
}

const RSS_GOAL_MB = 150;

/**
 * Figure 4: the worker's XML parser on a generated many-host report (100 MB in the full run).
 * Speed against a bare pass of its own tokenizer (cutting at each element, xml-split.ts, and
 * scanning each, xml-scan.ts) on the same file; peak RSS of a whole real worker that scans it
 * (a fake nmap that prints the file), streaming every host to a real master over MQTT.
 */
export async function figure4(ctx: BenchContext): Promise<Row[]> {
  const dir = await ctx.scratch('f4');
  const path = join(dir, 'many-hosts.xml');
  const hosts = await writeNmapXml(path, ctx.options.xmlMb * 2 ** 20);

  const parse = async (parser: 'ours' | 'scan' | 'sax') => {
    const child = new Child('parse-xml', { path, parser }, `parse-xml-${parser}`);
    return child.next<Parsed>('parsed', 600_000);
  };
  // Alternating rounds (ours first, then the bare tokenizer first), the fastest of each: a shared
  // machine only ever slows a run down, and whichever parser went first alone would pay for the
  // load figure 3 leaves behind in influxd.
  const runs: Record<'ours' | 'scan', Parsed[]> = { ours: [], scan: [] };
  const order = ['ours', 'scan'] as const;
  for (let r = 0; r < (ctx.options.quick ? 1 : 2); r++) {
    for (const parser of r % 2 === 0 ? order : [...order].reverse()) {
      runs[parser].push(await parse(parser));
    }
  }
  // Once, for the log only: the tokenizer ours used before, which still reads what xml-scan.ts
  // leaves to it.
  const sax = await parse('sax');
  const mbps = (p: Parsed) => p.bytes / 2 ** 20 / (p.ms / 1000);
  const fastest = (list: Parsed[]) => list.reduce((a, b) => (mbps(b) > mbps(a) ? b : a));
  const ours = fastest(runs.ours);
  const scan = fastest(runs.scan);
  for (const run of [...runs.ours, ...runs.scan]) {
    if (run.count !== hosts) throw new Error(`parser saw ${run.count} of ${hosts} hosts`);
  }
  const peakKB = (list: Parsed[]) => Math.max(...list.map((p) => p.maxRssKB));

  // A whole worker: nmap's output streamed host by host into spool, MQTT and a master that acks.
  const mesh = await startMesh({ dir: join(dir, 'mesh'), influx: null, helloIntervalMs: 5000 });
  const workers = await startWorkerHosts({
    mesh,
    dir,
    count: 1,
    nmapPath: await writeFakeNmap(dir, { output: path }),
  });
  const idleMB = Number(workers.ready[0]?.rssKB) / 1024;
  const started = nowMs();
  await mesh.addCommands(['-sT -p 22 127.0.0.1']);
  await mesh.waitFinished(1, 900_000);
  const workerS = (nowMs() - started) / 1000;
  const [report] = await workers.report();
  await workers.stop();
  await mesh.stop();
  const peakMB = Number(report?.maxRssKB) / 1024;
  const fileMB = ours.bytes / 2 ** 20;
  ctx.log(
    `${fileMB.toFixed(0)} MB, ${hosts} hosts; parser MB/s ours ` +
      `${runs.ours.map((p) => mbps(p).toFixed(1)).join(', ')}, bare tokenizer (xml-split.ts + ` +
      `xml-scan.ts, the one ours uses) ${runs.scan.map((p) => mbps(p).toFixed(1)).join(', ')}, ` +
      `bare sax (the tokenizer before xml-scan.ts) ${mbps(sax).toFixed(1)}; parser peak RSS ` +
      `${(peakKB(runs.ours) / 1024).toFixed(0)} MB (bare tokenizer ` +
      `${(peakKB(runs.scan) / 1024).toFixed(0)} MB); whole worker: ${workerS.toFixed(1)} s ` +
      `(${(fileMB / workerS).toFixed(1)} MB/s end to end, acked by the master), at most ` +
      `${String(report?.maxUnacked)} DATA parts unacknowledged at once (spooled), at most ` +
      `${String(report?.maxOnWire)} of them published`,
  );
  return [
    {
      id: '4a',
      name: `XML parser speed (${fileMB.toFixed(0)} MB, ${hosts} hosts)`,
      value: `${mbps(ours).toFixed(1)} MB/s (peak RSS ${(peakKB(runs.ours) / 1024).toFixed(0)} MB)`,
      limit: `bare tokenizer (split + scan): ${mbps(scan).toFixed(1)} MB/s`,
      ratio: ratio(mbps(ours), mbps(scan)),
      goal: '— (issue gives none)',
      verdict: 'INFO',
    },
    {
      id: '4b',
      name: `worker peak RSS scanning ${fileMB.toFixed(0)} MB of XML`,
      value: `${peakMB.toFixed(0)} MB`,
      limit: `same worker idle: ${idleMB.toFixed(0)} MB`,
      ratio: ratio(peakMB, idleMB),
      goal: `< ${RSS_GOAL_MB} MB`,
      verdict: verdict(peakMB < RSS_GOAL_MB, peakMB, idleMB),
    },
  ];
}
