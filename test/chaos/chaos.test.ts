import { describe, expect, it } from 'vitest';
import { runChaos } from './chaos.ts';

/**
 * The bounded version of `npm run chaos` for CI: the same runner, seeded, small enough for a few
 * minutes on two cores. A failure names its seed; `node --import tsx test/chaos/chaos.ts` with the
 * same options replays the same plan.
 */
describe('chaos (bounded)', () => {
  const log = (line: string) => console.log(line);

  it('fake nmap, external Mosquitto: nothing lost or doubled through kills, restarts and an outage', async () => {
    const result = await runChaos({
      jobs: 150,
      workers: 6,
      seed: 20261121,
      broker: 'mosquitto',
      workerKills: 10,
      masterKills: 1,
      brokerRestarts: 1,
      influxOutageS: 5,
      durationS: 170,
      selfTest: true,
      log,
    });
    console.log(result.line);
    expect(result.unexpectedExits).toEqual([]);
    expect(result.verdict.problems).toEqual([]);
    expect(result).toMatchObject({ ok: true, settled: true });
    expect(result.verdict).toMatchObject({ lost: 0, duplicated: 0 });
    expect(result.verdict.completed + result.verdict.failed).toBe(150);
    expect(result.faults).toMatchObject({
      workerKills: 10,
      masterKills: 1,
      brokerRestarts: 1,
      influxOutages: 1,
    });
    // The checker is only worth something if it can fail: damaged on purpose, it must say so.
    expect(result.selfTest).toEqual({ lost: 1, duplicated: 1 });
  }, 240_000);

  it('real nmap against listeners on 127.0.0.1, embedded broker, workers killed mid-scan', async () => {
    const result = await runChaos({
      jobs: 6,
      workers: 2,
      seed: 7,
      broker: 'embedded',
      realNmap: true,
      workerKills: 2,
      masterKills: 0,
      influxOutageS: 0,
      durationS: 100,
      log,
    });
    console.log(result.line);
    expect(result.verdict.problems).toEqual([]);
    expect(result).toMatchObject({ ok: true, settled: true });
    expect(result.verdict).toMatchObject({ lost: 0, duplicated: 0, completed: 5, failed: 1 });
    expect(result.faults.workerKills).toBe(2);
  }, 150_000);
});
