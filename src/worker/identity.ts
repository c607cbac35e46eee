import os from 'node:os';

/**
 * A worker's id must survive reboots (seed 000 derives it from the MAC address): the master tracks
 * jobs and counters by it. The primary MAC is the first non-internal interface's, by name, so the
 * same Pi gets the same id whichever interface came up first; without one, the hostname.
 */
export function defaultWorkerId(
  interfaces: NodeJS.Dict<os.NetworkInterfaceInfo[]> = os.networkInterfaces(),
  hostname: string = os.hostname(),
): string {
  const macs = Object.keys(interfaces)
    .sort()
    .flatMap((name) => interfaces[name] ?? [])
    .filter((i) => !i.internal && i.mac && i.mac !== '00:00:00:00:00:00')
    .map((i) => i.mac.replace(/:/g, '').toLowerCase());
  if (macs[0]) return macs[0];
  const clean = hostname.replace(/[^A-Za-z0-9._-]/g, '-').replace(/^[^A-Za-z0-9]+/, '');
  return clean.slice(0, 64) || 'worker';
}

/** Per-user data folder (XDG), or the system service's folder when running as root. */
export function defaultWorkerStateDir(env: NodeJS.ProcessEnv = process.env): string {
  if (process.getuid?.() === 0) return '/var/lib/scanmesh';
  const base = env.XDG_DATA_HOME || `${os.homedir()}/.local/share`;
  return `${base}/scanmesh/worker`;
}
