import { describe, expect, it } from 'vitest';
import type { Status } from '../protocol/messages/status.ts';
import { renderStatus, table } from './status-view.ts';

const base: Status = {
  kind: 'S_STATUS',
  master: 'm1',
  ts: 100_000,
  round: 7,
  helloIntervalS: 5,
  workers: [],
  workersOmitted: 0,
  jobs: { pending: 1, running: 0, done: 3, failed: 0, removed: 0 },
  backlog: 0,
  progress: { ended: 3, total: 4, perMinute: 1.5, etaS: 40 },
  nextRuns: [],
};

describe('renderStatus', () => {
  it('flags a status older than three hello rounds as stale', () => {
    expect(renderStatus(base, 110_000)).not.toContain('STALE');
    expect(renderStatus(base, 100_000 + 18_000)).toContain(
      'STALE: no update for 18s (the master publishes every 5s): is it running?',
    );
  });

  it('shows progress with rate and ETA, and lists scheduled runs when there are any', () => {
    const text = renderStatus(
      { ...base, nextRuns: [{ job: 'j-1-1', command: '-sT 10.0.0.1', at: Date.UTC(2030, 0, 1) }] },
      100_000,
    );
    expect(text).toContain('progress 3/4 (75%) · 1.5/min · ETA 40s');
    expect(text).toContain('no workers yet');
    expect(text).toMatch(
      /NEXT RUN\s+JOB\s+COMMAND\n2030-01-01T00:00:00.000Z\s+j-1-1\s+-sT 10.0.0.1/,
    );
  });
});

describe('table', () => {
  it('pads every column but the last', () => {
    expect(table(['A', 'BB'], [['xxx', 'y']])).toBe('A    BB\nxxx  y');
  });
});
