// Plain JavaScript: bin.js reads it before tsx is loaded, so a relaunch costs no TypeScript loader.

/**
 * V8 options every worker runs with, however it is started: the systemd unit and the compose
 * service pass them on node's command line, `npx scanmesh worker` relaunches itself with them
 * (bin.js; not under --inspect, where it runs with V8's defaults), and the benchmark starts its
 * workers with them, so figure 4b measures what ships.
 *
 * A worker holds little (the spool is on disk, the send window bounds what is in flight), but at
 * nmap's pace it turns its whole output over in short-lived objects and buffers. With V8's
 * defaults its young generation grows to 16 MB semi-spaces (about 48 MB with the third), buffers
 * wait for its collections, and what outlives two of them piles up in an old generation allowed
 * to grow to several times what is live before a full collection: scanning 100 MB of XML, a
 * worker peaked at 149–205 MB, depending on when V8 ran a full collection.
 *   --max-semi-space-size=2  a young generation of 2 MB semi-spaces: collected every 2 MB.
 *   --heap-growing-percent=20  a full collection once the old generation is 20 % above what
 *                              the last one left live. Without it, the smaller young generation
 *                              promotes more, and the peak stays at 170–187 MB.
 * Together: 115–124 MB, for about 18 % more of the worker's CPU than V8's defaults. V8 reads heap
 * options only at start (v8.setFlagsFromString changes nothing then), so they have to be on
 * node's command line. --optimize-for-size does as well (111–119 MB) for 50 % more CPU.
 */
export const WORKER_NODE_FLAGS = Object.freeze([
  '--max-semi-space-size=2',
  '--heap-growing-percent=20',
]);

/** --inspect, --inspect-brk, --inspect-wait, with or without a host:port. */
const INSPECTOR = /^--inspect(-brk|-wait)?(=|$)/;

/**
 * The worker's options that this node was started without, for a `scanmesh` command line: none
 * for another command, or for a worker that has them (the unit, compose, a relaunch). An option
 * given with a value of its own counts as given: the person who set it wins. None either under an
 * inspector: a relaunch would leave the debugger attached to a process that only passes signals
 * on, and the worker's own inspector would find the port taken.
 */
export function missingNodeFlags(args, execArgv) {
  const command = args.find((arg) => !arg.startsWith('-'));
  if (command !== 'worker') return [];
  if (execArgv.some((given) => INSPECTOR.test(given))) return [];
  return WORKER_NODE_FLAGS.filter((flag) => {
    const name = flag.split('=')[0];
    return !execArgv.some((given) => given === name || given.startsWith(`${name}=`));
  });
}
