import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';

/**
 * How busy this process (the master and its embedded broker) was over a window: the share of time
 * its event loop ran code, and the CPU it used. A master that is slow with an idle loop waits on
 * something (the disk); one with a saturated loop is short of CPU.
 */
export interface LoadWindow {
  stop(): { elu: number; cpuMs: number; wallMs: number };
}

export function loadWindow(): LoadWindow {
  const elu = performance.eventLoopUtilization();
  const cpu = process.cpuUsage();
  const started = performance.now();
  return {
    stop() {
      const used = process.cpuUsage(cpu);
      return {
        elu: performance.eventLoopUtilization(elu).utilization,
        cpuMs: (used.user + used.system) / 1000,
        wallMs: performance.now() - started,
      };
    },
  };
}

/** The machine's 1-minute load average: other work on a shared machine shows here. */
export function machineLoad(): string {
  return loadavg()[0]?.toFixed(1) ?? '?';
}
