import type { InfluxdHandle } from '../harness/influxd.ts';
import type { Mesh } from './mesh.ts';
import type { ChaosOptions } from './options.ts';
import type { Rng } from './rng.ts';

export type FaultKind = 'worker' | 'master' | 'broker' | 'influx';

export interface PlannedFault {
  kind: FaultKind;
  /** Fires once this fraction of the jobs has ended: faults land while jobs run, whatever the speed. */
  at: number;
  /** How long the victim stays down before it is restarted, ms. */
  downMs: number;
}

export interface FaultCounts {
  workerKills: number;
  masterKills: number;
  brokerRestarts: number;
  influxOutages: number;
  /** Length of the longest InfluxDB outage, seconds. */
  influxOutageS: number;
}

/**
 * The seeded plan. Worker kills fall anywhere between 2 % and 95 % of the run; master kills and
 * broker restarts are spread evenly (with jitter) so that they do not all bunch up; the InfluxDB
 * outage starts between 20 % and 50 %, so that results pile up in the outbox while jobs still end.
 */
export function planFaults(o: ChaosOptions, rng: Rng): PlannedFault[] {
  const plan: PlannedFault[] = [];
  const spread = (kind: FaultKind, n: number, from: number, to: number, down: [number, number]) => {
    for (let k = 0; k < n; k++) {
      const slot = (to - from) / n;
      plan.push({
        kind,
        at: from + slot * (k + rng.between(0.25, 0.75)),
        downMs: rng.between(down[0], down[1]),
      });
    }
  };
  for (let k = 0; k < o.workerKills; k++) {
    plan.push({ kind: 'worker', at: rng.between(0.02, 0.95), downMs: rng.between(100, 3000) });
  }
  spread('master', o.masterKills, 0.1, 0.85, [500, 4000]);
  spread('broker', o.brokerRestarts, 0.15, 0.85, [1000, 6000]);
  if (o.influxOutageS > 0) {
    plan.push({ kind: 'influx', at: rng.between(0.2, 0.5), downMs: o.influxOutageS * 1000 });
  }
  return plan.sort((a, b) => a.at - b.at);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Carries out the plan as the run progresses. Each fault runs on its own (kill, wait, restart);
 * faults of different kinds may overlap, but the master, the broker and InfluxDB are each taken
 * down only once at a time. A restart that fails is kept and rethrown by `settle`.
 */
export class FaultInjector {
  readonly counts: FaultCounts = {
    workerKills: 0,
    masterKills: 0,
    brokerRestarts: 0,
    influxOutages: 0,
    influxOutageS: 0,
  };
  private readonly due: PlannedFault[];
  private readonly inFlight = new Set<Promise<void>>();
  private readonly busy = new Set<FaultKind>();
  private readonly errors: unknown[] = [];

  constructor(
    plan: readonly PlannedFault[],
    private readonly mesh: Mesh,
    private readonly influxd: InfluxdHandle,
    private readonly rng: Rng,
    private readonly log: (line: string) => void,
    /** Called while the master is down, before it restarts (the runner edits commands.txt). */
    private readonly whileMasterDown: () => Promise<void>,
  ) {
    this.due = [...plan];
  }

  /** Every planned fault has fired and every victim is back. */
  get finished(): boolean {
    return this.due.length === 0 && this.inFlight.size === 0;
  }

  /** Fire what is due at this progress (0..1); a fault whose victim is still down waits. */
  tick(progress: number): void {
    for (let i = 0; i < this.due.length;) {
      const fault = this.due[i] as PlannedFault;
      if (fault.at > progress) break;
      if (this.busy.has(fault.kind)) {
        i++;
        continue;
      }
      if (fault.kind === 'worker' && this.mesh.aliveWorkers().length === 0) break;
      this.due.splice(i, 1);
      this.fire(fault);
    }
  }

  /** Waits for every fault in flight; rethrows the first restart that failed. */
  async settle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all(this.inFlight);
    if (this.errors.length > 0) throw this.errors[0];
  }

  private fire(fault: PlannedFault): void {
    // Many workers may be down at once; the master, the broker and InfluxDB one outage at a time.
    if (fault.kind !== 'worker') this.busy.add(fault.kind);
    const run = this.run(fault)
      .catch((err: unknown) => {
        this.errors.push(err);
        this.log(`chaos: ${fault.kind} fault failed: ${(err as Error).message}`);
      })
      .finally(() => {
        if (fault.kind !== 'worker') this.busy.delete(fault.kind);
        this.inFlight.delete(run);
      });
    this.inFlight.add(run);
  }

  private async run(fault: PlannedFault): Promise<void> {
    const { mesh, counts } = this;
    switch (fault.kind) {
      case 'worker': {
        const i = this.rng.pick(mesh.aliveWorkers());
        await mesh.killWorker(i);
        counts.workerKills += 1;
        await sleep(fault.downMs);
        mesh.startWorker(i);
        return;
      }
      case 'master':
        await mesh.killMaster();
        counts.masterKills += 1;
        this.log(`chaos: master SIGKILLed (down ${(fault.downMs / 1000).toFixed(1)} s)`);
        await this.whileMasterDown();
        await sleep(fault.downMs);
        await mesh.startMaster();
        return;
      case 'broker':
        await mesh.stopBroker();
        counts.brokerRestarts += 1;
        this.log(`chaos: broker stopped (down ${(fault.downMs / 1000).toFixed(1)} s)`);
        await sleep(fault.downMs);
        await mesh.startBroker();
        return;
      case 'influx': {
        await this.influxd.pause();
        const since = Date.now();
        counts.influxOutages += 1;
        this.log(`chaos: InfluxDB down for ${fault.downMs / 1000} s`);
        await sleep(fault.downMs);
        counts.influxOutageS = Math.max(
          counts.influxOutageS,
          Math.round((Date.now() - since) / 1000),
        );
        await this.influxd.resume();
        this.log('chaos: InfluxDB back');
        return;
      }
    }
  }
}
