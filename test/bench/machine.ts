import { execFileSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';

/** The machine a run measured, printed above its table. */
export function describeMachine(): string {
  const cpu = cpus();
  const version = (cmd: string, args: string[]) => {
    try {
      return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
        .split('\n')[0]
        ?.trim();
    } catch {
      return 'not found';
    }
  };
  return [
    `machine: ${cpu[0]?.model.trim() ?? 'unknown CPU'}, ${cpu.length} cores, ` +
      `${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, ${process.platform} ${process.arch}`,
    `node ${process.version}; ${version('nmap', ['--version'])}; influxd ${version('influxd', ['version'])}`,
  ].join('\n');
}
