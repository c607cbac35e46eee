#!/usr/bin/env node
// scanmesh runs from its TypeScript sources: tsx compiles them on the fly, so a checkout needs no
// build step and `npx scanmesh` works as soon as `npm ci` has run.
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { setTimeout } from 'node:timers';
import { fileURLToPath } from 'node:url';
import { missingNodeFlags } from './node-flags.js';

/** Set for a relaunched worker: it is to go when the process that started it goes. */
const RELAUNCHED = 'SCANMESH_RELAUNCHED';
/** How long an orphaned worker's clean stop may take before it is killed. */
const ORPHAN_STOP_MS = 30_000;

const args = process.argv.slice(2);
// Options in NODE_OPTIONS count as given too: the child inherits them.
const given = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)];
const missing = missingNodeFlags(args, given);
if (missing.length > 0) {
  relaunch(missing);
} else {
  if (process.env[RELAUNCHED] !== undefined) goWithParent();
  const { register } = await import('tsx/esm/api');
  register();
  await import('./main.ts');
}

/**
 * Runs this command again in a node that has the worker's V8 options (see node-flags.js), and
 * stays only to pass signals on and hand back the exit: about 7 MB of memory of its own (the
 * rest of its RSS is node's code, shared with the child), against the 25–65 MB the options take
 * off a busy worker's peak. The systemd unit and the compose service pass the options themselves
 * and never get here.
 */
function relaunch(flags) {
  const child = spawn(
    process.execPath,
    [...flags, ...process.execArgv, fileURLToPath(import.meta.url), ...args],
    { stdio: ['inherit', 'inherit', 'inherit', 'ipc'], env: { ...process.env, [RELAUNCHED]: '1' } },
  );
  // Ctrl-C in a terminal reaches the child as well (one process group). SIGTERM asks for the same
  // clean stop, and unlike a second SIGINT it does not cut that stop short.
  process.on('SIGINT', () => child.kill('SIGTERM'));
  process.on('SIGTERM', () => child.kill('SIGTERM'));
  process.on('SIGHUP', () => child.kill('SIGHUP'));
  child.on('error', (err) => {
    console.error(`scanmesh: cannot start ${process.execPath}: ${err.message}`);
    process.exit(1);
  });
  // A death by signal reads as a shell reports it: 128 + the signal's number.
  child.on('exit', (code, signal) =>
    process.exit(signal ? 128 + (constants.signals[signal] ?? 0) : (code ?? 1)),
  );
}

/**
 * The relaunching process is the one people and supervisors see and signal. Killed outright
 * (SIGKILL), it cannot pass that on, so its end closes the IPC channel, and the worker stops
 * instead of running on unseen: with SIGTERM, so that its clean stop ends the nmap runs too (a
 * SIGKILL would leave them scanning), and SIGKILL if that stop does not end it in time.
 */
function goWithParent() {
  delete process.env[RELAUNCHED]; // not for nmap, nor for anything else it starts
  process.channel?.unref();
  const stop = () => {
    setTimeout(() => process.kill(process.pid, 'SIGKILL'), ORPHAN_STOP_MS).unref();
    process.kill(process.pid, 'SIGTERM');
  };
  process.on('disconnect', stop);
  // Loading this module took turns of the event loop: the channel may have closed meanwhile.
  if (!process.connected) stop();
}
