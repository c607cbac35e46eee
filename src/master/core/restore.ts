import type { Ctx } from './context.ts';
import { newJob } from './on-commands.ts';
import { addSchedule } from './on-schedules.ts';
import { failIfSpent, failureReason, finishJob } from './scheduling.ts';
import type { MasterState } from './state.ts';
import type { JobEntry, MasterRecord } from './types.ts';

/**
 * Fold one journal record into the state. Records are facts in the order they were made durable;
 * replaying them rebuilds every job as it was, including parts of attempts still in flight.
 */
export function applyRecord(state: MasterState, r: MasterRecord): void {
  if (r.t === 'job') {
    state.addJob(newJob(r.seq, r, r.run ?? null));
    state.nextSeq = Math.max(state.nextSeq, r.seq + 1);
    const schedule = r.run && state.schedules.get(r.run.line);
    if (schedule && r.run) {
      if (r.run.k > schedule.runs) schedule.current = [];
      schedule.runs = Math.max(schedule.runs, r.run.k);
      if (r.run.k === schedule.runs) schedule.current.push(r.id);
    }
    return;
  }
  if (r.t === 'schedule') return void addSchedule(state, r);
  if (r.t === 'unschedule') return void state.schedules.delete(r.line);
  if (r.t === 'stamp') return void (state.lastStamp = Math.max(state.lastStamp, r.stamp));
  if (r.t === 'ended' || r.t === 'written' || r.t === 'compared') return applyEnded(state, r);
  const job = state.jobs.get(r.job);
  if (!job) return;
  switch (r.t) {
    case 'assign':
    case 'adopt':
      if (r.t === 'assign') state.lastStamp = Math.max(state.lastStamp, r.stamp ?? 0);
      job.attempts = Math.max(job.attempts, r.attempt);
      job.live.set(r.attempt, { worker: r.worker, deadline: r.deadline, since: 0 });
      if (job.status === 'pending') state.setStatus(job, 'running');
      return;
    case 'cutoff':
      job.live.delete(r.attempt);
      job.reason = r.reason;
      return;
    case 'host':
      receipt(job, r.attempt, r.worker).hosts.set(r.seq, r.host);
      return;
    case 'end':
      receipt(job, r.attempt, r.worker).end = r.end;
      return;
    case 'closed':
      receipt(job, r.attempt, r.worker).ended = true;
      return;
    case 'status':
      state.setStatus(job, r.status);
      job.reason = r.reason;
      job.live.clear();
      job.receipts.clear();
      return;
  }
}

function applyEnded(state: MasterState, r: MasterRecord): void {
  if (r.t !== 'ended') return;
  const job = state.jobs.get(r.record.job);
  if (!job) return;
  const rc = receipt(job, r.record.attempt, r.record.worker);
  rc.ended = true;
  rc.hosts.clear();
  job.live.delete(r.record.attempt);
  if (r.record.status === 'completed') job.doneAttempt = r.record.attempt;
  else job.reason = failureReason(r.record.status, r.record.error);
}

function receipt(job: JobEntry, attempt: number, worker: string) {
  let rc = job.receipts.get(attempt);
  if (!rc) {
    rc = { worker, hosts: new Map(), end: null, ended: false };
    job.receipts.set(attempt, rc);
  }
  return rc;
}

/**
 * After replay: pending jobs (and running ones nobody is known to run) go back into the queue in
 * their original order, and each worker that was running something is assumed present until it
 * misses its S_HELLO rounds; then its attempts are requeued like any other.
 */
export function settleAfterReplay(state: MasterState, now: number, graceMs: number): void {
  const waiting: JobEntry[] = [];
  for (const job of state.jobs.values()) {
    if (job.status === 'running' && job.live.size === 0) state.setStatus(job, 'pending');
    if (job.status === 'pending') waiting.push(job);
    for (const [attempt, live] of job.live) {
      live.since = now;
      const worker = state.workers.get(live.worker) ?? state.newWorker(live.worker, now);
      worker.running.set(job.id, attempt);
      worker.state = 'ACTIVE';
      worker.graceUntil = now + graceMs;
      // Its slots stay unknown (1) until its CL_HELLO says: counting what it runs as slots would
      // hand a 1-slot worker holding two attempts (one adopted, one refused) a second job.
    }
  }
  state.pending.reset(waiting.sort((a, b) => a.seq - b.seq).map((j) => j.id));
}

/**
 * A completed attempt is filed (results file, then its `ended` record) before the job's `done`
 * status reaches the journal in a later write. A crash in between leaves a job whose result is
 * stored and queued for InfluxDB, yet which replays as unfinished: without this it would be handed
 * out again and its second result written too. Run before anything else may end an attempt.
 */
export function finishFiledJobs(ctx: Ctx): void {
  for (const job of ctx.state.jobs.values()) {
    if (job.doneAttempt === null || job.status === 'done') continue;
    if (job.status === 'failed' || job.status === 'removed') continue;
    finishJob(ctx, job, 'done', '', { attempt: job.doneAttempt, restored: true });
  }
}

/**
 * A job's last attempt ends without results in the same step as the job's `failed` status, but
 * the two reach the journal in separate writes. A crash in between replays the job as pending
 * with every attempt spent, and it would get one attempt more than allowed: give up on it now,
 * with the reason its last attempt ended (replay keeps it in `reason`).
 */
export function failSpentJobs(ctx: Ctx): void {
  for (const job of ctx.state.jobs.values()) if (job.status === 'pending') failIfSpent(ctx, job);
}

/** The journal reduced to what the current state needs, for compaction. */
export function snapshotRecords(state: MasterState): MasterRecord[] {
  const out: MasterRecord[] = [];
  if (state.lastStamp > 0) out.push({ t: 'stamp', stamp: state.lastStamp });
  // Before the jobs: replaying a run's job finds its schedule.
  for (const { line, spec, template, anchor } of state.schedules.values()) {
    out.push({ t: 'schedule', line, spec, template, anchor });
  }
  for (const job of state.jobs.values()) {
    const { id, seq, command, args, timeoutS, parent, run } = job;
    out.push({
      t: 'job',
      id,
      seq,
      command,
      args,
      timeoutS,
      ...(parent ? { parent } : {}),
      ...(run ? { run } : {}),
    });
    if (job.status === 'done' || job.status === 'failed' || job.status === 'removed') {
      out.push({ t: 'status', job: id, status: job.status, reason: job.reason });
      continue;
    }
    // Keep the attempt counter: later attempts must never reuse a number a worker may still hold.
    for (let attempt = 1; attempt <= job.attempts; attempt++) {
      const live = job.live.get(attempt);
      const w = live?.worker ?? job.receipts.get(attempt)?.worker ?? '';
      out.push({ t: 'assign', job: id, attempt, worker: w, deadline: live?.deadline ?? 0 });
      // The reason stays, so a restart from the snapshot can still give up on a spent job with it.
      if (!live) out.push({ t: 'cutoff', job: id, attempt, reason: job.reason || 'compacted' });
    }
    for (const [attempt, rc] of job.receipts) {
      if (rc.ended) {
        out.push({ t: 'closed', job: id, attempt, worker: rc.worker });
        continue;
      }
      for (const [s, host] of rc.hosts) {
        out.push({ t: 'host', job: id, attempt, worker: rc.worker, seq: s, host });
      }
      if (rc.end) out.push({ t: 'end', job: id, attempt, worker: rc.worker, end: rc.end });
    }
  }
  return out;
}
