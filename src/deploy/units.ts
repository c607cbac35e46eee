import { WORKER_NODE_FLAGS } from '../cli/node-flags.js';

/**
 * systemd units for a worker (a Pi) and a master on a Linux host without docker.
 *
 * Raw sockets, and why not setcap: a worker needs CAP_NET_RAW/CAP_NET_ADMIN for SYN, UDP and OS
 * scans. `setcap cap_net_raw,cap_net_admin+eip /usr/bin/nmap` would hand them to every local
 * user who runs nmap, and it does not even work here: NoNewPrivileges= (set below, and implied
 * by RestrictAddressFamilies=, SystemCallFilter= and friends) stops execve() from granting file
 * capabilities, and the service's mount namespace is nosuid, which ignores them too. Instead
 * systemd gives the capabilities to this one service as *ambient* capabilities: the scanmesh
 * user holds them only inside this unit, they survive the execve() of an ordinary (uncapped)
 * nmap, and the bounding set keeps every other capability out. The cost is that the node process
 * holds them as well as nmap; it runs only our code, as an unprivileged user, in this sandbox.
 * nmap decides from its uid whether it may use raw sockets, so NMAP_PRIVILEGED=1 tells it that
 * it may (it refuses -sS as non-root otherwise).
 *
 * Left off on purpose: MemoryDenyWriteExecute= (V8's JIT needs writable, executable memory) and
 * ProcSubset=pid (nmap reads /proc/net/route and /proc/net/if_inet6 to pick routes).
 */
export interface UnitOptions {
  /** Absolute path of node. */
  node: string;
  /** Absolute path of the scanmesh checkout (holds src/cli/bin.js and node_modules). */
  appDir: string;
  /** Absolute path of the config file the service reads. */
  configFile: string;
  /** Absolute path of the secrets env file (SCANMESH_PASSWORD …); optional at start. */
  envFile: string;
  user: string;
  /** Directory under /var/lib that systemd creates for the service (StateDirectory=). */
  stateDirectory: string;
}

const SANDBOX = [
  'NoNewPrivileges=true',
  'ProtectSystem=strict',
  'ProtectHome=true',
  'PrivateTmp=true',
  'PrivateDevices=true',
  'ProtectKernelTunables=true',
  'ProtectKernelModules=true',
  'ProtectKernelLogs=true',
  'ProtectControlGroups=true',
  'ProtectClock=true',
  'ProtectHostname=true',
  'ProtectProc=invisible',
  'RestrictNamespaces=true',
  'RestrictRealtime=true',
  'RestrictSUIDSGID=true',
  'RemoveIPC=true',
  'PrivateMounts=true',
  'LockPersonality=true',
  'SystemCallArchitectures=native',
  'SystemCallFilter=@system-service',
  // A refused system call fails with EPERM instead of killing node with SIGSYS.
  'SystemCallErrorNumber=EPERM',
  'UMask=0077',
];

function unit(
  o: UnitOptions,
  role: 'worker' | 'master',
  description: string,
  service: string[],
  nodeFlags: readonly string[] = [],
): string {
  const execStart = [o.node, ...nodeFlags, `${o.appDir}/src/cli/bin.js`, role];
  return [
    `# Written by \`scanmesh install-${role}\`; reinstalling overwrites it. Local changes belong`,
    `# in a drop-in: systemctl edit scanmesh-${role}.service`,
    '[Unit]',
    `Description=${description}`,
    `Documentation=file://${o.appDir}/README.md`,
    '# Start once the network is configured; scanmesh itself retries until the broker answers.',
    'After=network-online.target',
    'Wants=network-online.target',
    '',
    '[Service]',
    'Type=simple',
    `User=${o.user}`,
    `Group=${o.user}`,
    `ExecStart=${execStart.join(' ')} --config ${o.configFile}`,
    '# Secrets stay out of this world-readable file: the env file is root-only (0600), and',
    '# systemd reads it before dropping to the service user ("-": it may not exist).',
    `EnvironmentFile=-${o.envFile}`,
    `StateDirectory=${o.stateDirectory}`,
    'StateDirectoryMode=0700',
    `WorkingDirectory=/var/lib/${o.stateDirectory}`,
    'Restart=always',
    'RestartSec=5',
    ...service,
    '# Sandbox. Not MemoryDenyWriteExecute=: the JavaScript JIT needs it off.',
    ...SANDBOX,
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}

export function workerUnit(o: UnitOptions): string {
  return unit(
    o,
    'worker',
    'scanmesh worker (runs nmap jobs from the mesh)',
    [
      '# Raw sockets for SYN/UDP/OS scans without root and without setcap on nmap: this service',
      '# alone holds the two capabilities (ambient, so they pass to nmap), nothing else can gain',
      '# any. nmap judges by its uid, so NMAP_PRIVILEGED=1 tells it it may use them.',
      'Environment=NMAP_PRIVILEGED=1',
      'AmbientCapabilities=CAP_NET_RAW CAP_NET_ADMIN',
      'CapabilityBoundingSet=CAP_NET_RAW CAP_NET_ADMIN',
      '# AF_PACKET, AF_NETLINK: nmap captures packets and looks up interfaces and routes.',
      'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX AF_NETLINK AF_PACKET',
    ],
    // On node's command line, so bin.js need not relaunch the worker to add them.
    WORKER_NODE_FLAGS,
  );
}

export function masterUnit(o: UnitOptions): string {
  return unit(o, 'master', 'scanmesh master (embedded MQTT broker, job queue, results)', [
    '# No capabilities at all: the broker port is above 1024 and nmap never runs here.',
    'AmbientCapabilities=',
    'CapabilityBoundingSet=',
    "# AF_NETLINK: glibc's getaddrinfo asks the kernel which address families are configured.",
    'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX AF_NETLINK',
  ]);
}
