import { describe, expect, it } from 'vitest';
import { isScanmeshError } from '../errors.ts';
import { firstRun, nextRun, parseSchedule } from './schedule.ts';

const S = 1000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;
// Fixed instants; UTC so that @every and seconds-field cron answers hold in any TZ.
const T0 = Date.UTC(2025, 0, 15, 12, 0, 0);

function rejection(text: string): string {
  try {
    parseSchedule(text);
  } catch (err) {
    expect(isScanmeshError(err, 'SCANMESH_BAD_COMMAND')).toBe(true);
    return (err as Error).message;
  }
  throw new Error(`${text} was accepted`);
}

describe('parseSchedule', () => {
  it('reads @every durations into a canonical spec that round-trips', () => {
    const cases: [string, number, string][] = [
      ['@every 6h', 6 * H, '@every 6h'],
      ['@every 30m', 30 * M, '@every 30m'],
      ['@every 90s', 90 * S, '@every 1m30s'],
      ['@every 1h30m', 90 * M, '@every 1h30m'],
      ['@every 1d', D, '@every 1d'],
      ['@every 48h', 2 * D, '@every 2d'],
      ['  @every   1s ', S, '@every 1s'],
      ['@every 366d', 366 * D, '@every 366d'],
    ];
    for (const [text, intervalMs, spec] of cases) {
      const s = parseSchedule(text);
      expect(s).toEqual({ kind: 'every', intervalMs, spec });
      expect(parseSchedule(s.spec)).toEqual(s);
    }
  });

  it('reads 5- and 6-field cron expressions in quotes, spacing normalised', () => {
    const five = parseSchedule('@cron "0  */6 * * *"');
    expect(five).toEqual({ kind: 'cron', expr: '0 */6 * * *', spec: '@cron "0 */6 * * *"' });
    expect(parseSchedule(five.spec)).toEqual(five);
    expect(parseSchedule('@cron "*/5 * * * * *"').spec).toBe('@cron "*/5 * * * * *"');
    expect(parseSchedule('@cron "0 3 * * MON-FRI"').spec).toBe('@cron "0 3 * * MON-FRI"');
  });

  it('refuses bad durations with a reason and an example', () => {
    for (const text of ['@every 0s', '@every 0', '@every', '@every 6', '@every 6x', '@every -1h']) {
      expect(rejection(text)).toMatch(/e\.g\. "@every 6h/);
    }
    expect(rejection('@every 1.5h')).toMatch(/duration/);
    expect(rejection('@every 30m1h')).toMatch(/largest first/);
    expect(rejection('@every 367d')).toMatch(/from 1s to 366d/);
    expect(rejection('@every 99999999999999999999h')).toMatch(/out of range/);
  });

  it('refuses bad cron expressions, naming what is wrong', () => {
    expect(rejection('@cron 0 3 * * *')).toMatch(/double quotes/);
    expect(rejection('@cron')).toMatch(/double quotes/);
    expect(rejection('@cron "0 3 * *"')).toMatch(/4 fields/);
    expect(rejection('@cron "0 0 3 * * * 2030"')).toMatch(/7 fields/);
    expect(rejection('@cron "@daily"')).toMatch(/1 fields/);
    expect(rejection('@cron "61 * * * *"')).toMatch(/not a valid cron expression.*minute/);
    expect(rejection('@cron "0 3 * * nope"')).toMatch(/not a valid cron expression/);
    expect(rejection('@cron "0 0 30 2 *"')).toMatch(/never matches/);
    expect(rejection('@daily')).toMatch(/@every DURATION or @cron/);
  });
});

describe('firstRun and nextRun', () => {
  const every6h = parseSchedule('@every 6h');

  it('@every runs at once, then on the grid of its first run', () => {
    expect(firstRun(every6h, T0)).toBe(T0);
    expect(nextRun(every6h, T0, T0)).toBe(T0 + 6 * H);
    // A run that took 10 minutes does not push the next one back.
    expect(nextRun(every6h, T0, T0 + 10 * M)).toBe(T0 + 6 * H);
    // Exactly on a slot: that slot is the current run, the next is one interval later.
    expect(nextRun(every6h, T0, T0 + 6 * H)).toBe(T0 + 12 * H);
  });

  it('@every skips the slots missed while the master was down', () => {
    expect(nextRun(every6h, T0, T0 + 3 * D + 1)).toBe(T0 + 3 * D + 6 * H);
    expect(nextRun(parseSchedule('@every 90s'), T0, T0 + 10 * M)).toBe(T0 + 10 * M + 30 * S);
  });

  it('@every before its anchor is the anchor itself', () => {
    expect(nextRun(every6h, T0, T0 - 5 * H)).toBe(T0);
  });

  it('seconds-field cron: next time strictly after, whatever the time zone', () => {
    const s = parseSchedule('@cron "*/5 * * * * *"');
    expect(nextRun(s, 0, T0)).toBe(T0 + 5 * S);
    expect(nextRun(s, 0, T0 + 1)).toBe(T0 + 5 * S);
    expect(nextRun(s, 0, T0 + 4 * S + 999)).toBe(T0 + 5 * S);
    expect(nextRun(s, 0, T0 + 5 * S)).toBe(T0 + 10 * S);
    // A cron line waits for its first time instead of running when it is added.
    expect(firstRun(s, T0 + 2 * S)).toBe(T0 + 5 * S);
  });

  it('five-field cron is read in the local time zone', () => {
    // Mid-January has no DST change in any zone, so local wall-clock times are unambiguous.
    const nightly = parseSchedule('@cron "0 3 * * *"');
    const noon = new Date(2025, 0, 15, 12, 0, 0).getTime();
    expect(firstRun(nightly, noon)).toBe(new Date(2025, 0, 16, 3, 0, 0).getTime());
    const afterThree = new Date(2025, 0, 16, 3, 0, 0, 1).getTime();
    expect(nextRun(nightly, noon, afterThree)).toBe(new Date(2025, 0, 17, 3, 0, 0).getTime());
  });
});
