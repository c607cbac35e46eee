import { InfluxDB, type ISchemaOptions } from 'influx';
import { describe, expect, it } from 'vitest';
import type { Change } from '../delta/changes.ts';
import { compareScans } from '../delta/scans.ts';
import { loadPair } from '../delta/fixture-pairs.ts';
import { PORT_CHANGE_MEASUREMENT, portChangePoints } from './port-change-points.ts';
import { schemas } from './points.ts';

/** The writer's schema for the measurement: the one list every point goes out with. */
const portChangeSchema = schemas.find((s) => s.measurement === PORT_CHANGE_MEASUREMENT)!;

const TS = '1795268898000000042';

function change(over: Partial<Change>): Change {
  return {
    host: '127.0.0.1',
    port: 31103,
    protocol: 'tcp',
    change: 'port-opened',
    before: 'closed',
    after: 'open',
    job: 'j-2',
    previousJob: 'j-1',
    noisy: false,
    ...over,
  };
}

describe('portChangePoints', () => {
  it('makes one point per change with exact tags, fields and the attempt timestamp', () => {
    const points = portChangePoints({ timestampNs: TS }, [
      change({}),
      change({ port: 31180, change: 'port-state', before: 'open', after: 'filtered', noisy: true }),
      change({
        port: null,
        protocol: null,
        change: 'host-down',
        before: 'up',
        after: 'down (not listed)',
      }),
    ]);
    expect(points).toEqual([
      {
        measurement: 'port_change',
        tags: { host: '127.0.0.1', port: '31103', protocol: 'tcp', change: 'port-opened' },
        fields: { before: 'closed', after: 'open', job: 'j-2', previous_job: 'j-1', noisy: 0 },
        timestamp: TS,
      },
      {
        measurement: 'port_change',
        tags: { host: '127.0.0.1', port: '31180', protocol: 'tcp', change: 'port-state' },
        fields: { before: 'open', after: 'filtered', job: 'j-2', previous_job: 'j-1', noisy: 1 },
        timestamp: TS,
      },
      {
        measurement: 'port_change',
        tags: { host: '127.0.0.1', port: '-', protocol: '-', change: 'host-down' },
        fields: {
          before: 'up',
          after: 'down (not listed)',
          job: 'j-2',
          previous_job: 'j-1',
          noisy: 0,
        },
        timestamp: TS,
      },
    ]);
  });

  it('writes a baseline with an empty previous job, and cleans control characters out of tags', () => {
    const [point] = portChangePoints({ timestampNs: TS }, [
      change({
        host: 'fe80::1\n',
        port: null,
        protocol: null,
        change: 'baseline',
        before: '',
        after: 'up',
        previousJob: '',
      }),
    ]);
    expect(point?.tags).toEqual({ host: 'fe80::1 ', port: '-', protocol: '-', change: 'baseline' });
    expect(point?.fields).toMatchObject({ before: '', previous_job: '' });
  });

  it('serialises with noisy as an integer and before/after as strings (line protocol)', () => {
    // parsePoint is what writePoints runs, with our schema: no network involved. The schema is
    // frozen (see points.ts), so the client gets a copy.
    const influx = new InfluxDB({
      database: 'db',
      schema: [structuredClone(portChangeSchema) as ISchemaOptions],
    });
    const [point] = portChangePoints({ timestampNs: TS }, [
      change({ noisy: true, before: 'open "x"' }),
    ]);
    const parsed = influx.parsePoint(point ?? {});
    expect(Object.fromEntries(parsed.fieldsPairs)).toEqual({
      before: '"open \\"x\\""',
      after: '"open"',
      job: '"j-2"',
      previous_job: '"j-1"',
      noisy: '1i',
    });
    expect(parsed.castedTimestamp).toBe(TS);
    expect(Object.isFrozen(portChangeSchema.fields)).toBe(true);
  });

  it('gives the changes of a real pair distinct series at one timestamp', () => {
    const changes = compareScans(...loadPair('open-close')).hosts.flatMap((h) => h.changes);
    const points = portChangePoints({ timestampNs: TS }, changes);
    expect(points.map((p) => [p.tags?.port, p.tags?.change, p.timestamp])).toEqual([
      ['31102', 'port-closed', TS],
      ['31103', 'port-opened', TS],
    ]);
  });
});
