import { describe, expect, it } from 'vitest';
import { createElementReader } from './xml-read.ts';
import { mapMeta, readRootAttributes, readRunStats } from './xml-run.ts';
import { codeOf } from '../testkit.ts';

const read = createElementReader();

describe('mapMeta and readRunStats', () => {
  it('requires the run start time', () => {
    expect(codeOf(() => mapMeta(readRootAttributes(read, '<nmaprun version="7.93"/>'), []))).toBe(
      'SCANMESH_BAD_XML',
    );
  });

  it('reads an interrupted runstats with what it has', () => {
    expect(readRunStats(read, '<runstats><finished exit="error"/></runstats>')).toEqual({
      end: null,
      elapsedS: null,
      exit: 'error',
      errorMessage: '',
      summary: '',
      hostsUp: 0,
      hostsDown: 0,
      hostsTotal: 0,
    });
  });
});
