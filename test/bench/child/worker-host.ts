/**
 * Child process: real worker shells (src/worker/worker.ts) over TCP to the bench's broker, each
 * with its own spool, pinned to the master's key, running the given nmap. Several workers share
 * this process because 100 processes would not fit two cores; each still has its own connection.
 */
import { join } from 'node:path';
import { pino } from 'pino';
import { systemClock } from '../../../src/clock.ts';
import { DEFAULT_POLICY } from '../../../src/nmap/policy.ts';
import { loadMasterPublicKey } from '../../../src/security/master-key.ts';
import { startWorker, type RunningWorker } from '../../../src/worker/worker.ts';
import { childConfig, exitWithParent, toParent } from '../lib/child.ts';
import { epochMs } from '../lib/stats.ts';

export interface WorkerHostConfig {
  brokerPort: number;
  ids: string[];
  stateDir: string;
  nmapPath: string;
  masterPubPath: string;
  slots: number;
}

const c = childConfig<WorkerHostConfig>();
const problems: string[] = [];
const sink = {
  write(line: string) {
    if (problems.length < 20) problems.push(line.trim());
  },
};
const logger = pino({ level: 'warn' }, sink);
const masterKey = await loadMasterPublicKey(c.masterPubPath);
const workers: RunningWorker[] = await Promise.all(
  c.ids.map((id) =>
    startWorker({
      id,
      topicRoot: 'scanmesh/v1/',
      broker: { url: `mqtt://127.0.0.1:${c.brokerPort}` },
      slots: c.slots,
      stateDir: join(c.stateDir, id),
      nmapPath: c.nmapPath,
      policy: DEFAULT_POLICY,
      // Bench targets are addresses; a name reaching the resolver is a bench bug.
      resolve: (name) => Promise.reject(new Error(`unexpected lookup of ${name}`)),
      resendAfterMs: 10_000,
      clock: systemClock,
      logger: logger.child({ worker: id }),
      onFatal: (err) => problems.push(`fatal: ${String(err)}`),
      masterKey,
    }),
  ),
);
await Promise.all(workers.map((w) => w.ready));
/** Per job, epoch ms: the JOB reached a worker's core, and nmap exited (policy check between). */
const runs: Record<string, { received: number; ran: number }> = {};
for (const w of workers) {
  const job = w.core.job.bind(w.core);
  w.core.job = (msg, now) => {
    runs[msg.job] = { received: epochMs(), ran: NaN };
    return job(msg, now);
  };
  const runEnded = w.core.runEnded.bind(w.core);
  w.core.runEnded = (jobId, attempt, outcome) => {
    const run = runs[jobId];
    if (run) run.ran = epochMs();
    return runEnded(jobId, attempt, outcome);
  };
}
// The most DATA parts the workers held unacknowledged at once (waiting in the spool included), and
// the most of them published at once: the send window bounds the second, which memory grows with.
let maxUnacked = 0;
let maxOnWire = 0;
const sampler = setInterval(() => {
  const unacked = workers.reduce((n, w) => n + w.core.pending, 0);
  const onWire = workers.reduce((n, w) => n + w.core.onWire, 0);
  maxUnacked = Math.max(maxUnacked, unacked);
  maxOnWire = Math.max(maxOnWire, onWire);
}, 20);
exitWithParent(async () => {
  clearInterval(sampler);
  await Promise.all(workers.map((w) => w.stop()));
  await toParent({ type: 'stopped', ...report() });
});
process.on('message', (m: { type: string }) => {
  if (m.type === 'report') void toParent({ type: 'report', ...report() });
});
await toParent({ type: 'ready', ...memory() });

function report() {
  return { ...memory(), maxUnacked, maxOnWire, runs, problems };
}

function memory(): { rssKB: number; maxRssKB: number } {
  return {
    rssKB: Math.round(process.memoryUsage().rss / 1024),
    maxRssKB: process.resourceUsage().maxRSS,
  };
}
