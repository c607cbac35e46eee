import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import { isScanmeshError } from '../errors.ts';
import type { ErrorCode } from '../errors.ts';
import type { ScanStatus } from '../protocol/messages/data.ts';
import type { HostResult, RunStats, ScanMeta } from './result.ts';
import { ByteTail, saysNeedsRoot } from './stderr.ts';
import { createNmapXmlParser } from './xml-stream.ts';

export interface RunNmapOptions {
  /** nmap's arguments, already vetted; `-oX -` is appended. Never passed through a shell. */
  args: readonly string[];
  timeoutMs: number;
  nmapPath?: string;
  /** Aborting stops nmap; the outcome is `failed` with error "cancelled". */
  signal?: AbortSignal;
  onMeta?(meta: ScanMeta): void;
  /** Called per host as nmap reports it, long before a big scan ends. */
  onHost?(host: HostResult): void;
}

export interface NmapOutcome {
  status: ScanStatus;
  exitCode: number | null;
  error: string;
  /** '' or an ErrorCode such as SCANMESH_NMAP_TIMEOUT. */
  code: string;
  meta: ScanMeta | null;
  stats: RunStats | null;
  /** Unix milliseconds. */
  startedAt: number;
  finishedAt: number;
  hostCount: number;
}

/** How long nmap gets to exit after SIGTERM before SIGKILL: it exits at once unless wedged. */
const KILL_GRACE_MS = 2_000;
const STDERR_TAIL_BYTES = 64 * 1024;

interface Stop {
  status: ScanStatus;
  code: ErrorCode | '';
  error: string;
}

/**
 * Runs one nmap scan and reports how it ended. It never rejects for nmap's failures (missing
 * binary, non-zero exit, missing privileges, timeout, malformed XML): those are outcomes.
 */
export function runNmap(options: RunNmapOptions): Promise<NmapOutcome> {
  const startedAt = Date.now();
  const nmapPath = options.nmapPath ?? 'nmap';
  let meta: ScanMeta | null = null;
  let stats: RunStats | null = null;
  let hostCount = 0;
  const outcome = (stop: Stop, exitCode: number | null): NmapOutcome => ({
    ...stop,
    exitCode,
    meta,
    stats,
    startedAt,
    finishedAt: Date.now(),
    hostCount,
  });
  if (options.signal?.aborted) {
    return Promise.resolve(outcome({ status: 'failed', code: '', error: 'cancelled' }, null));
  }

  return new Promise((resolve) => {
    const child = spawn(nmapPath, [...options.args, '-oX', '-'], {
      shell: false,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let spawnError: NodeJS.ErrnoException | null = null;
    child.on('error', (err) => {
      if (child.pid === undefined) spawnError = err;
    });
    // No pipes: the spawn failed before making them (EMFILE, ENFILE). Node reports it on the next
    // tick, and no 'close' follows.
    if ((child.stdout as Readable | null) === null || (child.stderr as Readable | null) === null) {
      child.once('error', (err) => resolve(outcome(spawnFailure(nmapPath, err), null)));
      return;
    }
    const stderr = new ByteTail(STDERR_TAIL_BYTES);
    let stop: Stop | null = null;
    let killTimer: NodeJS.Timeout | undefined;
    const parser = createNmapXmlParser({
      onMeta: (m) => {
        meta = m;
        options.onMeta?.(m);
      },
      onHost: (h) => {
        hostCount++;
        options.onHost?.(h);
      },
      onStats: (s) => (stats = s),
    });

    // The first reason to stop wins; nmap's exit afterwards is a consequence, not the cause.
    const halt = (reason: Stop) => {
      if (stop !== null) return;
      stop = reason;
      child.kill('SIGTERM');
      killTimer = setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS);
    };
    const timer = setTimeout(
      () =>
        halt({
          status: 'timeout',
          code: 'SCANMESH_NMAP_TIMEOUT',
          error: `nmap did not finish within ${options.timeoutMs} ms`,
        }),
      options.timeoutMs,
    );
    const onAbort = () => halt({ status: 'failed', code: '', error: 'cancelled' });
    options.signal?.addEventListener('abort', onAbort, { once: true });

    child.stdout.on('data', (chunk: Buffer) => {
      if (stop !== null) return;
      try {
        parser.write(chunk);
      } catch (err) {
        halt(failureOf(err));
      }
    });
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.on('close', (exitCode, signal) => {
      clearTimeout(timer);
      clearTimeout(killTimer);
      options.signal?.removeEventListener('abort', onAbort);
      // Also for a run cut short: end() still reports a complete header before refusing the rest.
      let xmlError: unknown = null;
      try {
        parser.end();
      } catch (err) {
        xmlError = err;
      }
      if (spawnError !== null) {
        resolve(outcome(spawnFailure(nmapPath, spawnError), null));
        return;
      }
      const ran = { exitCode, signal, stderr: stderr.text(), xmlError, stats };
      resolve(outcome(stop ?? ranToEnd(ran), exitCode));
    });
  });
}

/** Why a scan nobody stopped did or did not succeed. */
function ranToEnd(ran: {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  xmlError: unknown;
  stats: RunStats | null;
}): Stop {
  const { exitCode, signal, stderr, xmlError, stats } = ran;
  if (exitCode !== 0) {
    const said = stats?.errorMessage || stderr.trim();
    const error =
      said || (signal !== null ? `nmap was killed by ${signal}` : `nmap exited with ${exitCode}`);
    return nmapFailure(error, stderr);
  }
  if (xmlError !== null) return failureOf(xmlError);
  if (stats?.exit === 'error') return nmapFailure(stats.errorMessage || stderr.trim(), stderr);
  return { status: 'completed', code: '', error: '' };
}

/** nmap's XML error message may be terse where its stderr names the missing privilege. */
function nmapFailure(error: string, stderr: string): Stop {
  const needsRoot = saysNeedsRoot(error) || saysNeedsRoot(stderr);
  const code = needsRoot ? 'SCANMESH_NEEDS_ROOT' : 'SCANMESH_NMAP_FAILED';
  return { status: 'failed', code, error };
}

function spawnFailure(nmapPath: string, err: NodeJS.ErrnoException): Stop {
  const error =
    err.code === 'ENOENT'
      ? `nmap not found: "${nmapPath}" does not exist or is not on PATH`
      : `nmap could not be started (${nmapPath}): ${err.message}`;
  return { status: 'failed', code: 'SCANMESH_NMAP_FAILED', error };
}

/** A parser or handler error: its own code when it has one. */
function failureOf(err: unknown): Stop {
  const error = err instanceof Error ? err.message : String(err);
  return { status: 'failed', code: isScanmeshError(err) ? err.code : '', error };
}
